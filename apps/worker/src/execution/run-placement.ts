import { LeaseLostError, type JobLease } from '#queue';
import { classifyError } from '#scheduling';
import { admit } from './admit.js';
import { afterOom, sessionOutOfMemory } from './after-oom.js';
import { fitAndReserve } from './fit-and-reserve.js';
import { ImagePrefetcher } from './image-prefetcher.js';
import { inferBatch } from './infer-batch.js';
import { PlacementRun, type ExecutorDeps, type PlacementOutcome } from './placement-run.js';
import { runProfile } from './run-profile.js';
import { RetriesExhausted, withTransientRetries } from './transient-retries.js';
import { writeBatch } from './write-batch.js';

export type { ExecutorDeps, PlacementOutcome } from './placement-run.js';

/**
 * Runs one placement of a job on this worker's device: micro-batches sized to free memory minus what other jobs
 * reserved, results written per batch (exactly once, fenced by the lease), OOMs turned into smaller batches, a
 * wait, or a move to a larger class. Each step says what happened; the loop only follows.
 */
export class RunPlacement {
  constructor(private readonly deps: ExecutorDeps) {}

  async execute(lease: JobLease): Promise<PlacementOutcome> {
    const { ledger } = this.deps;
    try {
      const run = await this.prepare(lease);
      if ('outcome' in run) return run.outcome;
      try {
        return await this.loop(run);
      } finally {
        run.prefetcher.clear();
      }
    } catch (err) {
      return await this.ended(lease, err);
    } finally {
      lease.close();
      ledger.release(lease.jobId);
    }
  }

  /** Admission, then what the job runs with: session, memory view, profile, images not yet done. */
  private async prepare(lease: JobLease): Promise<PlacementRun | { outcome: PlacementOutcome }> {
    const deps = this.deps;
    const admitted = await admit(deps, lease);
    if ('outcome' in admitted) return admitted;
    const { manifest } = admitted;
    const precision = lease.record.precision.promised;
    // A declared device computes fp32 on the CPU provider; that is what its runs are measured against.
    const executed = deps.device.source === 'declared' ? 'fp32' : precision;
    let session;
    try {
      session = await deps.sessions.get(manifest, executed, deps.device.provider);
    } catch (err) {
      const kind = classifyError(err);
      if (kind.kind !== 'oom') throw err;
      return { outcome: await sessionOutOfMemory(deps, lease, kind.message) };
    }
    const profile = await runProfile(deps, lease, manifest, precision);
    return new PlacementRun(deps, lease, manifest, executed, session, deps.memory.forSession(session.key), profile,
      new ImagePrefetcher(deps.blobs, manifest), await lease.doneIndexes());
  }

  /** fit → reserve → infer → write, until every image has ended or the job ends or leaves here. */
  private async loop(run: PlacementRun): Promise<PlacementOutcome> {
    while (run.remaining.length > 0) {
      const stop = await this.checkpoint(run);
      if (stop) return stop;
      const fitted = await fitAndReserve(run);
      if (fitted.kind === 'short') {
        // Nothing ran, so nothing was learned: only the decision matters (wait for memory, move, or fail).
        const outcome = await afterOom(run, 1, fitted.availableBytes, fitted.why, false);
        if (outcome) return outcome;
        continue;
      }
      const { batchSize } = fitted.fit;
      if (batchSize !== run.lastBatch) {
        await run.lease.addEvent(run.event('batch', `micro-batch ${batchSize}: ${fitted.fit.why}`,
          { batchSize, availableBytes: fitted.availableBytes, reservedBytes: this.deps.ledger.reservedBytes, capacityBytes: this.deps.device.totalBytes }));
        run.lastBatch = batchSize;
        this.deps.metrics.batchChosen(run.jobId, batchSize);
      }
      let ran;
      try {
        ran = await withTransientRetries(run, `micro-batch ${batchSize}`, () => inferBatch(run, fitted));
      } catch (err) {
        const kind = classifyError(err);
        if (kind.kind !== 'oom') throw err;
        const outcome = await afterOom(run, batchSize, fitted.availableBytes, `out of memory at micro-batch ${batchSize}: ${kind.message.slice(0, 300)}`, true);
        if (outcome) return outcome;
        continue;
      }
      const ended = await writeBatch(run, ran);
      if (ended) return ended;
    }
    return this.finish(run);
  }

  /** Between micro-batches: a cancel ends the job, a drain hands it back. */
  private async checkpoint(run: PlacementRun): Promise<PlacementOutcome | undefined> {
    if (await run.lease.isCancelRequested()) {
      await run.lease.cancel();
      return 'cancelled';
    }
    if (!this.deps.isDraining()) return undefined;
    const outcome = await run.lease.requeue({ delayMs: 0, waiting: false, event: run.event('drain', 'worker draining (SIGTERM): job handed back after its last finished micro-batch') });
    return outcome === 'cancelled' ? 'cancelled' : 'released';
  }

  /** Every image ended: completed (or failed, when not one image could be read), with the timings. */
  private async finish(run: PlacementRun): Promise<PlacementOutcome> {
    const { record } = run;
    const total = record.images.length;
    if (run.failedImages >= total) {
      return run.fail('bad-input', `none of the ${total} image(s) could be read${run.firstFailure ? `: ${run.firstFailure}` : ''}`);
    }
    const runMs = performance.now() - run.started;
    const timings = {
      // From submit to the first delivery that started it (a later delivery does not move it).
      queueMs: record.startedAt ? Math.max(0, Date.parse(record.startedAt) - Date.parse(record.createdAt)) : undefined,
      runMs: Math.round(runMs), inferenceMs: Math.round(run.inferenceMs), preprocessMs: Math.round(run.prefetcher.totalPreprocessMs),
      imagesPerSecond: Number((total / (runMs / 1000)).toFixed(2)),
    };
    const state = await run.lease.complete({ peakBytes: run.peakBytes, predictedPeakBytes: run.predictedPeakBytes, timings });
    this.deps.log.info({ jobId: run.jobId, images: total, failedImages: run.failedImages, ...timings, peakBytes: run.peakBytes }, `job ${state}`);
    return state;
  }

  /** A step threw: lost the job (fenced off), a transient error past its retries, bad input, or anything else. */
  private async ended(lease: JobLease, err: unknown): Promise<PlacementOutcome> {
    const { log } = this.deps;
    if (err instanceof LeaseLostError) return this.fencedOff(lease, err);
    const kind = classifyError(err);
    const [code, message] = err instanceof RetriesExhausted ? ['transient', err.message] as const
      : kind.kind === 'bad-input' ? ['bad-input', kind.message] as const
      : ['fatal', kind.message] as const;
    log.error({ jobId: lease.jobId, code, err: message }, 'job failed');
    try {
      // Only the delivery that still owns the job may end it, and only that one tells why in the events.
      await lease.fail({ code, message });
      return 'failed';
    } catch (failed) {
      if (failed instanceof LeaseLostError) return this.fencedOff(lease, failed);
      throw failed;
    }
  }

  /** A write was refused: another delivery holds the job. This worker is alive, so its takeover was no crash. */
  private async fencedOff(lease: JobLease, err: LeaseLostError): Promise<PlacementOutcome> {
    const retracted = await lease.retractCrash().catch(() => false);
    this.deps.log.warn({ jobId: lease.jobId, operation: err.operation, lockLostAt: lease.lockLost, crashRetracted: retracted },
      `fenced off: ${err.message}`);
    return 'fenced-off';
  }
}
