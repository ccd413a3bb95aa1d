import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import type { DeviceCapability } from '#contracts';
import type { MemoryMonitor, NvidiaSmi, ProcessSample } from '../probe/nvidia-smi.js';

/** Live memory of the device a worker drives, and the peak reached while a batch runs. */
export interface DeviceMemory {
  /**
   * Bytes a new batch can use: free device memory plus what this process already holds and will reuse
   * (onnxruntime and WebGPU keep buffers cached after a run, so they show as "used" but are ours).
   */
  availableBytes(): Promise<number>;
  /**
   * Runs `fn` while sampling memory: its result, and memory at the peak of the run. `settle` starts from a fresh
   * reading and waits for the first reading after the run (up to one sampling interval each) so that a stale
   * reading before and a peak in its last moments are both handled: calibration wants it; a job's batches skip
   * it, as the waits would slow every small batch.
   */
  track<T>(fn: () => Promise<T>, opts?: TrackOptions): Promise<Tracked<T>>;
  /**
   * The same device as one session sees it. onnxruntime's CUDA provider gives each session an arena of its own,
   * which keeps what it grew to: memory one session holds is free to that session's next batch but not to
   * another's. Elsewhere (WebGPU's buffer cache is per process; the CPU has a budget) every session sees the whole.
   */
  forSession(key: string): DeviceMemory;
  /**
   * True where memory a run grew stays held until the process ends (the CUDA provider's arena): a size measured
   * after a larger one reads the larger one's memory, so its peak is not its own.
   */
  readonly keepsGrowth: boolean;
}

export interface TrackOptions {
  settle?: boolean;
  /**
   * The input's shape, for a session's view (CUDA): the first SETTLED_RUNS_PER_SHAPE runs of a shape on a session
   * settle their readings even when `settle` is off (see there).
   */
  shape?: string;
}

/**
 * A session's arena grows on the first two runs of a new shape: the first allocates tensor by tensor (and cuDNN
 * searches its algorithms), the second allocates the block onnxruntime's memory pattern planned from the first.
 * That growth can show in a reading only after the run ends, so those runs wait for the reading after them. On the
 * H200, unsettled, a job's batch of 3 in fp32 read 616 MiB where the same size on a new session, settled over two
 * runs, read 1,120 MiB; the card's own reading (4.6 GB with three sessions) agreed with the settled figures.
 */
const SETTLED_RUNS_PER_SHAPE = 2;

export interface Tracked<T> {
  result: T;
  /** Peak bytes this process used above its start-up baseline, what it held from earlier runs included. */
  peakBytes: number;
  /**
   * Peak bytes above what was in use when the run started: what this run had to add. After a calibration
   * the process keeps gigabytes that later small batches reuse, so `peakBytes` of a 4-image batch read
   * 6.2 GB on the H100 (the 32-image calibration batch's): drift is judged on this figure instead.
   */
  growthBytes: number;
}

/**
 * GPU memory from nvidia-smi. One nvidia-smi process reads the card every `sampleMs` for the worker's life; a
 * batch's peak is the highest reading between its start and the first reading after it ends.
 * - Device-wide (WebGPU: Vulkan processes are not listed per process): the worker's baseline is the memory used
 *   when it started, and what it holds is the peak it reached above that baseline while its own batches ran.
 * - Per process (CUDA, `pid` given): nvidia-smi lists CUDA processes with their own usage, read by a second
 *   monitor, so the worker's peaks and holdings are its own even while another process grows on the card. The
 *   CUDA provider's arena keeps what it grew to (in steps: 270 MB, 404 MB, 675 MB, 1.2 GB, 2.3 GB, 4.4 GB on the
 *   H200), which the process reading shows as held. Where no process reading comes (nvidia-smi cannot list
 *   processes, as in some containers), the device-wide figures are used.
 */
