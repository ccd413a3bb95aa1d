import type { MemoryProfile } from '#contracts';
import { largerClasses, parseClassName } from './classes.js';
import { predictBytes, withMargin } from './profile-fit.js';
import { formatGb } from './units.js';

export type OomDecision =
  | { action: 'retry'; batchSize: number; capBatch: number; why: string }
  | { action: 'reroute'; toClassName: string; why: string }
  | { action: 'wait'; retryAfterMs: number; why: string }
  | { action: 'fail'; why: string };

export interface OomInput {
  className: string;
  /** The batch size that ran out of memory. */
  batchSize: number;
  remainingImages: number;
  separable: boolean;
  /** The (already lowered, see lowerProfileAfterOom) profile, to re-fit instead of only halving. */
  profile?: MemoryProfile;
  /** Free minus reserved bytes now, for the re-fit. */
  availableBytes?: number;
  /**
   * The device's whole memory. When the smallest possible run fits the card but not what is free right now,
   * other work holds the memory: the job waits for it instead of moving to a larger card it does not need.
   */
  capacityBytes?: number;
}

/** How long a job that waits for memory held by others backs off before it is tried again. */
export const MEMORY_WAIT_MS = 2000;

/**
 * What to do after an out-of-memory error:
 * - a separable job at batch > 1 retries smaller: half the batch, or less when the profile re-fitted to
 *   the available memory says so, never more than batchSize − 1 again (`capBatch`), at least 1;
 * - at one image (or a scene job, which cannot shrink), the job moves to the next larger tier of the same
 *   precision; the caller should also set the requirement's `minTierGb` to that tier;
 * - on the CPU or at the largest tier there is nowhere left: fail, with the numbers;
 * - but when that smallest run fits the card (`capacityBytes`) and only the memory free right now is short,
 *   other work holds it: wait and retry, since a larger card would not help (seen on the H100 when another
 *   process held all but 0.74 GB: the job walked up every tier to one no worker serves).
 */
export function decideAfterOom(input: OomInput): OomDecision {
  const { className, batchSize, remainingImages, separable, profile, availableBytes } = input;
  const capBatch = Math.max(1, batchSize - 1);

  if (separable && batchSize > 1) {
    const half = Math.max(1, Math.floor(batchSize / 2));
    const refit = profile && availableBytes !== undefined ? largestFitting(profile, availableBytes, capBatch) : undefined;
    const next = Math.max(1, Math.min(half, refit ?? half, remainingImages));
    const because =
      refit !== undefined && refit < half
        ? `the profile re-fitted to ${formatGb(availableBytes!)} available allows ${refit}`
        : `halved from ${batchSize}`;
    return {
      action: 'retry',
      batchSize: next,
      capBatch,
      why: `out of memory at batch ${batchSize} on ${className}; retrying at batch ${next} (${because}), capped at ${capBatch} from now on`,
    };
  }

  const what = separable ? 'one image' : `the whole scene (${remainingImages} images, not separable)`;
  const smallest = separable ? 1 : remainingImages;
  const numbers = describeNumbers(profile, smallest, availableBytes);
  const smallestNeed = profile ? withMargin(predictBytes(profile, smallest), profile.marginFraction) : undefined;
  const heldByOthers =
    smallestNeed !== undefined && input.capacityBytes !== undefined && availableBytes !== undefined &&
    smallestNeed <= input.capacityBytes && smallestNeed > availableBytes;
  if (heldByOthers) {
    return {
      action: 'wait',
      retryAfterMs: MEMORY_WAIT_MS,
      why: `${what} needs ${formatGb(smallestNeed)} with margin: it fits this ${formatGb(input.capacityBytes!)} card but only ${formatGb(availableBytes)} is free now (held by other work); waiting for memory instead of moving to a larger card`,
    };
  }
  const c = parseClassName(className);
  if (c.device === 'cpu') {
    return { action: 'fail', why: `out of memory on ${className} with ${what}${numbers}; the cpu is the last resort, nowhere larger to go` };
  }
  const larger = largerClasses(className);
  if (larger.length === 0) {
    return {
      action: 'fail',
      why: `out of memory on ${className} with ${what}${numbers}; ${c.tierGb} GB is the largest tier, nowhere larger to go`,
    };
  }
  return {
    action: 'reroute',
    toClassName: larger[0]!,
    why: `out of memory on ${className} with ${what}${numbers}; moving to ${larger[0]} (next larger tier)`,
  };
}

/**
 * The profile after an OOM at `failedBatch`: marked `learned`, capped below the failing size (never below
 * 1), and, when the profile had predicted that `failedBatch` fits in `availableBytes`, its per-item cost
 * raised so the failing size no longer looks as if it fits: the OOM proves the prediction was too low.
 */
export function lowerProfileAfterOom(
  profile: MemoryProfile,
  failedBatch: number,
  availableBytes: number | undefined,
  nowIso: string,
): MemoryProfile {
  const capBatch = Math.max(1, Math.min(profile.capBatch ?? Infinity, failedBatch - 1));
  let { perItemBytes, perPixelBytes } = profile;
  const predicted = predictBytes(profile, failedBatch);
  if (availableBytes !== undefined && withMargin(predicted, profile.marginFraction) <= availableBytes) {
    const raised = Math.ceil((availableBytes - profile.fixedBytes) / failedBatch);
    if (raised > perItemBytes) {
      perItemBytes = raised;
      // Keep the per-pixel cost consistent with the per-item cost at the reference size.
      if (perPixelBytes !== undefined && profile.referencePixels > 0) perPixelBytes = perItemBytes / profile.referencePixels;
    }
  }
  return { ...profile, source: 'learned', capBatch, perItemBytes, perPixelBytes, updatedAt: nowIso };
}

function largestFitting(profile: MemoryProfile, availableBytes: number, cap: number): number {
  let best = 0;
  for (let n = 1; n <= cap; n++) {
    if (withMargin(predictBytes(profile, n), profile.marginFraction) <= availableBytes) best = n;
    else break;
  }
  return best;
}

function describeNumbers(profile: MemoryProfile | undefined, images: number, availableBytes: number | undefined): string {
  const parts: string[] = [];
  if (profile) parts.push(`predicted ${formatGb(predictBytes(profile, images))} in ${profile.precision}`);
  if (availableBytes !== undefined) parts.push(`${formatGb(availableBytes)} available`);
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}
