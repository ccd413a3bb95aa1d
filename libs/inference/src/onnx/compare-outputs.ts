/** How far a candidate output is from a reference output, element by element. */
export interface OutputComparison {
  maxAbsError: number;
  meanAbsError: number;
}

/**
 * Max and mean absolute difference. A NaN or infinity in the candidate (an fp16 overflow) where the reference
 * is finite counts as an infinite error, so it can never pass a tolerance.
 */
export function compareOutputs(reference: Float32Array, candidate: Float32Array): OutputComparison {
  if (reference.length !== candidate.length) throw new Error(`length mismatch: reference ${reference.length}, candidate ${candidate.length}`);
  if (reference.length === 0) return { maxAbsError: 0, meanAbsError: 0 };
  let max = 0;
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const diff = Math.abs(reference[i]! - candidate[i]!);
    const error = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
    max = Math.max(max, error);
    sum += error;
  }
  return { maxAbsError: max, meanAbsError: sum / reference.length };
}