export class GpuMemory implements DeviceMemory {
  private baselineUsed = 0;
  private processBaseline?: number;
  private ownHeld = 0;
  /** Per session (CUDA): what its arena grew to, summed over its runs' growth. */
  private readonly heldBy = new Map<string, number>();
  /** Per session (CUDA): how often it ran each input shape (see TrackOptions.shape). */
  private readonly shapesBy = new Map<string, Map<string, number>>();
  private monitor?: MemoryMonitor;
  private processMonitor?: MemoryMonitor<ProcessSample>;
  constructor(private readonly smi: NvidiaSmi, private readonly gpuId: number | string, private readonly sampleMs = 50, private readonly pid?: number) {}

  async init(): Promise<void> {
    this.baselineUsed = (await this.read()).usedBytes;
    this.processBaseline = (await this.liveProcess())?.latest()?.usedBytes;
  }

  /** Whether peaks and holdings are this process's own (per-process readings), not inferred from the card's. */
  get perProcess(): boolean {
    return this.processBaseline !== undefined && !!this.processMonitor?.alive;
  }

  forSession(key: string): DeviceMemory {
    const self = this;
    return {
      availableBytes: () => this.availableBytes(key),
      track: (fn, opts) => this.track(fn, { ...opts, session: key }),
      forSession: (other) => this.forSession(other),
      get keepsGrowth() {
        return self.keepsGrowth;
      },
    };
  }

  get keepsGrowth(): boolean {
    return this.perProcess;
  }

  /** Free memory plus what this process holds and will reuse: all of it, or (CUDA) what `session`'s own arena holds. */
  async availableBytes(session?: string): Promise<number> {
    const { usedBytes, freeBytes } = await this.read();
    if (this.perProcess && session !== undefined) return freeBytes + (this.heldBy.get(session) ?? 0);
    const own = this.perProcess ? this.processMonitor!.latest()?.usedBytes : undefined;
    if (own !== undefined) return freeBytes + Math.max(0, own - this.processBaseline!);
    // If another process grew since our last batch, used - baseline exceeds what we hold: count only ours.
    return freeBytes + Math.min(this.ownHeld, Math.max(0, usedBytes - this.baselineUsed));
  }

  async track<T>(fn: () => Promise<T>, { settle: asked = true, session, shape }: TrackOptions & { session?: string } = {}): Promise<Tracked<T>> {
    const own = session !== undefined && this.perProcess;
    const shapes = own && shape !== undefined ? this.shapesBy.get(session!) ?? new Map<string, number>() : undefined;
    const runsOfShape = shapes?.get(shape!) ?? 0;
    const settle = asked || (shapes !== undefined && runsOfShape < SETTLED_RUNS_PER_SHAPE);
    if (shapes) this.shapesBy.set(session!, shapes.set(shape!, runsOfShape + 1));
    const monitor = (this.perProcess ? await this.liveProcess() : undefined) ?? (await this.live());
    const baseline = this.perProcess && monitor === this.processMonitor ? this.processBaseline! : this.baselineUsed;
    const readingWaitMs = 5 * this.sampleMs + 1000;
    // Settled tracking (calibration) starts from a reading taken now, not the monitor's latest, which can be up to
    // one interval old: on the H100 a small size measured right after a 17 GB one read that stale 17 GB as its
    // own peak (synthetic model, 10,240 items).
    const fresh = settle && monitor ? await monitor.sampleAfter(Date.now(), readingWaitMs) : undefined;
    const started = Date.now();
    const startUsed = fresh?.usedBytes ?? monitor?.latest()?.usedBytes ?? (await this.read()).usedBytes;
    let peakUsed = startUsed;
    /** The reading after the run closes its window; without a monitor, a reading now is all there is. */
    const closeWindow = async (settleIt: boolean) => {
      const after = monitor ? (settleIt ? await monitor.sampleAfter(Date.now(), readingWaitMs) : monitor.latest()) : undefined;
      peakUsed = Math.max(startUsed, monitor?.peakSince(started) ?? 0, after?.usedBytes ?? (await this.smi.memory(this.gpuId)).usedBytes);
      const growthBytes = Math.max(0, peakUsed - startUsed);
      // CUDA: what this session's arena holds after the run is its peak; other sessions' arenas are not its memory.
      const held = own ? (this.heldBy.get(session!) ?? 0) + growthBytes : undefined;
      if (held !== undefined) this.heldBy.set(session!, held);
      return { growthBytes, peakBytes: held ?? Math.max(0, peakUsed - baseline) };
    };
    try {
      let result: T;
      try {
        result = await fn();
      } catch (err) {
        // A run that failed (out of memory, say) leaves its session's arena holding what it grew before failing:
        // that memory is the session's to reuse (the retry at a smaller size), not free and not someone else's.
        if (own) await closeWindow(true).catch(() => undefined);
        throw err;
      }
      return { result, ...(await closeWindow(settle)) };
    } finally {
      this.ownHeld = Math.max(this.ownHeld, peakUsed - baseline);
    }
  }

