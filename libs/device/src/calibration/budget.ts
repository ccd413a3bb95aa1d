import { predictBytes, withMargin, type ProfileFit } from '#scheduling';
import type { CalibrationInput } from './calibrate.js';

/**
 * Whether a size may be measured: its need, predicted by the line fitted so far plus the least margin, is within
 * the calibration's budget. The sweep stops at the first size that is not; the re-timing skips such sizes.
 */
export function withinBudget(fit: Pick<ProfileFit, 'fixedBytes' | 'perItemBytes'>, n: number, input: Pick<CalibrationInput, 'referencePixels' | 'minMarginFraction' | 'budgetBytes'>): boolean {
  return withMargin(predictBytes({ ...fit, referencePixels: input.referencePixels }, n), input.minMarginFraction) <= input.budgetBytes;
}
