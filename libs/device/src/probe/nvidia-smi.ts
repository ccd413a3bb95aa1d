import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { GpuInfo } from '#contracts';

const run = promisify(execFile);
const MIB = 1024 * 1024;

const QUERY = 'index,uuid,name,compute_cap,memory.total,memory.free,driver_version,pci.bus_id';

/** Parses `nvidia-smi --query-gpu=${QUERY} --format=csv,noheader,nounits`. */
export function parseGpuQuery(csv: string): GpuInfo[] {
  return csv
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [index, uuid, name, cc, total, free, driver, bus] = line.split(',').map((s) => s.trim());
      return {
        index: Number(index), uuid: uuid!, name: name!, computeCapability: Number(cc),
        totalBytes: Number(total) * MIB, freeBytes: Number(free) * MIB, driver: driver!, ...(bus ? { pciBusId: bus } : {}),
      };
    });
}

/** Parses one `memory.used,memory.free,memory.total` line (MiB, no units); undefined for `[N/A]` and the like. */
function parseMemoryLine(line: string): { usedBytes: number; freeBytes: number; totalBytes: number } | undefined {
  const [used, free, total] = line.split(',').map((v) => Number(v.trim()) * MIB);
  if (!line.trim() || ![used, free, total].every(Number.isFinite)) return undefined;
  return { usedBytes: used!, freeBytes: free!, totalBytes: total! };
}

/** One reading of a GPU's memory, stamped with when it arrived (Date.now()). */
export interface MemorySample {
  at: number;
  usedBytes: number;
  freeBytes: number;
  totalBytes: number;
}

/** One reading of one process's memory on a GPU. */
export interface ProcessSample {
  at: number;
  usedBytes: number;
}

/** Memory read continuously by one long-lived `nvidia-smi -lms` process: a GPU's, or one process's on it. */
export interface MemoryMonitor<S extends { at: number; usedBytes: number } = MemorySample> {
  /** Resolves at the first reading, or when nvidia-smi could not start (then `alive` is false). */
  readonly ready: Promise<void>;
  readonly alive: boolean;
  latest(): S | undefined;
  /** The readings that arrived at or after `since`, oldest first. */
  readingsSince(since: number): S[];
  /** Highest usedBytes among readings that arrived at or after `since`. */
  peakSince(since: number): number | undefined;
  /** The first reading that arrives after `t`, or undefined after `timeoutMs` or if nvidia-smi stops. */
  sampleAfter(t: number, timeoutMs: number): Promise<S | undefined>;
  close(): void;
}

/** Readings kept: at 50 ms, the last 20 minutes; a batch longer than that still gets its last 20 minutes. */
const MAX_SAMPLES = 24_000;
/** How long a new monitor may take to print its first reading before it counts as not running. */
const READY_TIMEOUT_MS = 10_000;

/** nvidia-smi behind one small class: GPU inventory and live memory. No nvidia-smi means no NVIDIA GPU. */
export class NvidiaSmi {
  constructor(private readonly binary = 'nvidia-smi') {}

  async listGpus(): Promise<GpuInfo[]> {
    try {
      const { stdout } = await run(this.binary, [`--query-gpu=${QUERY}`, '--format=csv,noheader,nounits'], { timeout: 10_000 });
      return parseGpuQuery(stdout);
    } catch {
      return [];
    }
  }

  /**
   * Device-wide used and free bytes of one GPU, by index or UUID (Vulkan/WebGPU processes are not listed per
   * process). Workers ask by UUID: an index means another card inside a GPU namespace.
   */
  async memory(id: number | string): Promise<{ usedBytes: number; freeBytes: number; totalBytes: number }> {
    const { stdout } = await run(this.binary, [`--id=${id}`, '--query-gpu=memory.used,memory.free,memory.total', '--format=csv,noheader,nounits'], { timeout: 5000 });
    const reading = parseMemoryLine(stdout.trim());
    if (!reading) throw new Error(`nvidia-smi gave no memory reading for GPU ${id}: ${stdout.trim().slice(0, 200)}`);
    return reading;
  }

