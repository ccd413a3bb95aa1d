import type { JobError } from '#contracts';
import type { JobLease } from '#queue';
import { checkWait } from '#scheduling';
import type { ExecutorDeps, PlacementOutcome, PlacementRun } from './placement-run.js';

export interface HandBack {
  /** What it waits for, in the job's events: "memory held by other work", … */
  why: string;
  delayMs: number;
  /** The outcome while it waits, and the error it fails with once it has waited MAX_WAIT_S. */
  outcome: PlacementOutcome;
  failWith: JobError['code'];
  /** Marks the event, so a job that waits again logs it once, not on every hand-back. */
  reason: string;
}

/**
 * Not now or not here (memory held by other work; a model this worker may not run in that precision): the
 * placement goes back to its queue after a pause, for this or any worker, while the job has waited less than
 * MAX_WAIT_S since it last made progress; past that, it fails with the reason and how long it waited.
 */
export async function handBack(deps: ExecutorDeps, lease: JobLease, wait: HandBack): Promise<PlacementOutcome> {
  const check = checkWait(lease.record.waitingSince, Date.now(), deps.config.MAX_WAIT_S * 1000);
  if (check.exceeded) {
    const message = `${wait.why}; waited ${Math.round(check.waitedMs / 1000)} s (MAX_WAIT_S=${deps.config.MAX_WAIT_S}) without running a batch`;
    await lease.fail({ code: wait.failWith, message });
    deps.log.warn({ jobId: lease.jobId, code: wait.failWith, message }, 'job failed');
    return 'failed';
  }
  const last = lease.record.events.at(-1);
  const event = last?.data?.reason === wait.reason ? undefined : lease.event('wait', wait.why, { reason: wait.reason, retryAfterMs: wait.delayMs });
  const outcome = await lease.requeue({ delayMs: wait.delayMs, waiting: true, event });
  return outcome === 'cancelled' ? 'cancelled' : wait.outcome;
}

/** A run's hand-back, with its lease. */
export const handBackRun = (run: PlacementRun, wait: HandBack) => handBack(run.deps, run.lease, wait);
