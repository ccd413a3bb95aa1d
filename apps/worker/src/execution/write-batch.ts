import type { ImageFailure, ImageOutcome, ImageResult, PrecisionSource } from '#contracts';
import { executionSummary } from '#inference';
import { detectDrift, formatGb, type DriftCheck } from '#scheduling';
import { holdPromise } from './hold-promise.js';
import type { BatchRan } from './infer-batch.js';
import type { PlacementOutcome, PlacementRun } from './placement-run.js';

/**
 * Writes a micro-batch's outcomes: the drift check first, then (before the job's first results) the precision
 * promise judged on the measured run, then every image's result or error, once each, fenced. Returns an outcome
 * when the job ends here (a broken promise, a cancel), else undefined and the images leave `remaining`.
 */
export async function writeBatch(run: PlacementRun, ran: BatchRan): Promise<PlacementOutcome | undefined> {
  if (ran.ran.length > 0) {
    const drift = await checkDrift(run, ran);
    if (!run.measured) {
      // A run that did not compute in the promised precision is never reported as one.
      const held = await holdPromise(run, drift);
      if ('outcome' in held) return held.outcome;
      run.measured = held.measured;
    }
  }
  const outcomes: ImageOutcome[] = [...ran.ran.map(({ image, boxes }) => resultOf(run, image.index, image.filename, boxes, ran)), ...ran.unreadable.map(({ image, error }) => failureOf(run, image.index, image.filename, error.message))];
  const written = await run.lease.writeResults(outcomes);
  if ('cancelled' in written) {
    await run.lease.cancel();
    return 'cancelled';
  }
  if (ran.ran.length > 0) run.deps.metrics.batchRan(run.lease.className, ran.batchSize, ran.ran.length, ran.inferenceMs);
  for (const { error } of ran.unreadable) {
    run.failedImages += 1;
    run.firstFailure ??= error.message;
    await run.lease.addEvent(run.event('info', `${error.message}; the other images go on`, { imageIndex: error.imageIndex, code: error.code }));
  }
  run.remaining = run.remaining.slice(ran.batchSize);
  return undefined;
}

function resultOf(run: PlacementRun, index: number, filename: string | undefined, boxes: ImageResult['boxes'], ran: BatchRan): ImageResult {
  const { device, deviceName, workerId } = run.deps;
  const precisionSource: PrecisionSource = device.source === 'declared' ? 'declared' : 'measured';
  return {
    index, filename, boxes, precision: run.executed, precisionSource, measured: executionSummary(run.measured!), provider: device.provider,
    device: deviceName, workerId, batchSize: ran.batchSize, ms: Math.round(ran.inferenceMs),
  };
}

function failureOf(run: PlacementRun, index: number, filename: string | undefined, message: string): ImageFailure {
  return { index, filename, error: { code: 'bad-input', message }, workerId: run.deps.workerId };
}

/** Judged on what the batch added: memory held from earlier (larger) runs is not this batch's drift. */
async function checkDrift(run: PlacementRun, ran: BatchRan): Promise<DriftCheck | undefined> {
  const predicted = ran.predictedBytes;
  const measured = ran.growthBytes;
  if (predicted <= 0 || measured <= 0) return undefined;
  const drift = detectDrift(predicted, measured, run.deps.config.DRIFT_FACTOR);
  if (!drift.drifted) return drift;
  run.deps.metrics.drift(run.lease.className);
  await run.lease.flagDrift(run.event('drift', `precision drift at batch ${ran.batchSize}: ${drift.message}`, { predicted, measured }));
  run.deps.log.warn({ jobId: run.jobId, predicted: formatGb(predicted), measured: formatGb(measured), ratio: drift.ratio }, 'precision drift');
  return drift;
}