  /** Stops the nvidia-smi monitors. */
  close(): void {
    this.monitor?.close();
    this.processMonitor?.close();
  }

  /** The running monitor, started again if nvidia-smi stopped; undefined when it cannot run. */
  private async live(): Promise<MemoryMonitor | undefined> {
    if (!this.monitor?.alive) {
      this.monitor = this.smi.monitorMemory(this.gpuId, this.sampleMs);
      await this.monitor.ready;
    }
    return this.monitor.alive ? this.monitor : undefined;
  }

  /** The per-process monitor (CUDA), started again if it stopped; undefined without a pid or when it gives no reading. */
  private async liveProcess(): Promise<MemoryMonitor<ProcessSample> | undefined> {
    if (this.pid === undefined) return undefined;
    if (!this.processMonitor?.alive) {
      this.processMonitor = this.smi.monitorProcessMemory(this.gpuId, this.pid, this.sampleMs);
      await this.processMonitor.ready;
    }
    return this.processMonitor.alive ? this.processMonitor : undefined;
  }

  private async read(): Promise<{ usedBytes: number; freeBytes: number }> {
    return (await this.live())?.latest() ?? this.smi.memory(this.gpuId);
  }
}

/**
 * CPU "device" memory: a budget (CPU_MEMORY_GB, default half the machine) minus this process's growth in
 * resident memory since start. Peaks come from the kernel's high-water mark of resident memory.
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

  forSession(): DeviceMemory {
    return this;
  }

  /** onnxruntime's CPU arena keeps what it grew to as well, but the budget is not read from the device. */
  readonly keepsGrowth = false;

  async track<T>(fn: () => Promise<T>): Promise<Tracked<T>> {
    const before = process.memoryUsage.rss();
    // The kernel's high-water mark of resident memory (VmHWM), reset before the run: the true peak, between
    // samples too. The timer is the fallback where /proc/self/clear_refs cannot be written.
    const hwm = await resetPeakRss();
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), this.sampleMs);
    try {
      const result = await fn();
      peak = Math.max(peak, process.memoryUsage.rss(), hwm ? (await readPeakRss()) ?? 0 : 0);
      return { result, peakBytes: Math.max(0, peak - Math.min(before, this.baselineRss)), growthBytes: Math.max(0, peak - before) };
    } finally {
      clearInterval(timer);
    }
  }
}

/** Resets this process's VmHWM to its current RSS (Linux ≥ 4.0); false where that is not possible. */
async function resetPeakRss(): Promise<boolean> {
  return writeFile('/proc/self/clear_refs', '5').then(() => true, () => false);
}

async function readPeakRss(): Promise<number | undefined> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const kb = /^VmHWM:\s*(\d+) kB/m.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

/**
 * The memory of the device this worker drives, ready to use (a GPU's baseline is read now, before any session
 * allocates). Declared GPUs run on the CPU provider, so their memory is a CPU budget of the declared size.
 */
export async function openDeviceMemory(device: DeviceCapability, smi: NvidiaSmi, cpuBudget: number): Promise<DeviceMemory> {
  if (device.source === 'probed' && device.kind === 'gpu' && device.gpu) {
    // By UUID: indexes differ inside a GPU namespace. CUDA processes are listed per process, so a CUDA worker reads its own.
    const memory = new GpuMemory(smi, device.gpu.uuid, 50, device.provider === 'cuda' ? process.pid : undefined);
    await memory.init();
    return memory;
  }
  return new CpuMemory(device.source === 'declared' && device.kind === 'gpu' ? device.totalBytes : cpuBudget);
}
