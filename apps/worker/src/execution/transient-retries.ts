import { TransientError } from '#contracts';
import { classifyError, transientBackoffMs } from '#scheduling';
import type { PlacementRun } from './placement-run.js';

/** A transient error that kept coming back past TRANSIENT_RETRIES: the job fails `transient` with it. */
export class RetriesExhausted extends Error {
  constructor(readonly attempts: number, readonly waitedMs: number, readonly last: string) {
    super(`gave up after ${attempts} attempts over ${(waitedMs / 1000).toFixed(1)} s: ${last}`);
    this.name = this.constructor.name;
  }
}

/**
 * Runs `step` (a micro-batch: its images fetched, its run), trying again after a transient error (a connection
 * reset or closed, a GPU device lost) with a bounded, doubling backoff. Other errors are thrown as they come.
 */
export async function withTransientRetries<T>(run: PlacementRun, what: string, step: () => Promise<T>): Promise<T> {
  const { config, sessions } = run.deps;
  let waitedMs = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      const kind = classifyError(err);
      if (kind.kind !== 'transient') throw err;
      const backoffMs = transientBackoffMs(attempt, config.TRANSIENT_RETRIES, config.TRANSIENT_BACKOFF_MS);
      if (backoffMs === undefined) throw new RetriesExhausted(attempt, waitedMs, kind.message);
      await run.lease.addEvent(run.event('retry', `${what}: ${kind.message.slice(0, 300)}; transient, trying again in ${(backoffMs / 1000).toFixed(1)} s (retry ${attempt} of ${config.TRANSIENT_RETRIES})`,
        { attempt, backoffMs }));
      run.deps.log.warn({ jobId: run.jobId, attempt, backoffMs, err: kind.message }, 'transient error; retrying');
      await new Promise((r) => setTimeout(r, backoffMs));
      waitedMs += backoffMs;
      // A lost device (typed where onnxruntime's errors enter) takes its session with it: the next attempt runs on
      // one created again. A connection that failed leaves the session as it was.
      if (err instanceof TransientError) {
        await sessions.discard(run.session.key);
        run.session = await sessions.get(run.manifest, run.executed, run.deps.device.provider);
        run.memory = run.deps.memory.forSession(run.session.key);
      }
    }
  }
}
