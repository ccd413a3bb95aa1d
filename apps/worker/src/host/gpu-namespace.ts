import { readFile } from 'node:fs/promises';

/**
 * Pinning a process to one GPU by what it can see, as container runtimes do for NVIDIA_VISIBLE_DEVICES: a
 * private mount namespace whose /dev holds the NVIDIA control nodes and this card's /dev/nvidia<minor> only,
 * and whose /proc/driver/nvidia/gpus lists this card only. The driver then enumerates one GPU, so Dawn's
 * default WebGPU adapter is this card (onnxruntime-node 1.29 and 1.30 have no adapter index), and nvidia-smi inside
 * shows it as GPU 0 with its real UUID and bus id.
 *
 * /dev is made read-only: as root, the NVIDIA libraries run nvidia-modprobe, which recreates missing device
 * nodes. Seen on a two-H100 host: with a writable /dev, a process "isolated" to GPU 1 still ran on GPU 0.
 */
export interface GpuNamespace {
  /** Minor number of the card's /dev/nvidia<minor> node (not always its nvidia-smi index). */
  minor: number;
  /** The card's directory name under /proc/driver/nvidia/gpus, e.g. `0000:00:07.0`. */
  procBusId: string;
}

// Runs inside `unshare --mount --propagation private`; $1 minor, $2 /proc bus id, then the command. A setup
// that fails exits 78 (EXIT_REFUSED): the worker host does not restart what cannot start.
const ENTER = String.raw`
set -Eeuo pipefail
trap 'echo "gpuq-gpu-namespace: setup failed at line $LINENO: $BASH_COMMAND" >&2; exit 78' ERR
minor=$1; bus=$2; shift 2
nd=$(mktemp -d) && mount -t tmpfs gpuq-gpu-namespace "$nd"
for n in null zero full random urandom tty nvidiactl nvidia-uvm nvidia-uvm-tools nvidia-modeset "nvidia$minor"; do
  [ -e "/dev/$n" ] || continue
  touch "$nd/$n" && mount --bind "/dev/$n" "$nd/$n"
done
ln -s /proc/self/fd "$nd/fd" && ln -s fd/0 "$nd/stdin" && ln -s fd/1 "$nd/stdout" && ln -s fd/2 "$nd/stderr"
mkdir "$nd/shm" && mount --bind /dev/shm "$nd/shm"
mount -o remount,ro,bind "$nd"
mount --move "$nd" /dev && rmdir "$nd"
for d in /proc/driver/nvidia/gpus/*; do
  if [ -d "$d" ] && [ "$(basename "$d")" != "$bus" ]; then mount -t tmpfs gpuq-hidden "$d"; fi
done
exec "$@"
`;

/** The argv that runs `command` inside the card's namespace (needs root and util-linux `unshare`). */
export function namespaceArgv(ns: GpuNamespace, command: string[]): string[] {
  return ['unshare', '--mount', '--propagation', 'private', 'bash', '-c', ENTER, 'gpuq-gpu-namespace', String(ns.minor), ns.procBusId, ...command];
}

/** nvidia-smi's `00000000:00:07.0` as the driver's /proc directory names it: `0000:00:07.0`. */
export function procBusId(pciBusId: string): string {
  return pciBusId.toLowerCase().replace(/^0{4}(?=[0-9a-f]{4}:)/, '');
}

/** Reads the card's device minor from /proc/driver/nvidia/gpus/<bus>/information. */
export async function gpuNamespaceOf(pciBusId: string, procRoot = '/proc/driver/nvidia/gpus'): Promise<GpuNamespace> {
  const bus = procBusId(pciBusId);
  const info = await readFile(`${procRoot}/${bus}/information`, 'utf8').catch((err: Error) => {
    throw new Error(`GPU ${pciBusId}: cannot read its driver information (${err.message}); a GPU namespace needs the NVIDIA kernel driver's /proc entries`);
  });
  const minor = /^Device Minor:\s*(\d+)/m.exec(info)?.[1];
  if (minor === undefined) throw new Error(`GPU ${pciBusId}: no "Device Minor" in ${procRoot}/${bus}/information`);
  return { minor: Number(minor), procBusId: bus };
}
