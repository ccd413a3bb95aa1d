import type { MemoryProfile, Precision, ProfilePoint, ProviderName } from '#contracts';
import { runtimeLabel } from '#inference';
import { classifyError, fitEnvelope, measuredMargin, predictBytes, type MeasuredMargin } from '#scheduling';
import type { DeviceMemory } from '../memory/device-memory.js';
import { withinBudget } from './budget.js';
import { measureSize, type FreshSession } from './measure-batch.js';
import { retime, type RetimedSize } from './retime.js';

export interface CalibrationInput {
  model: string;
  precision: Precision;
  provider: ProviderName;
  /** GPU name or "cpu": profiles are per device. */
  device: string;
  /** Runs one batch of `n` items on the device (inputs prepared by the caller): the re-timing's session. */
  runBatch: (n: number) => Promise<void>;
  memory: DeviceMemory;
  /**
   * Where memory a run grew stays held (`memory.keepsGrowth`: the CUDA provider's arena), each size's memory is
   * measured on a session of its own (see measureFresh); `runBatch` then only times.
   */
  freshSession?: () => Promise<FreshSession>;
  /** Largest batch to try; the sweep also stops before a size predicted to need more than `budgetBytes`. */
  maxBatch: number;
  budgetBytes: number;
  /** The least margin the profile gets; more when its own held-out check missed by more (see measuredMargin). */
  minMarginFraction: number;
  referencePixels: number;
  /** Timed runs per size after the sampled one (the median of those and the sampled run counts). */
  repeats?: number;
  /**
   * Sizes to measure, ascending (default 1, 2, 3, 4, 6, 8, 12, …: powers of two and the 1.5× sizes between).
   * Ascending matters: providers keep buffers cached after a run, so a size measured after a larger one would
   * read the larger one's memory. The in-between sizes matter because allocators round buffers up (WebGPU to
   * power-of-two buckets, measured on the H100): a line through powers of two alone under-predicted 1.5×
   * sizes by up to 17 %.
   */
  sizes?: number[];
  /**
   * Sizes measured in the same ascending sweep but kept out of the profile, to report how well it predicts
   * sizes it never saw (`heldOut` in the report). Costs device time; the worker's automatic calibration skips it.
   */
  heldOutSizes?: number[];
}

/** 1, 2, 3, 4, 6, 8, 12, 16, 24, … */
export const DEFAULT_SIZES: readonly number[] = [...new Set(Array.from({ length: 32 }, (_, i) => [2 ** i, 3 * 2 ** (i - 1)]).flat())]
  .filter((n) => Number.isInteger(n) && n >= 1)
  .sort((a, b) => a - b);

/** A size the profile never saw: what it predicted there and what was measured. */
export interface HeldOutCheck {
  batch: number;
  measuredBytes: number;
  predictedBytes: number;
  /** (predicted − measured) / measured. */
  error: number;
  /** Median timed run at this size. */
  ms: number;
}

export interface CalibrationReport {
  profile: MemoryProfile;
  points: ProfilePoint[];
  /** Fit quality of the least-squares line before the envelope raise. */
  r2: number;
  raisedBytes: number;
  maxOverPrediction: number;
  /** The margin the profile schedules with, and the leave-one-out check it came from. */
  margin: MeasuredMargin;
  /** Size that ran out of memory during the sweep, if any: the profile is capped below it. */
  oomAt?: number;
  bestBatch: number;
  bestImagesPerSecond: number;
  /** The sizes re-timed side by side to pick the best (see retime), with their images/s. */
  retimed: RetimedSize[];
  heldOut: HeldOutCheck[];
}

/**
 * Measures a model on this device: batches of 1, 2, 3, 4, 6, 8, … (each warmed up once, its peak sampled in
 * one run, its time the median of that run and `repeats` more), until the next size would exceed the budget, the cap, or memory runs out.
 * The profile is the least-squares line raised to cover every measured point (see fitEnvelope), with a
 * margin measured by predicting each point from the others (see measuredMargin), and it keeps the points with
 * their times so batch fitting can pick the throughput-best size; those times are settled by `retime`.
 */
export async function calibrate(input: CalibrationInput): Promise<CalibrationReport> {
  const repeats = input.repeats ?? 2;
  const points: ProfilePoint[] = [];
  const heldOutPoints: ProfilePoint[] = [];
  let oomAt: number | undefined;
  const heldOutSizes = new Set(input.heldOutSizes ?? []);
  const sizes = [...new Set([...(input.sizes ?? DEFAULT_SIZES), ...heldOutSizes])].sort((a, b) => a - b);
  const sweepStarted = performance.now();
  for (const n of sizes.filter((size) => size <= input.maxBatch)) {
    if (points.length >= 2 && !withinBudget(fitEnvelope(points), n, input)) break;
    try {
      const point = await measureSize(input, n, repeats);
      (heldOutSizes.has(n) ? heldOutPoints : points).push(point);
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
  const margin = measuredMargin(points, input.minMarginFraction);
  const retimed = await retime(input, points, fit, oomAt, performance.now() - sweepStarted);
  const best = points.reduce((a, b) => (b.batch / b.ms! > a.batch / a.ms! ? b : a));
  const runtime = runtimeLabel(input.provider);
  const profile: MemoryProfile = {
    model: input.model, precision: input.precision, provider: input.provider, device: input.device,
    fixedBytes: Math.round(fit.fixedBytes), perItemBytes: Math.round(fit.perItemBytes), referencePixels: input.referencePixels,
    marginFraction: margin.marginFraction, source: 'calibrated', points: [...points].sort((a, b) => a.batch - b.batch), r2: fit.r2,
    ...(runtime ? { runtime } : {}), ...(oomAt ? { capBatch: oomAt - 1 } : {}), updatedAt: new Date().toISOString(),
  };
  // A held-out size that the re-timing's refinement later measured for the profile is no longer unseen.
  const heldOut = heldOutPoints.filter((h) => !profile.points.some((p) => p.batch === h.batch)).map((p) => {
    const predictedBytes = predictBytes(profile, p.batch);
    return { batch: p.batch, measuredBytes: p.peakBytes, predictedBytes, error: (predictedBytes - p.peakBytes) / p.peakBytes, ms: p.ms! };
  });
  return {
    profile, points: profile.points, r2: fit.r2, raisedBytes: fit.raisedBytes, maxOverPrediction: fit.maxOverPrediction, margin, oomAt,
    bestBatch: best.batch, bestImagesPerSecond: (best.batch * 1000) / best.ms!, retimed, heldOut,
  };
}
