#!/usr/bin/env bash
# Device run for issues 4 and 5 (see docs/h100.md): `bash bench/h100-run2.sh squeeze fit-synthetic` (modes run in order).
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
rm -rf dist && xz -dc .device/dist.tar.xz | tar -xf -   # always this build: a warm machine keeps the last one
export LD_LIBRARY_PATH=$PWD/.device/redis:${LD_LIBRARY_PATH:-}
for mode in "$@"; do
case "$mode" in
  squeeze)
    .device/redis/redis-server --port 6379 --save '' --appendonly no --daemonize yes --logfile "$OUT/redis.log"
    sleep 1
    export REDIS_URL=redis://127.0.0.1:6379 LOG_LEVEL=info
    node dist/apps/api/src/main.js > "$OUT/api.log" 2>&1 &
    sleep 3
    timeout 200 node dist/bench/squeeze.js http://127.0.0.1:8080 240 768 15 > "$OUT/squeeze.jsonl" 2> "$OUT/squeeze-worker.log"
    echo "squeeze rc=$?" >> "$OUT/run.log"
    ;;
  fit-ppocr) timeout "${FIT_TIMEOUT:-330}" node dist/bench/vram-fit.js webgpu ppocr > "$OUT/fit-ppocr.jsonl" 2> "$OUT/fit-ppocr.err"; echo "fit rc=$?" >> "$OUT/run.log" ;;
  fit-synthetic) timeout "${FIT_TIMEOUT:-330}" node dist/bench/vram-fit.js webgpu synthetic > "$OUT/fit-synthetic.jsonl" 2> "$OUT/fit-synthetic.err"; echo "fit rc=$?" >> "$OUT/run.log" ;;
esac
done
nvidia-smi --query-gpu=memory.used,memory.total --format=csv >> "$OUT/run.log"
