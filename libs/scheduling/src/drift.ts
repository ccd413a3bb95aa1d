import { formatGb } from './units.js';

export interface DriftCheck {
  drifted: boolean;
  /** measured / predicted; Infinity when nothing was predicted. */
  ratio: number;
  message: string;
}

/**
 * Flags a run whose peak memory is `factor` times (or more) above its profile's prediction: the seed
 * story's 45.7 GB against 3.6 GB expected meant the model ran in another precision than promised.
 * Only overshoot is flagged; a lower peak is within what a conservative profile allows.
 */
export function detectDrift(predictedBytes: number, measuredPeakBytes: number, factor = 2): DriftCheck {
  const ratio = predictedBytes > 0 ? measuredPeakBytes / predictedBytes : measuredPeakBytes > 0 ? Infinity : 1;
  const drifted = ratio >= factor;
  const shown = Number.isFinite(ratio) ? `${ratio.toFixed(1)}x` : 'unbounded';
  const message = drifted
    ? `peak memory ${formatGb(measuredPeakBytes)} is ${shown} the predicted ${formatGb(predictedBytes)} (threshold ${factor}x): suspect precision drift, e.g. a model running in fp32 where a half precision was promised`
    : `peak memory ${formatGb(measuredPeakBytes)} is ${shown} the predicted ${formatGb(predictedBytes)} (within ${factor}x)`;
  return { drifted, ratio, message };
}
