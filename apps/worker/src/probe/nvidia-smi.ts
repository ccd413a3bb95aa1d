import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { GpuInfo } from '#contracts';

const run = promisify(execFile);
const MIB = 1024 * 1024;

/** Parses `nvidia-smi --query-gpu=index,uuid,name,compute_cap,memory.total,memory.free,driver_version --format=csv,noheader,nounits`. */
export function parseGpuQuery(csv: string): GpuInfo[] {
  return csv
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [index, uuid, name, cc, total, free, driver] = line.split(',').map((s) => s.trim());
      return {
        index: Number(index), uuid: uuid!, name: name!, computeCapability: Number(cc),
        totalBytes: Number(total) * MIB, freeBytes: Number(free) * MIB, driver: driver!,
      };
    });
}

/** nvidia-smi behind one small class: GPU inventory and live memory. No nvidia-smi means no NVIDIA GPU. */
export class NvidiaSmi {
  constructor(private readonly binary = 'nvidia-smi') {}

  async listGpus(): Promise<GpuInfo[]> {
    try {
      const { stdout } = await run(this.binary, [
        '--query-gpu=index,uuid,name,compute_cap,memory.total,memory.free,driver_version', '--format=csv,noheader,nounits',
      ], { timeout: 10_000 });
      return parseGpuQuery(stdout);
    } catch {
      return [];
    }
  }

  /** Device-wide used and free bytes of one GPU (Vulkan/WebGPU processes are not listed per process). */
  async memory(index: number): Promise<{ usedBytes: number; freeBytes: number; totalBytes: number }> {
    const { stdout } = await run(this.binary, [`--id=${index}`, '--query-gpu=memory.used,memory.free,memory.total', '--format=csv,noheader,nounits'], { timeout: 5000 });
    const [used, free, total] = stdout.trim().split(',').map((s) => Number(s.trim()) * MIB);
    return { usedBytes: used!, freeBytes: free!, totalBytes: total! };
  }
}
