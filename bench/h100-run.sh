#!/usr/bin/env bash
# On the GPU machine (device tool): Redis from .device/redis, API + worker on the real GPU, an `auto` job,
# then the memory/throughput sweep. Everything lands in $OUT. See docs/h100.md for the figures.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
rm -rf dist && xz -dc .device/dist.tar.xz | tar -xf -   # always this build: a warm machine keeps the last one
export LD_LIBRARY_PATH=$PWD/.device/redis:${LD_LIBRARY_PATH:-}
.device/redis/redis-server --port 6379 --save '' --appendonly no --daemonize yes --logfile "$OUT/redis.log" || echo "redis failed" >> "$OUT/run.log"
sleep 1
export REDIS_URL=redis://127.0.0.1:6379 WORKER_DEVICE=gpu LOG_LEVEL=info
node dist/apps/api/src/main.js > "$OUT/api.log" 2>&1 &
node dist/apps/worker/src/main.js > "$OUT/worker.log" 2>&1 &
for i in $(seq 1 120); do grep -q '"worker ready"' "$OUT/worker.log" && break; sleep 1; done
node dist/bench/submit-samples.js http://127.0.0.1:8080 12 auto false > "$OUT/job-auto.json" 2>&1
node dist/bench/submit-samples.js http://127.0.0.1:8080 12 fp32 false > "$OUT/job-fp32.json" 2>&1
node dist/bench/submit-samples.js http://127.0.0.1:8080 2 bf16 false > "$OUT/job-bf16.json" 2>&1
node dist/bench/submit-samples.js http://127.0.0.1:8080 12 auto true > "$OUT/job-auto-allowcpu.json" 2>&1
curl -s http://127.0.0.1:8080/v1/workers > "$OUT/workers.json" 2>/dev/null || node -e "fetch('http://127.0.0.1:8080/v1/workers').then(r=>r.text()).then(t=>require('fs').writeFileSync('$OUT/workers.json',t))"
kill %1 %2 2>/dev/null; sleep 1
timeout 240 node dist/bench/memory-sweep.js ppocr-v4-det webgpu 1,2,4,8,16,32 fp16,fp32 > "$OUT/sweep.jsonl" 2>&1
nvidia-smi >> "$OUT/run.log" 2>&1
