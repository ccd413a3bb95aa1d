import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImageResult, MemoryProfile } from '#contracts';
import { renderTextImage } from './fixtures/text-images.js';
import { apiFetch, startApi, submit, testEnv, waitForJob, WorkerProcess } from './support/stack.js';

/**
 * A worker that believes it has 8 GB but runs under `ulimit -v` of 3.5 GB: its first micro-batches hit real
 * allocation failures inside onnxruntime (BFCArena), exactly as an over-optimistic profile would on a GPU.
 */
describe('out of memory is survivable (real allocation failures under ulimit -v)', () => {
  const env = testEnv(inject('redisUrl'), { WORKER_DEVICE: 'cpu', CPU_MEMORY_GB: '8' });
  let api: Awaited<ReturnType<typeof startApi>>;
  let worker: WorkerProcess;
  let page: Buffer;

  beforeAll(async () => {
    [api, worker, { png: page }] = await Promise.all([
      startApi(env),
      WorkerProcess.start(env, { ulimitVKb: 3_500_000 }),
      renderTextImage({ width: 900, height: 500, lines: [{ text: 'out of memory is normal', x: 40, y: 260, fontSize: 48 }] }),
    ]);
  });

  afterAll(async () => {
    await worker?.stop();
    await api?.app.close();
  });

  it('splits the batch, keeps every image, and lowers the stored profile', async () => {
    const images = Array.from({ length: 24 }, (_, i) => ({ name: `o${i}.png`, data: page }));
    const { status, body } = await submit(api.url, images, { allowCpu: 'true' });
    expect(status).toBe(202);
    const job = await waitForJob(api.url, body.id as string, 240_000);
    expect(job.state, JSON.stringify({ error: job.error, events: job.events })).toBe('completed');

    const ooms = job.events.filter((e) => e.kind === 'oom');
    expect(ooms.length).toBeGreaterThanOrEqual(1);
    expect(ooms[0]!.message).toMatch(/out of memory at micro-batch \d+/);
    expect(ooms[0]!.message).toMatch(/BFCArena|Failed to allocate|allocation/i);

    const { results } = (await (await apiFetch(`${api.url}/v1/jobs/${job.id}/results`)).json()) as { results: ImageResult[] };
    expect(results.map((r) => r.index)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    for (const r of results) expect(r.boxes.length).toBeGreaterThanOrEqual(1);
    const firstFailed = Number(/micro-batch (\d+)/.exec(ooms[0]!.message)![1]);
    // Each retry at least halves the micro-batch that ran out.
    const failedSizes = ooms.map((e) => Number(/micro-batch (\d+)/.exec(e.message)![1]));
    for (let i = 1; i < failedSizes.length; i++) expect(failedSizes[i]).toBeLessThanOrEqual(Math.floor(failedSizes[i - 1]! / 2));
    expect(Math.max(...results.map((r) => r.batchSize))).toBeLessThanOrEqual(Math.floor(failedSizes.at(-1)! / 2));

    // The next job on this device starts below the failing size.
    const profiles = (await (await apiFetch(`${api.url}/v1/profiles`)).json()) as MemoryProfile[];
    const learned = profiles.find((p) => p.model === 'ppocr-v4-det' && p.precision === 'fp32' && p.device === 'cpu');
    expect(learned).toMatchObject({ source: 'learned' });
    expect(learned!.capBatch).toBeLessThan(firstFailed);
  });
});
