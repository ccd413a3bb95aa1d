import type { InsufficientResource, MemoryProfile } from '#contracts';
import { predictBytes, withMargin } from './profile-fit.js';
import { formatGb } from './units.js';

/** A measured throughput at one batch size (from calibration or past runs on this device). */
export interface ThroughputPoint {
  batch: number;
  imagesPerSecond: number;
}

export interface BatchFitInput {
  profile: MemoryProfile;
  /** Free device memory measured now. */
  freeBytes: number;
  /** Bytes reserved in the ledger by jobs that may not have allocated yet. */
  reservedBytes: number;
  remainingImages: number;
  /** Largest batch the model or configuration allows. */
  maxBatch: number;
  /** Pixels of one input after preprocessing, when the profile scales per pixel. */
  pixelsPerItem?: number;
  throughput?: ThroughputPoint[];
}

export interface BatchFit {
  /** 0 when not even one image fits. */
  batchSize: number;
  /** Predicted peak bytes of `batchSize` images, WITHOUT margin (compare with the measured peak for drift). */
  predictedBytes: number;
  reasons: InsufficientResource[];
  why: string;
}

/**
 * The micro-batch size to run next: the largest n (up to maxBatch, the images left and the learned cap)
 * whose predicted peak plus margin fits in free minus reserved memory; then, when throughput was measured,
 * the measured fitting size with the best images/s (larger batches often stop paying on a busy card).
 */
export function fitBatchToVram(input: BatchFitInput): BatchFit {
  const { profile, freeBytes, reservedBytes, remainingImages, maxBatch, pixelsPerItem } = input;
  const available = freeBytes - reservedBytes;
  const predict = (n: number) => predictBytes(profile, n, pixelsPerItem);
  const fitsIn = (n: number) => withMargin(predict(n), profile.marginFraction) <= available;
  const margin = `${Math.round(profile.marginFraction * 100)}% margin`;
  const room = `${formatGb(available)} available (${formatGb(freeBytes)} free - ${formatGb(reservedBytes)} reserved)`;

  const limits: [string, number][] = [
    [`maxBatch ${maxBatch}`, maxBatch],
    [`${remainingImages} image(s) left`, remainingImages],
  ];
  if (profile.capBatch !== undefined) limits.push([`learned cap ${profile.capBatch} after an OOM`, profile.capBatch]);
  const upper = Math.max(0, Math.floor(Math.min(...limits.map(([, v]) => v))));
  const limitedBy = limits.filter(([, v]) => Math.floor(v) === upper).map(([k]) => k).join(', ');

  if (upper === 0) return { batchSize: 0, predictedBytes: 0, reasons: [], why: `nothing to run (${limitedBy})` };

  if (!fitsIn(1)) {
    const one = withMargin(predict(1), profile.marginFraction);
    return {
      batchSize: 0,
      predictedBytes: predict(1),
      reasons: [
        {
          target: profile.device,
          resource: 'memory',
          reason: `one image of ${profile.model} needs ${formatGb(one)} in ${profile.precision} (with ${margin}); ${room}`,
          requested: one,
          available,
        },
      ],
      why: `not even one image fits: needs ${formatGb(one)} with ${margin}; ${room}`,
    };
  }

  // Predictions grow with n (perItemBytes >= 0), so the largest fitting size is found by bisection.
  let lo = 1;
  let hi = upper;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fitsIn(mid)) lo = mid;
    else hi = mid - 1;
  }
  const largestFit = lo;
  const memoryWhy =
    largestFit === upper
      ? `batch ${largestFit} limited by ${limitedBy}; predicted ${formatGb(predict(largestFit))} + ${margin} fits in ${room}`
      : `batch ${largestFit} is the largest that fits: predicted ${formatGb(predict(largestFit))} + ${margin} within ${room}; batch ${largestFit + 1} would need ${formatGb(withMargin(predict(largestFit + 1), profile.marginFraction))}`;

  const chosen = pickByThroughput(largestFit, input.throughput ?? []);
  return {
    batchSize: chosen.batch,
    predictedBytes: predict(chosen.batch),
    reasons: [],
    why: chosen.why ? `${chosen.why} (${memoryWhy})` : memoryWhy,
  };
}

/**
 * Among measured sizes that fit, the best images/s wins; a size whose speed was never measured is not chosen
 * over one that was (when nothing measured fits, the largest fitting size runs). Extrapolating a rising curve
 * was tried and measured wrong on the H100: the largest fitting size, 4.5× the largest timed one, ran at 0.52
 * of the best rate.
 */
function pickByThroughput(largestFit: number, throughput: ThroughputPoint[]): { batch: number; why?: string } {
  const fitting = throughput.filter((t) => t.batch >= 1 && t.batch <= largestFit);
  if (fitting.length === 0) return { batch: largestFit };
  const best = fitting.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond || (b.imagesPerSecond === a.imagesPerSecond && b.batch > a.batch) ? b : a));
  if (best.batch === largestFit) return { batch: best.batch, why: `batch ${best.batch} also measured fastest (${best.imagesPerSecond.toFixed(1)} img/s)` };
  const others = fitting
    .filter((t) => t !== best)
    .sort((a, b) => b.batch - a.batch)
    .slice(0, 3)
    .map((t) => `batch ${t.batch} at ${t.imagesPerSecond.toFixed(1)} img/s`);
  return {
    batch: best.batch,
    why: `batch ${best.batch} measured fastest at ${best.imagesPerSecond.toFixed(1)} img/s${others.length ? ` (beats ${others.join(', ')})` : ''}`,
  };
}

export interface WholeFit {
  fits: boolean;
  /** Predicted peak bytes of all images at once, without margin. */
  predictedBytes: number;
  reason?: InsufficientResource;
}

/**
 * For a non-separable (scene) job: whether all `images` fit on the card together, since such a job
 * cannot be split into micro-batches. Compares the prediction plus margin with `availableBytes`
 * (free minus reserved).
 */
export function fitsWhole(profile: MemoryProfile, images: number, availableBytes: number, pixelsPerItem?: number): WholeFit {
  const predictedBytes = predictBytes(profile, images, pixelsPerItem);
  const needed = withMargin(predictedBytes, profile.marginFraction);
  if (needed <= availableBytes) return { fits: true, predictedBytes };
  return {
    fits: false,
    predictedBytes,
    reason: {
      target: profile.device,
      resource: 'memory',
      reason: `all ${images} images of ${profile.model} together need ${formatGb(needed)} in ${profile.precision} (with ${Math.round(profile.marginFraction * 100)}% margin); ${formatGb(availableBytes)} available`,
      requested: needed,
      available: availableBytes,
    },
  };
}
