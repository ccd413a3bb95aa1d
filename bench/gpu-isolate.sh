#!/usr/bin/env bash
# Runs a command that sees only GPU <index> (issue 6 probe): a private mount namespace in which /dev holds the
# NVIDIA control nodes and /dev/nvidia<index> only, and /proc/driver/nvidia/gpus lists that card only — what
# container runtimes do for NVIDIA_VISIBLE_DEVICES. Needs root and util-linux `unshare`.
# Usage: bash bench/gpu-isolate.sh <index> <command…>
set -euo pipefail
keep=$1; shift
bus=$(nvidia-smi --query-gpu=index,pci.bus_id --format=csv,noheader | awk -F', ' -v k="$keep" '$1==k {print tolower($2)}')
[ -n "$bus" ] || { echo "gpu-isolate: no GPU $keep" >&2; exit 78; }
exec unshare --mount --propagation private bash -s "$keep" "$bus" "$@" <<'INNER'
set -euo pipefail
keep=$1; bus=$2; shift 2
nd=$(mktemp -d) && mount -t tmpfs gpu-isolate "$nd"
for n in null zero full random urandom tty nvidiactl nvidia-uvm nvidia-uvm-tools nvidia-modeset "nvidia$keep"; do
  [ -e "/dev/$n" ] || continue
  touch "$nd/$n" && mount --bind "/dev/$n" "$nd/$n"
done
mkdir -p "$nd/shm" && mount --bind /dev/shm "$nd/shm"
mount --move "$nd" /dev
# /proc/driver/nvidia/gpus/<bus id> for every other card: hidden under an empty tmpfs.
for d in /proc/driver/nvidia/gpus/*; do
  [ -d "$d" ] || continue
  case "$(basename "$d" | tr 'A-F' 'a-f')" in *"${bus#00000000:}"*|*"$bus"*) ;; *) mount -t tmpfs hidden "$d" ;; esac
done
exec "$@"
INNER