  /**
   * Reads one GPU's memory every `intervalMs` from a separate nvidia-smi process (`-lms`) for as long as the
   * monitor is open: one process for a worker's life rather than one per reading (each start costs tens of
   * milliseconds, as long as a small batch runs). Readings go on while onnxruntime runs a batch.
   */
  monitorMemory(id: number | string, intervalMs: number): MemoryMonitor {
    return sampleStream(this.binary, [`--id=${id}`, '--query-gpu=memory.used,memory.free,memory.total', '--format=csv,noheader,nounits', '-lms', String(intervalMs)], parseMemoryLine);
  }

  /**
   * One process's memory on one GPU, read every `intervalMs` like {@link monitorMemory}. nvidia-smi lists CUDA
   * processes (compute apps) with their own usage, so a CUDA worker's peaks are its own even while another
   * process grows on the card; Vulkan (WebGPU) processes are not listed. A reading arrives only while `pid` is
   * listed (it holds a CUDA context).
   */
  monitorProcessMemory(id: number | string, pid: number, intervalMs: number): MemoryMonitor<ProcessSample> {
    return sampleStream(this.binary, [`--id=${id}`, '--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits', '-lms', String(intervalMs)], (line) => parseProcessLine(line, pid));
  }
}

/** Parses one `pid,used_memory` line (MiB) of `--query-compute-apps`; undefined for other processes and `[N/A]`. */
export function parseProcessLine(line: string, pid: number): { usedBytes: number } | undefined {
  const [p, used] = line.split(',').map((v) => v.trim());
  if (Number(p) !== pid || !Number.isFinite(Number(used)) || used === '') return undefined;
  return { usedBytes: Number(used) * MIB };
}

/**
 * Readings parsed from a long-lived nvidia-smi process's lines, stamped with when they arrived. Until its first
 * reading (or READY_TIMEOUT_MS) the monitor keeps the process alive: a caller awaiting `ready` with nothing else
 * pending (a CLI, a bench) would otherwise see Node exit under it (code 13). After that it never does.
 */
function sampleStream<S extends { usedBytes: number }>(binary: string, args: string[], parse: (line: string) => S | undefined): MemoryMonitor<S & { at: number }> {
  type Stamped = S & { at: number };
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const samples: Stamped[] = [];
  const waiters = new Set<{ after: number; resolve: (s: Stamped | undefined) => void }>();
  let alive = true;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve)).then(() => {
    clearTimeout(readyTimer);
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
  });
  const readyTimer = setTimeout(() => {
    child.kill('SIGTERM');
    stop();
  }, READY_TIMEOUT_MS);
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const reading = parse(line);
      if (!reading) continue;
      const sample = { ...reading, at: Date.now() } as Stamped;
      samples.push(sample);
      if (samples.length > MAX_SAMPLES) samples.splice(0, samples.length - MAX_SAMPLES);
      markReady();
      for (const w of waiters) if (sample.at > w.after) (waiters.delete(w), w.resolve(sample));
    }
  });
  const readingsSince = (since: number): Stamped[] => {
    let first = samples.length;
    while (first > 0 && samples[first - 1]!.at >= since) first--;
    return samples.slice(first);
  };
  const stop = () => {
    alive = false;
    markReady();
    for (const w of waiters) w.resolve(undefined);
    waiters.clear();
  };
  child.once('error', stop);
  child.once('close', stop);
  return {
    ready,
    get alive() {
      return alive;
    },
    latest: () => samples.at(-1),
    readingsSince,
    peakSince: (since) => {
      const readings = readingsSince(since);
      return readings.length ? Math.max(...readings.map((r) => r.usedBytes)) : undefined;
    },
    sampleAfter: (t, timeoutMs) => {
      const last = samples.at(-1);
      if (last && last.at > t) return Promise.resolve(last);
      if (!alive) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        // Not unref'd: the caller is waiting for this reading, bounded by timeoutMs.
        const timer = setTimeout(() => waiters.delete(waiter) && resolve(undefined), timeoutMs);
        const waiter = { after: t, resolve: (s: Stamped | undefined) => (clearTimeout(timer), resolve(s)) };
        waiters.add(waiter);
      });
    },
    close: () => {
      child.kill('SIGTERM');
      stop();
    },
  };
}
