#!/usr/bin/env bash
# Runs on the GPU machine, onnxruntime's CUDA provider (README.md beside this file says how to get there):
#   bash bench/cuda/run.sh <mode>...     modes run in order; figures go to $OUT/results.jsonl (JSON lines)
# Modes:
#   probe        what the device proves (self-tests, variants fitted and measured), TF32 off and on (gpuq probe)
#   precisions   API + Redis + one worker; PP-OCRv4 in bf16, fp16 and fp32 side by side (bench/precisions.ts):
#                calibrated first (by the worker on first contact, or by `gpuq calibrate --max-batch N` when
#                CALIBRATE_MAX_BATCH is set), then measured on a freshly started worker
#   seed         a worker whose variants keep Conv in float32: a bf16 job is caught (bench/seed.ts), first with
#                start-up variant checks off (caught per job), then on (caught at start)
#   squeeze      another process holds all but SQUEEZE_KEEP_MIB of the card while a cold worker meets a job (bench/squeeze.ts);
#                with SQUEEZE_SCALE_PROFILE (e.g. 0.25) the stored profile under-asks and the first batch runs out for real;
#                SQUEEZE_KEEPS (e.g. 400,150) runs it once per amount left free; SQUEEZE_TAKE_AFTER_START=1 lets the
#                worker start on a free card and takes the card before the job comes
# Redis and the API are started once (setsid) and stay up for later calls while the machine is held.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
R=$OUT/results.jsonl; LOG=$OUT/run.log
API=http://127.0.0.1:8080
export PATH=/tmp/gpuq-rt/redis:$PATH   # enter-cuda.sh unpacks redis-server there
export REDIS_URL=redis://127.0.0.1:6379 LOG_LEVEL=${LOG_LEVEL:-info} MODEL_CACHE_DIR=/tmp/gpuq-data/models BLOB_DIR=/tmp/gpuq-data/blobs
WLOG=/tmp/gpuq-worker.log; WPID=/tmp/gpuq-worker.pid
note() { echo "$(date +%T) $*" | tee -a "$LOG"; }
as_line() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.stringify({kind:process.argv[1],...JSON.parse(s)}))}catch(e){console.log(JSON.stringify({kind:process.argv[1],unparsed:s.slice(0,2000)}))}})' "$1"; }
wait_for() { # seconds, command...: true once the command succeeds
  local until=$(( $(date +%s) + $1 )); shift
  while ! "$@" 2>/dev/null; do [ "$(date +%s)" -ge "$until" ] && return 1; sleep 0.5; done
}
api_ready() { node -e "fetch('$API/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; }
stack_up() {
  pgrep -x redis-server >/dev/null || setsid redis-server --port 6379 --save '' --appendonly no --daemonize yes --logfile /tmp/gpuq-redis.log
  pgrep -f dist/apps/api/src/main.js >/dev/null || { setsid node dist/apps/api/src/main.js >> /tmp/gpuq-api.log 2>&1 < /dev/null & }
  wait_for 30 api_ready || note "API not ready"
}
worker_down() {
  [ -f "$WPID" ] || return 0
  kill -TERM "$(cat "$WPID")" 2>/dev/null
  wait_for 90 bash -c "! kill -0 $(cat "$WPID")" || kill -KILL "$(cat "$WPID")" 2>/dev/null
  rm -f "$WPID"
}
worker_up() { # env assignments for the worker
  worker_down
  local from; from=$(wc -l < "$WLOG" 2>/dev/null || echo 0)
  setsid env "$@" node dist/apps/worker/src/main.js >> "$WLOG" 2>&1 < /dev/null & echo $! > "$WPID"
  if wait_for 300 bash -c "tail -n +$((from + 1)) $WLOG | grep -q '\"worker ready\"'"; then note "worker up ($*)"; else note "worker not ready ($*)"; tail -n 5 "$WLOG" >> "$LOG"; fi
}

nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader >> "$LOG"
for mode in "$@"; do
  note "mode $mode"
  case "$mode" in
    probe)
      timeout 300 node dist/apps/cli/src/main.js probe 2>> "$LOG" | as_line probe >> "$R"
      CUDA_TF32=true VARIANT_CHECKS=false timeout 120 node dist/apps/cli/src/main.js probe 2>> "$LOG" | as_line probe-tf32 >> "$R" ;;
    precisions)
      # Calibrate (CALIBRATE_MAX_BATCH bounds the sweep's device time), then measure on a fresh worker.
      stack_up
      if [ -n "${CALIBRATE_MAX_BATCH:-}" ]; then
        worker_down
        for p in $(echo "${PRECISIONS:-bf16,fp16,fp32}" | tr , ' '); do
          timeout 300 node dist/apps/cli/src/main.js calibrate --model ppocr-v4-det --precision "$p" --max-batch "$CALIBRATE_MAX_BATCH" 2>> "$LOG" | as_line calibrate >> "$R"
        done
      else
        worker_up GPU_PROVIDER=auto
        PHASE=calibrate timeout "${PRECISIONS_TIMEOUT:-420}" node dist/bench/precisions.js "$API" 1 "${PRECISIONS:-bf16,fp16,fp32}" samples >> "$R" 2>> "$LOG"
      fi
      worker_up GPU_PROVIDER=auto
      nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader >> "$LOG"
      PHASE=measure timeout 300 node dist/bench/precisions.js "$API" "${PAGES:-96}" "${PRECISIONS:-bf16,fp16,fp32}" samples >> "$R" 2>> "$LOG" ;;
    seed)
      stack_up
      worker_up VARIANT_KEEP_FP32_OPS=Conv VARIANT_CHECKS=false
      timeout 240 node dist/bench/seed.js "$API" 16 samples >> "$R" 2>> "$LOG"
      worker_up VARIANT_KEEP_FP32_OPS=Conv
      timeout 120 node dist/bench/seed.js "$API" 16 samples >> "$R" 2>> "$LOG"
      worker_down ;;
    squeeze)
      stack_up; worker_down
      # SQUEEZE_SCALE_PROFILE < 1 makes the stored profile under-ask (bench/squeeze.ts): a real out-of-memory error
      # on the cold worker's first batch, which the loop has to recover from.
      for keep in $(echo "${SQUEEZE_KEEPS:-${SQUEEZE_KEEP_MIB:-4000}}" | tr , ' '); do
        echo "{\"kind\":\"squeeze-keep\",\"keepMiB\":$keep}" >> "$R"
        AUTO_CALIBRATE=false VARIANT_CHECKS=false SQUEEZE_SCENARIOS=squeeze-cold SQUEEZE_PRECISION=${SQUEEZE_PRECISION:-fp32} timeout "${SQUEEZE_TIMEOUT:-300}" \
          node dist/bench/squeeze.js "$API" "${SQUEEZE_PAGES:-96}" "$keep" "${SQUEEZE_HOLD_S:-30}" >> "$R" 2>> "$WLOG"
      done ;;
    *) note "unknown mode $mode" ;;
  esac
  note "mode $mode done (rc $?)"
done
tail -c 12000000 "$WLOG" > "$OUT/worker.log" 2>/dev/null
tail -c 2000000 /tmp/gpuq-api.log > "$OUT/api.log" 2>/dev/null
nvidia-smi --query-gpu=memory.used,memory.total --format=csv,noheader >> "$LOG"
