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
export function fitProfile(points: ProfilePoint[]): ProfileFit {
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
 * Predicted peak bytes for a batch of `batch` items. With `pixelsPerItem` and a per-pixel cost, the
 * per-item term scales with the input size; otherwise it is the per-item cost at the reference size.
 */
export function predictBytes(
  profile: Pick<MemoryProfile, 'fixedBytes' | 'perItemBytes' | 'perPixelBytes' | 'referencePixels'>,
  batch: number,
  pixelsPerItem?: number,
): number {
  const perItem =
    profile.perPixelBytes !== undefined && pixelsPerItem !== undefined ? profile.perPixelBytes * pixelsPerItem : profile.perItemBytes;
  return profile.fixedBytes + perItem * batch;
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
export function fitEnvelope(points: ProfilePoint[]): EnvelopeFit {
  const fit = fitProfile(points);
  const raisedBytes = Math.max(0, ...points.map((p) => p.peakBytes - (fit.fixedBytes + fit.perItemBytes * p.batch)));
  const fixedBytes = fit.fixedBytes + raisedBytes;
  let maxOverPrediction = 0;
  for (const p of points) {
    if (p.peakBytes > 0) maxOverPrediction = Math.max(maxOverPrediction, (fixedBytes + fit.perItemBytes * p.batch - p.peakBytes) / p.peakBytes);
  }
  return { ...fit, fixedBytes, raisedBytes, maxOverPrediction };
}
