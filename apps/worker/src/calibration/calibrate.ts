import type { MemoryProfile, Precision, ProfilePoint, ProviderName } from '#contracts';
import { classifyError, fitEnvelope, predictBytes, withMargin } from '#scheduling';
import type { DeviceMemory } from '../memory/device-memory.js';

export interface CalibrationInput {
  model: string;
  precision: Precision;
  provider: ProviderName;
  /** GPU name or "cpu": profiles are per device. */
  device: string;
  /** Runs one batch of `n` items on the device (inputs prepared by the caller). */
  runBatch: (n: number) => Promise<void>;
  memory: DeviceMemory;
  /** Largest batch to try; the sweep also stops before a size predicted to need more than `budgetBytes`. */
  maxBatch: number;
  budgetBytes: number;
  marginFraction: number;
  referencePixels: number;
  /** Timed runs per size (the fastest counts; the peak is the largest). */
  repeats?: number;
  /**
   * Sizes to measure, ascending (default 1, 2, 3, 4, 6, 8, 12, …: powers of two and the 1.5× sizes between).
   * Ascending matters: providers keep buffers cached after a run, so a size measured after a larger one would
   * read the larger one's memory. The in-between sizes matter because allocators round buffers up (WebGPU to
   * power-of-two buckets, measured on the H100): a line through powers of two alone under-predicted 1.5×
   * sizes by up to 17 %.
   */
  sizes?: number[];
}

/** 1, 2, 3, 4, 6, 8, 12, 16, 24, … */
export const DEFAULT_SIZES: readonly number[] = [...new Set(Array.from({ length: 32 }, (_, i) => [2 ** i, 3 * 2 ** (i - 1)]).flat())]
  .filter((n) => Number.isInteger(n) && n >= 1)
  .sort((a, b) => a - b);

export interface CalibrationReport {
  profile: MemoryProfile;
  points: ProfilePoint[];
  /** Fit quality of the least-squares line before the envelope raise. */
  r2: number;
  raisedBytes: number;
  maxOverPrediction: number;
  /** Size that ran out of memory during the sweep, if any: the profile is capped below it. */
  oomAt?: number;
  bestBatch: number;
  bestImagesPerSecond: number;
}

/**
 * One size, measured: a first run (compiles kernels, grows pools; not timed), then `repeats` timed runs with
 * memory sampled; the fastest time and the largest peak count.
 */
export async function measureBatch(runBatch: (n: number) => Promise<void>, memory: DeviceMemory, n: number, repeats: number): Promise<ProfilePoint> {
  await runBatch(n);
  let ms = Infinity;
  let peakBytes = 0;
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    const { peakBytes: peak } = await memory.track(() => runBatch(n));
    ms = Math.min(ms, performance.now() - started);
    peakBytes = Math.max(peakBytes, peak);
  }
  return { batch: n, peakBytes, ms };
}

/**
 * Measures a model on this device: batches of 1, 2, 4, … (each warmed up once, then timed), peak memory
 * sampled during each run, until the next size would exceed the budget, the cap, or memory runs out.
 * The profile is the least-squares line raised to cover every measured point (see fitEnvelope), and it
 * keeps the points with their times so batch fitting can pick the throughput-best size.
 */
export async function calibrate(input: CalibrationInput): Promise<CalibrationReport> {
  const repeats = input.repeats ?? 2;
  const points: ProfilePoint[] = [];
  let oomAt: number | undefined;
  const sizes = input.sizes ?? DEFAULT_SIZES;
  for (const n of sizes.filter((size) => size <= input.maxBatch)) {
    if (points.length >= 2) {
      const soFar = fitEnvelope(points);
      if (withMargin(predictBytes({ ...soFar, referencePixels: input.referencePixels }, n), input.marginFraction) > input.budgetBytes) break;
    }
    try {
      points.push(await measureBatch(input.runBatch, input.memory, n, repeats));
    } catch (err) {
      if (classifyError(err).kind !== 'oom') throw err;
      oomAt = n;
      break;
    }
  }
  if (points.length < 2) {
    throw new Error(`calibration of ${input.model} in ${input.precision} measured ${points.length} size(s)${oomAt ? ` (out of memory at ${oomAt})` : ''}: need two`);
  }
  const fit = fitEnvelope(points);
  const best = points.reduce((a, b) => (b.batch / b.ms! > a.batch / a.ms! ? b : a));
  const profile: MemoryProfile = {
    model: input.model, precision: input.precision, provider: input.provider, device: input.device,
    fixedBytes: Math.round(fit.fixedBytes), perItemBytes: Math.round(fit.perItemBytes), referencePixels: input.referencePixels,
    marginFraction: input.marginFraction, source: 'calibrated', points, r2: fit.r2,
    ...(oomAt ? { capBatch: oomAt - 1 } : {}), updatedAt: new Date().toISOString(),
  };
  return {
    profile, points, r2: fit.r2, raisedBytes: fit.raisedBytes, maxOverPrediction: fit.maxOverPrediction, oomAt,
    bestBatch: best.batch, bestImagesPerSecond: (best.batch * 1000) / best.ms!,
  };
}
