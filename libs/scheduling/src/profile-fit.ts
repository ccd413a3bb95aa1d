import type { MemoryProfile, ProfilePoint } from '#contracts';

/** A fitted memory line `peak(n) = fixedBytes + perItemBytes × n`, with how well it explains the points. */
export interface ProfileFit {
  fixedBytes: number;
  perItemBytes: number;
  /** Coefficient of determination of the (clamped) line; 1 when the points have no spread to explain. */
  r2: number;
  /** Largest |predicted − measured| / measured over the points: the margin a profile needs to cover them. */
  maxRelativeResidual: number;
}

/**
 * Ordinary least squares of peak memory over batch size. Needs at least two distinct batch sizes (one
 * size cannot separate what the model costs from what each image costs). A negative slope (noise) is
 * clamped to zero: memory never shrinks as the batch grows, and the line is refitted as a constant.
 */
export function fitProfile(allPoints: ProfilePoint[]): ProfileFit {
  const points = memoryPoints(allPoints);
  for (const p of points) {
    if (!(p.batch > 0) || !Number.isFinite(p.batch) || !(p.peakBytes >= 0) || !Number.isFinite(p.peakBytes)) {
      throw new Error(`invalid profile point: batch ${p.batch}, peakBytes ${p.peakBytes}`);
    }
  }
  const distinct = new Set(points.map((p) => p.batch));
  if (distinct.size < 2) {
    throw new Error(
      `cannot fit a memory profile from ${points.length} point(s) at ${distinct.size} batch size(s): measure at least two different batch sizes`,
    );
  }
  const n = points.length;
  const meanX = points.reduce((s, p) => s + p.batch, 0) / n;
  const meanY = points.reduce((s, p) => s + p.peakBytes, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.batch - meanX) * (p.peakBytes - meanY);
    sxx += (p.batch - meanX) ** 2;
  }
  const perItemBytes = Math.max(0, sxy / sxx);
  const fixedBytes = meanY - perItemBytes * meanX;

  let ssRes = 0;
  let ssTot = 0;
  let maxRelativeResidual = 0;
  for (const p of points) {
    const predicted = fixedBytes + perItemBytes * p.batch;
    ssRes += (p.peakBytes - predicted) ** 2;
    ssTot += (p.peakBytes - meanY) ** 2;
    if (p.peakBytes > 0) maxRelativeResidual = Math.max(maxRelativeResidual, Math.abs(predicted - p.peakBytes) / p.peakBytes);
  }
  const r2 = ssTot === 0 ? 1 : 1 - ssRes / ssTot;
  return { fixedBytes, perItemBytes, r2, maxRelativeResidual };
}

/**
 * Predicted peak bytes for a batch of `batch` items: the profile's line, `fixed + perItem × n`; with
 * `pixelsPerItem` and a per-pixel cost, the per-item term scales with the input size.
 *
 * A calibrated profile also knows what it measured, and within the measured range it predicts the lesser of
 * the line and the peak measured at the next measured size up (memory does not shrink as the batch grows).
 * Why: memory is not one line at every scale. On the H100's WebGPU, small buffers share pooled heaps and large
 * ones get their own allocations, so peaks stay flat (58 MiB) up to thousands of items and then jump by
 * 500 MiB onto the line that holds for every larger size. The line, raised to cover that jump, over-asks ten
 * times at small sizes; the measured step does not. Beyond the largest measured size only the line speaks.
 */
export function predictBytes(
  profile: Pick<MemoryProfile, 'fixedBytes' | 'perItemBytes' | 'perPixelBytes' | 'referencePixels'> & Partial<Pick<MemoryProfile, 'source' | 'points'>>,
  batch: number,
  pixelsPerItem?: number,
): number {
  const scaled = profile.perPixelBytes !== undefined && pixelsPerItem !== undefined;
  const perItem = scaled ? profile.perPixelBytes! * pixelsPerItem : profile.perItemBytes;
  const line = profile.fixedBytes + perItem * batch;
  const atReference = !scaled || pixelsPerItem === profile.referencePixels;
  if (profile.source !== 'calibrated' || !atReference || !profile.points?.length) return line;
  const measured = measuredCeiling(profile.points, batch);
  return measured === undefined ? line : Math.min(line, measured);
}

