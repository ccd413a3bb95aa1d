import { describe, expect, inject, it } from 'vitest';
import { FAST_TAKEOVER, useCrashCluster } from './support/crash-cluster.js';
import { testEnv, waitForJob } from './support/stack.js';

describe('two jobs at once on one device (WORKER_CONCURRENCY=2)', () => {
  // 0.6 GB for the CPU: one job's micro-batch takes most of it.
  const env = testEnv(inject('redisUrl'), { ...FAST_TAKEOVER, LOCK_MS: '30000', WORKER_CONCURRENCY: '2' });
  const cluster = useCrashCluster(env, 'shared');

  it('never over-commit it: the second waits for the memory the first holds, and both complete', async () => {
    await cluster.start();
    const ids = await Promise.all([cluster.submitPages(6), cluster.submitPages(6)]);
    const jobs = await Promise.all(ids.map((id) => waitForJob(cluster.api.url, id, 120_000)));
    for (const job of jobs) {
      expect(job.state, JSON.stringify(job.events)).toBe('completed');
      expect(job.events.filter((e) => e.kind === 'oom' || e.kind === 'failed')).toEqual([]);
      for (const batch of job.events.filter((e) => e.kind === 'batch')) {
        // What every job on the device had reserved, this batch included, within the device.
        expect(batch.data!.reservedBytes as number).toBeLessThanOrEqual(batch.data!.capacityBytes as number);
      }
    }
    const waits = jobs.flatMap((j) => j.events.filter((e) => e.kind === 'wait'));
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits[0]!.message).toMatch(/\(held by other work\); waiting for memory/);
  }, 180_000);
});
