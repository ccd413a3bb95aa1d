import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImageResult } from '#contracts';
import { renderTextImage } from './fixtures/text-images.js';
import { sleep, startApi, submit, testEnv, waitForJob, WorkerProcess } from './support/stack.js';

/** A small deterministic generator, so a failing run can be replayed with the same kill schedule. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('kill -9 at random points', () => {
  const env = testEnv(inject('redisUrl'), {
    LOCK_MS: '2000', STALLED_CHECK_MS: '1000', CPU_MEMORY_GB: '0.6', WORKER_DEVICE: 'cpu', MAX_CRASHES: '50',
  });
  const workers: WorkerProcess[] = [];
  let api: Awaited<ReturnType<typeof startApi>>;
  let page: Buffer;

  beforeAll(async () => {
    [api, { png: page }] = await Promise.all([
      startApi(env),
      renderTextImage({ width: 400, height: 160, lines: [{ text: 'chaos', x: 20, y: 90, fontSize: 40 }] }),
    ]);
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await api?.app.close();
  });

  it('every job completes and every image result is written exactly once', async () => {
    const random = mulberry32(20261125);
    const start = async () => {
      const w = await WorkerProcess.start(env);
      workers.push(w);
      return w;
    };
    let live: WorkerProcess[] = await Promise.all([start(), start()]);
    const jobs = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const { status, body } = await submit(api.url, Array.from({ length: 12 }, (_, i) => ({ name: `c${i}.png`, data: page })), { model: 'ppocr-v4-det-640', allowCpu: 'true' });
        expect(status).toBe(202);
        return body.id as string;
      }),
    );
    // Six kills at random moments of random workers, each replaced at once.
    for (let kill = 0; kill < 6; kill++) {
      await sleep(300 + random() * 1200);
      const victim = live[Math.floor(random() * live.length)]!;
      await victim.stop('SIGKILL');
      live = [...live.filter((w) => w !== victim), await start()];
    }
    let crashes = 0;
    for (const id of jobs) {
      const job = await waitForJob(api.url, id, 120_000);
      expect(job.state).toBe('completed');
      crashes += job.crashes;
      const { results } = (await (await fetch(`${api.url}/v1/jobs/${id}/results`)).json()) as { results: ImageResult[] };
      expect(results.map((r) => r.index)).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(job.progress).toEqual({ done: 12, total: 12 });
    }
    // Some kills land between jobs; at least one must have hit a running job for the test to mean anything.
    expect(crashes).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
