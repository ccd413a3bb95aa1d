#!/usr/bin/env bash
# Device runs for issues 4, 5 and 6 (see docs/h100.md): `bash bench/h100-run2.sh squeeze fit-synthetic` (modes run in order;
# which-gpu and multi-gpu need a machine with several GPUs).
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
rm -rf dist && xz -dc .device/dist.tar.xz | tar -xf -   # always this build: a warm machine keeps the last one
export LD_LIBRARY_PATH=$PWD/.device/redis:${LD_LIBRARY_PATH:-}
# Redis and the API for the modes that submit jobs; started once, whichever mode needs them first.
stack_up() {
  pgrep -x redis-server >/dev/null || { .device/redis/redis-server --port 6379 --save '' --appendonly no --daemonize yes --logfile "$OUT/redis.log"; sleep 1; }
  export REDIS_URL=redis://127.0.0.1:6379 LOG_LEVEL=info
  pgrep -f dist/apps/api/src/main.js >/dev/null || { node dist/apps/api/src/main.js > "$OUT/api.log" 2>&1 & sleep 3; }
}
for mode in "$@"; do
case "$mode" in
  squeeze)
    stack_up
    timeout 200 node dist/bench/squeeze.js http://127.0.0.1:8080 240 768 15 > "$OUT/squeeze.jsonl" 2> "$OUT/squeeze-worker.log"
    echo "squeeze rc=$?" >> "$OUT/run.log"
    ;;
  # e2e-<bufferCache>: API + Redis + one worker under that WebGPU buffer cache; a warm-up job (the worker
  # calibrates on first contact) then one undisturbed job of 240 pages in fp32.
  e2e-*)
    cache=${mode#e2e-}
    stack_up
    WEBGPU_BUFFER_CACHE=$cache SQUEEZE_SCENARIOS=undisturbed SQUEEZE_PRECISION=fp32 timeout 240 node dist/bench/squeeze.js http://127.0.0.1:8080 240 > "$OUT/$mode.jsonl" 2> "$OUT/$mode-worker.log"
    echo "$mode rc=$?" >> "$OUT/run.log" ;;
  # which-gpu: on a multi-GPU machine, which card a WebGPU process lands on by default, with CUDA_VISIBLE_DEVICES,
  # and inside the worker host's GPU namespace for each index (issue 6: pinning a worker to its card).
  which-gpu)
    last=$(( $(nvidia-smi -L | wc -l) - 1 ))
    # Each probe is also watched from outside (inside an isolated namespace nvidia-smi sees one card only):
    # the peak growth of memory.used per host index goes to which-gpu-outside.jsonl.
    probe() {
      local label=$1; shift
      nvidia-smi --query-gpu=index,memory.used --format=csv,noheader,nounits -lms 50 > "/tmp/smi-$label.csv" & local smi=$!
      sleep 0.5; "$@" >> "$OUT/which-gpu.jsonl" 2>> "$OUT/which-gpu.err"; sleep 0.3; kill $smi
      awk -F', ' -v l="$label" '{ if (!($1 in lo) || $2<lo[$1]) lo[$1]=$2; if ($2>hi[$1]) hi[$1]=$2 }
        END { printf "{\"label\":\"%s\",\"grewMiB\":{", l; s=""; for (i in hi) { printf "%s\"%s\":%d", s, i, hi[i]-lo[i]; s="," } print "}}" }' \
        "/tmp/smi-$label.csv" >> "$OUT/which-gpu-outside.jsonl"
    }
    probe default node dist/bench/which-gpu.js default
    probe "cuda-visible-$last" env CUDA_VISIBLE_DEVICES=$last node dist/bench/which-gpu.js "cuda-visible-$last"
    for i in $(seq 0 "$last"); do
      probe "isolated-$i" node dist/apps/worker/src/host/run-on-gpu.js "$i" bash -c "nvidia-smi -L >&2; node dist/bench/which-gpu.js isolated-$i"
    done
    echo "which-gpu rc=$?" >> "$OUT/run.log" ;;
  # multi-gpu: the worker host on GPU 0 alone, then on all GPUs, JOBS jobs of PAGES pages each (bench/multi-gpu.ts).
  multi-gpu)
    stack_up
    timeout "${MULTI_TIMEOUT:-420}" node dist/bench/multi-gpu.js http://127.0.0.1:8080 "${JOBS:-8}" "${PAGES:-60}" > "$OUT/multi-gpu.jsonl" 2> "$OUT/multi-gpu-workers.log"
    echo "multi-gpu rc=$?" >> "$OUT/run.log" ;;
  fit-ppocr) timeout "${FIT_TIMEOUT:-330}" node dist/bench/vram-fit.js webgpu ppocr > "$OUT/fit-ppocr.jsonl" 2> "$OUT/fit-ppocr.err"; echo "fit rc=$?" >> "$OUT/run.log" ;;
  fit-synthetic) timeout "${FIT_TIMEOUT:-330}" node dist/bench/vram-fit.js webgpu synthetic > "$OUT/fit-synthetic.jsonl" 2> "$OUT/fit-synthetic.err"; echo "fit rc=$?" >> "$OUT/run.log" ;;
  # fit-<subject>-<precision>[-<bufferCache>]: one subject and precision, one process (the cache mode is per process).
  fit-*-*)
    IFS=- read -r _ subject precision cache <<< "$mode"
    WEBGPU_BUFFER_CACHE=${cache:-lazyRelease} timeout "${FIT_TIMEOUT:-330}" node dist/bench/vram-fit.js webgpu "$subject" "$precision" > "$OUT/$mode.jsonl" 2> "$OUT/$mode.err"
    echo "$mode rc=$?" >> "$OUT/run.log" ;;
esac
done
nvidia-smi --query-gpu=memory.used,memory.total --format=csv >> "$OUT/run.log"
