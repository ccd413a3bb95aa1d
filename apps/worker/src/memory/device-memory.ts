import os from 'node:os';
import type { DeviceCapability } from '#contracts';
import type { NvidiaSmi } from '../probe/nvidia-smi.js';

/** Live memory of the device a worker drives, and the peak reached while a batch runs. */
export interface DeviceMemory {
  /**
   * Bytes a new batch can use: free device memory plus what this process already holds and will reuse
   * (onnxruntime and WebGPU keep buffers cached after a run, so they show as "used" but are ours).
   */
  availableBytes(): Promise<number>;
  /** Runs `fn` while sampling memory; returns its result and the peak bytes this process used above its baseline. */
  track<T>(fn: () => Promise<T>): Promise<{ result: T; peakBytes: number }>;
}

/**
 * GPU memory from nvidia-smi. WebGPU (Vulkan) processes are not listed per process, so the worker reads
 * device-wide figures: its baseline is the memory used when it started, and what it holds is the peak it
 * reached above that baseline while its own batches ran.
 */
export class GpuMemory implements DeviceMemory {
  private baselineUsed = 0;
  private ownHeld = 0;
  constructor(private readonly smi: NvidiaSmi, private readonly index: number, private readonly sampleMs = 50) {}

  async init(): Promise<void> {
    this.baselineUsed = (await this.smi.memory(this.index)).usedBytes;
  }

  async availableBytes(): Promise<number> {
    const { usedBytes, freeBytes } = await this.smi.memory(this.index);
    // If another process grew since our last batch, used - baseline exceeds what we hold: count only ours.
    return freeBytes + Math.min(this.ownHeld, Math.max(0, usedBytes - this.baselineUsed));
  }

  async track<T>(fn: () => Promise<T>): Promise<{ result: T; peakBytes: number }> {
    let peakUsed = (await this.smi.memory(this.index)).usedBytes;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakUsed = Math.max(peakUsed, (await this.smi.memory(this.index).catch(() => ({ usedBytes: 0 }))).usedBytes);
        await new Promise((r) => setTimeout(r, this.sampleMs));
      }
    })();
    try {
      const result = await fn();
      return { result, peakBytes: Math.max(0, peakUsed - this.baselineUsed) };
    } finally {
      sampling = false;
      await sampler;
      this.ownHeld = Math.max(this.ownHeld, peakUsed - this.baselineUsed);
    }
  }
}

/**
 * CPU "device" memory: a budget (CPU_MEMORY_GB, default half the machine) minus this process's growth in
 * resident memory since start. Peaks come from RSS sampled while the batch runs.
 */
export class CpuMemory implements DeviceMemory {
  private readonly baselineRss = process.memoryUsage.rss();
  constructor(readonly budgetBytes: number, private readonly sampleMs = 20) {}

  static defaultBudget(): number {
    return Math.floor(os.totalmem() / 2);
  }

  async availableBytes(): Promise<number> {
    // Memory onnxruntime's arena keeps after a run is reused by the next run, so it is not subtracted.
    return this.budgetBytes;
  }

  async track<T>(fn: () => Promise<T>): Promise<{ result: T; peakBytes: number }> {
    const before = process.memoryUsage.rss();
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), this.sampleMs);
    try {
      const result = await fn();
      peak = Math.max(peak, process.memoryUsage.rss());
      return { result, peakBytes: Math.max(0, peak - Math.min(before, this.baselineRss)) };
    } finally {
      clearInterval(timer);
    }
  }
}

/**
 * The memory of the device this worker drives, ready to use (a GPU's baseline is read now, before any session
 * allocates). Declared GPUs run on the CPU provider, so their memory is a CPU budget of the declared size.
 */
export async function openDeviceMemory(device: DeviceCapability, smi: NvidiaSmi, cpuBudget: number): Promise<DeviceMemory> {
  if (device.source === 'probed' && device.kind === 'gpu' && device.gpu) {
    const memory = new GpuMemory(smi, device.gpu.index);
    await memory.init();
    return memory;
  }
  return new CpuMemory(device.source === 'declared' && device.kind === 'gpu' ? device.totalBytes : cpuBudget);
}
