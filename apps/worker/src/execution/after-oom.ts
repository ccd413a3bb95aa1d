import type { JobLease } from '#queue';
import { decideAfterOom, largerClasses, lowerProfileAfterOom, MEMORY_WAIT_MS, parseClassName } from '#scheduling';
import { handBack, handBackRun } from './hand-back.js';
import type { ExecutorDeps, PlacementOutcome, PlacementRun } from './placement-run.js';

/**
 * The job's session could not be created: the device ran out of memory loading the model or fitting its variant
 * (seen on the H200 with another process holding all but 150 MiB: the variant's trial run failed in the CUDA
 * arena). Nothing ran, so no profile is lowered; the memory is held by other work, so the job waits for it as a
 * job short of memory does (handed back, within MAX_WAIT_S), instead of failing.
 */
export async function sessionOutOfMemory(deps: ExecutorDeps, lease: JobLease, message: string): Promise<PlacementOutcome> {
  deps.log.warn({ jobId: lease.jobId, err: message }, 'out of memory creating the session');
  deps.metrics.oom(lease.className);
  return handBack(deps, lease, {
    why: `out of memory creating the model's session: ${message}; waiting for memory other work holds`,
    delayMs: MEMORY_WAIT_MS, outcome: 'waiting-for-memory', failWith: 'out-of-memory', reason: 'memory',
  });
}

/**
 * After an OOM (or when not even one image fits what is left now): retry smaller (undefined: the run's profile
 * is lowered, fit again), wait for memory other jobs hold, move the job to a larger class, or fail it.
 * `availableBytes` is free memory minus what other jobs reserved. When a batch really ran out (`measured`), the
 * stored profile of this device is lowered and capped at the retry size (at least a halving), so the next job
 * starts below the failure too.
 */
export async function afterOom(run: PlacementRun, batchSize: number, availableBytes: number, message: string, measured: boolean): Promise<PlacementOutcome | undefined> {
  const { deps, lease, record } = run;
  const lowered = measured ? lowerProfileAfterOom(run.profile, batchSize, availableBytes, new Date().toISOString()) : run.profile;
  const decision = decideAfterOom({
    className: lease.className, batchSize, remainingImages: run.remaining.length, separable: record.requirement.separable, profile: lowered,
    availableBytes, capacityBytes: deps.device.totalBytes,
  });
  const next = decision.action === 'retry' ? { ...lowered, capBatch: Math.min(lowered.capBatch ?? decision.batchSize, decision.batchSize) } : lowered;
  if (measured) await deps.profiles.put({ ...next, deviceId: deps.deviceId });
  deps.log.warn({ jobId: run.jobId, batchSize, availableBytes, decision }, 'out of memory');
  if (decision.action === 'wait') deps.metrics.waited(lease.className);
  else if (measured) deps.metrics.oom(lease.className);
  if (decision.action === 'wait') {
    return handBackRun(run, { why: `${message}; ${decision.why}`, delayMs: decision.retryAfterMs, outcome: 'waiting-for-memory', failWith: 'out-of-memory', reason: 'memory' });
  }
  await lease.addEvent(run.event('oom', `${message}; ${decision.why}`, { batchSize, availableBytes, action: decision.action }));
  if (decision.action === 'retry') {
    run.profile = next;
    return undefined;
  }
  if (decision.action === 'fail') return run.fail('out-of-memory', `${message}; ${decision.why}`);
  return reroute(run, decision.toClassName, `${message}; ${decision.why}`);
}

/** Moves the job to the next larger class a live worker serves; with none, it fails with the numbers (or waits there, if asked to). */
async function reroute(run: PlacementRun, nextLarger: string, why: string): Promise<PlacementOutcome> {
  const { deps, lease, record } = run;
  const live = (await deps.registry.list()).filter((w) => w.status === 'ready');
  const served = [nextLarger, ...largerClasses(nextLarger)].find((c) => live.some((w) => w.classes.includes(c)));
  if (!served && !record.waitForCapacity) return run.fail('out-of-memory', `${why}; no live worker serves ${nextLarger} or any larger class`);
  const toClassName = served ?? nextLarger;
  const requirement = { ...record.requirement, minTierGb: parseClassName(toClassName).tierGb };
  await lease.reroute(toClassName, requirement, why, run.event('reroute', `moved from ${lease.className} to ${toClassName}: ${why}`));
  return 'rerouted';
}