/** The largest peak measured at any size up to the first measured size ≥ `batch`; undefined above them all. */
function measuredCeiling(allPoints: readonly ProfilePoint[], batch: number): number | undefined {
  const points = memoryPoints(allPoints);
  let next = Infinity;
  for (const p of points) if (p.batch >= batch && p.batch < next) next = p.batch;
  if (next === Infinity) return undefined;
  let ceiling = 0;
  for (const p of points) if (p.batch <= next) ceiling = Math.max(ceiling, p.peakBytes);
  return ceiling;
}

/** `bytes` plus a safety margin (a fraction, e.g. 0.1 for 10%), rounded up to whole bytes. */
export function withMargin(bytes: number, marginFraction: number): number {
  return Math.ceil(bytes * (1 + marginFraction));
}

/** A least-squares line raised so that no measured point lies above it. */
export interface EnvelopeFit extends ProfileFit {
  /** How far the least-squares intercept was raised to cover the worst-underpredicted point. */
  raisedBytes: number;
  /** Largest (predicted − measured) / measured after raising: what the envelope over-asks at worst. */
  maxOverPrediction: number;
}

/**
 * The profile to schedule with: allocators (WebGPU's in particular) grow memory in steps, so a least-squares
 * line under-predicts some sizes (measured on the H100: −13.5 % at batch 16). Under-prediction means OOM;
 * over-prediction only means a slightly smaller batch. So the line keeps its slope and its intercept is
 * raised until every measured point is at or below it.
 */
export function fitEnvelope(allPoints: ProfilePoint[]): EnvelopeFit {
  const points = memoryPoints(allPoints);
  const fit = fitProfile(points);
  const raisedBytes = Math.max(0, ...points.map((p) => p.peakBytes - (fit.fixedBytes + fit.perItemBytes * p.batch)));
  const fixedBytes = fit.fixedBytes + raisedBytes;
  let maxOverPrediction = 0;
  for (const p of points) {
    if (p.peakBytes > 0) maxOverPrediction = Math.max(maxOverPrediction, (fixedBytes + fit.perItemBytes * p.batch - p.peakBytes) / p.peakBytes);
  }
  return { ...fit, fixedBytes, raisedBytes, maxOverPrediction };
}

/** The margin a calibrated profile schedules with, and the check behind it. */
export interface MeasuredMargin {
  marginFraction: number;
  /** Largest (measured − predicted) / measured when each point was predicted by a fit of the others. */
  worstHeldOutUnder: number;
  /** The batch size of that point. */
  worstAt?: number;
}

/**
 * The margin is measured, not guessed: each calibration point is predicted by the envelope of the others
 * (leave-one-out; the largest point is an extrapolation, as real batches beyond the calibration are) and the
 * worst under-prediction becomes the margin, never below `floor` nor above `ceiling`. A provider whose memory
 * is a clean line earns a thin margin and fills the card; one whose memory jumps in steps pays for them.
 */
export function measuredMargin(allPoints: ProfilePoint[], floor: number, ceiling = 0.5): MeasuredMargin {
  const points = memoryPoints(allPoints);
  let worst = 0;
  let worstAt: number | undefined;
  for (const [i, p] of points.entries()) {
    const others = points.filter((_, j) => j !== i);
    if (new Set(others.map((o) => o.batch)).size < 2 || !(p.peakBytes > 0)) continue;
    const fit = fitEnvelope(others);
    const under = (p.peakBytes - Math.max(0, fit.fixedBytes + fit.perItemBytes * p.batch)) / p.peakBytes;
    if (under > worst) [worst, worstAt] = [under, p.batch];
  }
  return { marginFraction: Math.min(ceiling, Math.max(floor, worst)), worstHeldOutUnder: worst, ...(worstAt !== undefined ? { worstAt } : {}) };
}

/** The points whose memory is their own (not `timedOnly`). */
function memoryPoints<P extends ProfilePoint>(points: readonly P[]): P[] {
  return points.filter((p) => !p.timedOnly);
}
