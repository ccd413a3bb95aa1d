import { calibrateModel, type CalibrateModelInput } from '#device';
import { formatGb } from '#scheduling';

/** Calibrates a model on this worker's device and says what it found, in a line for the job's events. */
export async function calibrateOnDevice(input: CalibrateModelInput) {
  const report = await calibrateModel(input);
  const { profile } = report;
  const summary = `calibrated ${input.manifest.id} in ${input.precision} on ${input.deviceName}: ${formatGb(profile.fixedBytes)} + ${formatGb(profile.perItemBytes)} per image `
    + `(batches ${report.points.map((p) => p.batch).join(', ')}; r² ${report.r2.toFixed(3)}; best ${report.bestImagesPerSecond.toFixed(1)} images/s at ${report.bestBatch})`;
  return { profile, summary };
}
