import type { MemoryProfile } from '#contracts';
import { fitBatchToVram, withMargin, type BatchFit } from '#scheduling';
import type { PlacementRun } from './placement-run.js';

/** A micro-batch that fits, with its memory reserved in the ledger. */
export interface Reserved {
  kind: 'reserved';
  fit: BatchFit;
  /** Free memory minus what other jobs reserved, when it was fitted. */
  availableBytes: number;
}

/** Nothing fits what is left for this job now (not even one image, or the ledger refused): why, and what was left. */
export interface Short {
  kind: 'short';
  why: string;
  availableBytes: number;
}

/**
 * Fits the next micro-batch to free memory minus what the other jobs on this device reserved, and reserves it:
 * one synchronous step after the one read of free memory, so no other job can fit and reserve in between (two
 * jobs each fitting 0.91 GB of a 1 GB budget, both seeing nothing reserved, is an over-commit). The reservation
 * stays the job's across batches, replaced by each next one, until the job ends: a newcomer cannot take the
 * memory a running job is between batches with.
 */
export async function fitAndReserve(run: PlacementRun): Promise<Reserved | Short> {
  const freeBytes = await run.memory.availableBytes();
  // From here to the reservation, nothing awaits.
  const others = run.othersReservedBytes;
  const availableBytes = freeBytes - others;
  const fit = fitBatchToVram({
    profile: run.profile, freeBytes, reservedBytes: others, remainingImages: run.remaining.length,
    maxBatch: run.manifest.maxBatch, throughput: throughputOf(run.profile),
  });
  if (fit.batchSize === 0) return { kind: 'short', why: fit.why, availableBytes };
  const reserved = run.deps.ledger.reserve(run.jobId, withMargin(fit.predictedBytes, run.profile.marginFraction), freeBytes);
  if (!reserved.ok) return { kind: 'short', why: `the ledger refused batch ${fit.batchSize}: ${reserved.reason.reason}`, availableBytes };
  return { kind: 'reserved', fit, availableBytes };
}

/** Measured images/s per batch size, from the profile's calibration points. */
function throughputOf(profile: MemoryProfile) {
  return profile.points.filter((p) => p.ms && p.ms > 0).map((p) => ({ batch: p.batch, imagesPerSecond: (p.batch * 1000) / p.ms! }));
}
