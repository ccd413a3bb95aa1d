import { describe, expect, inject, it } from 'vitest';
import type { ImageResult } from '#contracts';
import { apiFetch, getJob, testEnv, waitForJob, waitUntil } from './support/stack.js';
import { FAST_TAKEOVER, useCrashCluster } from './support/crash-cluster.js';

describe('crashes lose nothing', () => {
  const env = testEnv(inject('redisUrl'), { ...FAST_TAKEOVER, MAX_CRASHES: '2' });
  const cluster = useCrashCluster(env, 'checkpoint');
  const { start, submitPages } = cluster;

  it('resumes a job on another worker after kill -9, writing each image exactly once', async () => {
    const first = await start();
    const id = await submitPages(16);
    await waitUntil('some checkpoints', async () => ((await getJob(cluster.api.url, id)).progress.done >= 3 ? true : undefined));
    await first.stop('SIGKILL');
    const doneAtKill = (await getJob(cluster.api.url, id)).progress.done;
    expect(doneAtKill).toBeLessThan(16);

    const second = await start();
    const job = await waitForJob(cluster.api.url, id, 120_000);
    expect(job.state).toBe('completed');
    expect(job.crashes).toBe(1);
    expect(job.events.some((e) => e.kind === 'crash' && e.message.includes(first.workerId))).toBe(true);
    const { results } = (await (await apiFetch(`${cluster.api.url}/v1/jobs/${id}/results`)).json()) as { results: ImageResult[] };
    expect(results.map((r) => r.index)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    const byWorker = new Set(results.map((r) => r.workerId));
    expect(byWorker).toEqual(new Set([first.workerId, second.workerId]));
    // Batches were sized to the 0.6 GB budget, not one big batch.
    expect(Math.max(...results.map((r) => r.batchSize))).toBeLessThan(16);
    await second.stop();
  });

  it('stops a job that keeps killing its workers as poison, with the reason', async () => {
    let worker = await start();
    const id = await submitPages(40);
    for (let crash = 1; crash <= 2; crash++) {
      if (crash > 1) worker = await start();
      await waitUntil('the worker to run the job', async () => ((await getJob(cluster.api.url, id)).activeDelivery?.workerId === worker.workerId ? true : undefined))
        .catch(async (err) => { throw new Error(`${err} (crash ${crash}): ${JSON.stringify(await getJob(cluster.api.url, id)).slice(0, 1500)}\n${worker.lines.slice(-8).join('\n')}`); });
      await worker.stop('SIGKILL');
    }
    const last = await start();
    const job = await waitForJob(cluster.api.url, id, 60_000).catch(async (err) => {
      throw new Error(`${err}\nlast worker log:\n${last.lines.slice(-15).join('\n')}`);
    });
    expect(job.state).toBe('failed');
    expect(job.error?.code).toBe('poison');
    expect(job.error?.message).toMatch(/worker died 2 times/);
    expect(job.crashes).toBe(2);
    await last.stop();
  }, 180_000);

  it('drains on SIGTERM: the running job is handed back, not counted as a crash, and finishes elsewhere', async () => {
    const first = await start();
    const id = await submitPages(30);
    await waitUntil('a checkpoint', async () => ((await getJob(cluster.api.url, id)).progress.done >= 2 ? true : undefined));
    expect(await first.stop('SIGTERM')).toBe(0);
    await start();
    const job = await waitForJob(cluster.api.url, id, 120_000);
    expect(job.state).toBe('completed');
    expect(job.crashes).toBe(0);
    expect(job.events.some((e) => e.kind === 'drain'), `${JSON.stringify(job.events)}\n${first.lines.slice(-6).join('\n')}`).toBe(true);
  });

  it('cancels a running job at its next micro-batch and keeps the finished images', async () => {
    const worker = await start();
    const id = await submitPages(30);
    await waitUntil('a checkpoint', async () => ((await getJob(cluster.api.url, id)).progress.done >= 2 ? true : undefined));
    const answer = (await (await apiFetch(`${cluster.api.url}/v1/jobs/${id}`, { method: 'DELETE' })).json()) as { state: string; message: string };
    expect(answer.state).toBe('running');
    expect(answer.message).toMatch(/next batch boundary/);
    const job = await waitForJob(cluster.api.url, id, 60_000);
    expect(job.state).toBe('cancelled');
    expect(job.progress.done).toBeGreaterThanOrEqual(2);
    expect(job.progress.done).toBeLessThan(30);
    const { results } = (await (await apiFetch(`${cluster.api.url}/v1/jobs/${id}/results`)).json()) as { results: ImageResult[] };
    expect(results).toHaveLength(job.progress.done);
    await worker.stop();
  });
});
