import type { BadInputError, ImageRef, TextBox } from '#contracts';
import { detectBatch, type PreprocessedImage } from '#inference';
import type { Reserved } from './fit-and-reserve.js';
import type { TakenImage } from './image-prefetcher.js';
import type { PlacementRun } from './placement-run.js';

/** What one micro-batch produced: boxes for the images that ran, the errors of those that could not be read. */
export interface BatchRan {
  batchSize: number;
  predictedBytes: number;
  ran: { image: ImageRef; boxes: TextBox[] }[];
  unreadable: { image: ImageRef; error: BadInputError }[];
  inferenceMs: number;
  /** What the run added to the memory in use (memory held from earlier, larger runs is not this batch's). */
  growthBytes: number;
}

/**
 * Runs the reserved micro-batch: takes its images (decoded ahead), runs the readable ones through the session
 * while memory is tracked, and starts decoding the next batch meanwhile. Errors are thrown as they come
 * (typed where they entered: out of memory, transient) for the placement's loop to decide.
 */
export async function inferBatch(run: PlacementRun, { fit }: Reserved): Promise<BatchRan> {
  const batch = run.remaining.slice(0, fit.batchSize);
  run.prefetcher.prefetch(run.remaining.slice(fit.batchSize, fit.batchSize * 2));
  const taken = await run.prefetcher.take(batch);
  const ready = taken.filter((t): t is Extract<TakenImage, { ready: PreprocessedImage }> => 'ready' in t);
  const unreadable = taken.filter((t): t is Extract<TakenImage, { unreadable: BadInputError }> => 'unreadable' in t).map((t) => ({ image: t.image, error: t.unreadable }));
  if (ready.length === 0) return { batchSize: fit.batchSize, predictedBytes: fit.predictedBytes, ran: [], unreadable, inferenceMs: 0, growthBytes: 0 };
  const { result, peakBytes, growthBytes } = await run.memory.track(() => detectBatch(run.session, run.manifest, ready.map((t) => t.ready)),
    { settle: false, shape: String(ready.length) }); // pages are letterboxed to the model's input: the count is the shape
  run.inferenceMs += result.inferenceMs;
  run.peakBytes = Math.max(run.peakBytes, peakBytes);
  run.predictedPeakBytes = Math.max(run.predictedPeakBytes, fit.predictedBytes);
  return {
    batchSize: fit.batchSize, predictedBytes: fit.predictedBytes, unreadable, inferenceMs: result.inferenceMs, growthBytes,
    ran: ready.map((t, i) => ({ image: t.image, boxes: result.boxes[i]! })),
  };
}
