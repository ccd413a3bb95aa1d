import type { JobRequirement, Precision } from '#contracts';
import { formatGb } from './units.js';

/**
 * Bytes one card must offer to run the job in `precision`: one image for a separable job (it can be
 * split into micro-batches down to one image), every image at once for a scene job. Undefined when the
 * model has no variant in that precision.
 */
export function bytesNeeded(requirement: JobRequirement, precision: Precision): number | undefined {
  const need = requirement.needs.find((n) => n.precision === precision);
  if (!need) return undefined;
  return requirement.separable ? need.bytesOneImage : need.bytesWholeJob;
}

/** `needs 21.20 GB in bf16`, with `(all 200 images on one card)` for scene jobs, so the number is never ambiguous. */
export function describeNeed(requirement: JobRequirement, precision: Precision, bytes: number): string {
  const scope = requirement.separable ? '' : ` (all ${requirement.imageCount} images on one card)`;
  return `needs ${formatGb(bytes)} in ${precision}${scope}`;
}
