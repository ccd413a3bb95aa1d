import { describe, expect, inject, it } from 'vitest';
import type { ImageResult } from '#contracts';
import { apiFetch, sleep, testEnv, type WorkerProcess, waitForJob } from './support/stack.js';
import { FAST_TAKEOVER, useCrashCluster } from './support/crash-cluster.js';
import { mulberry32 } from './support/seeded-random.js';

describe('kill -9 at random points', () => {
  const env = testEnv(inject('redisUrl'), { ...FAST_TAKEOVER, MAX_CRASHES: '50' });
  const cluster = useCrashCluster(env, 'chaos');

  it('every job completes and every image result is written exactly once', async () => {
    const random = mulberry32(20261125);
    const { start, submitPages } = cluster;
    let live: WorkerProcess[] = await Promise.all([start(), start()]);
    const jobs = await Promise.all(Array.from({ length: 4 }, () => submitPages(12)));
    // Six kills at random moments of random workers, each replaced at once.
    for (let kill = 0; kill < 6; kill++) {
      await sleep(300 + random() * 1200);
      const victim = live[Math.floor(random() * live.length)]!;
      await victim.stop('SIGKILL');
      live = [...live.filter((w) => w !== victim), await start()];
    }
    let crashes = 0;
    for (const id of jobs) {
      const job = await waitForJob(cluster.api.url, id, 120_000);
      expect(job.state).toBe('completed');
      crashes += job.crashes;
      const { results } = (await (await apiFetch(`${cluster.api.url}/v1/jobs/${id}/results`)).json()) as { results: ImageResult[] };
      expect(results.map((r) => r.index)).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(job.progress).toEqual({ done: 12, total: 12 });
    }
    // Some kills land between jobs; at least one must have hit a running job for the test to mean anything.
    expect(crashes).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
