import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isImageFailure, type ImageOutcome } from '#contracts';
import { ClassQueues } from '#queue';
import { breakPixelData } from './fixtures/broken-pixels.js';
import { renderTextImage } from './fixtures/text-images.js';
import { apiFetch, getJob, startApi, submit, testEnv, waitForJob, waitUntil, WorkerProcess } from './support/stack.js';

describe('a job\'s life: per-image errors, cancel, idempotency, and a submit that could not place its job', () => {
  const env = testEnv(inject('redisUrl'), { WORKER_DEVICE: 'cpu', SWEEP_S: '0.5' });
  let api: Awaited<ReturnType<typeof startApi>>;
  let worker: WorkerProcess;
  let page: Buffer;
  let bigPage: Buffer;

  beforeAll(async () => {
    [api, worker, { png: page }, { png: bigPage }] = await Promise.all([
      startApi(env),
      WorkerProcess.start(env),
      renderTextImage({ width: 400, height: 160, lines: [{ text: 'one of four', x: 20, y: 90, fontSize: 40 }] }),
      renderTextImage({ width: 1400, height: 1000, lines: [{ text: 'a page that takes a while', x: 40, y: 500, fontSize: 64 }] }),
    ]);
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.app.close();
  });

  const resultsOf = async (id: string) => ((await (await apiFetch(`${api.url}/v1/jobs/${id}/results`)).json()) as { results: ImageOutcome[] }).results;

  it('completes the other images of a job with one corrupt image, and reports that image\'s error', async () => {
    const images = [0, 1, 2, 3].map((i) => ({ name: `p${i}.png`, data: i === 2 ? breakPixelData(page) : page }));
    const accepted = await submit(api.url, images, { model: 'ppocr-v4-det-640', allowCpu: 'true' });
    // Its structure is whole: only the decoder can tell, so the job is accepted.
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const job = await waitForJob(api.url, accepted.body.id as string);
    expect(job.state, JSON.stringify(job.events)).toBe('completed');
    expect(job.progress).toEqual({ done: 4, total: 4, failed: 1 });
    const results = await resultsOf(job.id);
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3]);
    expect(results.filter(isImageFailure)).toEqual([
      { index: 2, filename: 'p2.png', workerId: worker.workerId, error: { code: 'bad-input', message: expect.stringMatching(/^image 2 \("p2\.png"\): cannot decode image: ./) } },
    ]);
    for (const r of results.filter((r) => !isImageFailure(r))) expect(r).toMatchObject({ precision: 'fp32', boxes: [expect.anything()] });
    expect(job.events.some((e) => /^image 2 \("p2\.png"\): .*; the other images go on$/.test(e.message))).toBe(true);
    // From submit to the first delivery.
    expect(job.timings?.queueMs).toBeGreaterThanOrEqual(0);
    expect(job.timings!.queueMs!).toBeLessThan(Date.parse(job.finishedAt!) - Date.parse(job.createdAt));
  });

  it('ends a cancelled job cancelled even when it is one micro-batch that was already running', async () => {
    // Six large pages: one micro-batch on this CPU, a few seconds long.
    const images = Array.from({ length: 6 }, (_, i) => ({ name: `big${i}.png`, data: bigPage }));
    const { body } = await submit(api.url, images, { model: 'ppocr-v4-det', allowCpu: 'true' });
    const id = body.id as string;
    // Its one micro-batch has started (the batch event comes right before the run).
    await waitUntil('the micro-batch to run', async () => ((await getJob(api.url, id)).events.some((e) => e.kind === 'batch') ? true : undefined), 30_000);
    const answer = (await (await apiFetch(`${api.url}/v1/jobs/${id}`, { method: 'DELETE' })).json()) as { state: string; message: string };
    expect(answer.state).toBe('running');
    const job = await waitForJob(api.url, id);
    expect(job.events.filter((e) => e.kind === 'batch').map((e) => e.data?.batchSize)).toEqual([6]);
    expect(job.state).toBe('cancelled');
    expect(job.error).toMatchObject({ code: 'cancelled' });
    // The batch that finished after the cancel was not written.
    expect(job.progress.done).toBe(0);
    expect(await resultsOf(id)).toEqual([]);
  });

  it('answers 409 for an Idempotency-Key reused with another request, and one job for the same request sent at once', async () => {
    const one = [{ name: 'a.png', data: page }];
    const racing = await Promise.all(Array.from({ length: 6 }, () => submit(api.url, one, { model: 'ppocr-v4-det-640', allowCpu: 'true' }, { 'Idempotency-Key': 'order-7' })));
    expect(racing.map((r) => r.status)).toEqual(Array(6).fill(202));
    expect(new Set(racing.map((r) => r.body.id)).size).toBe(1);
    expect(racing.filter((r) => r.body.created === true)).toHaveLength(1);

    const otherImage = await submit(api.url, [{ name: 'a.png', data: bigPage }], { model: 'ppocr-v4-det-640', allowCpu: 'true' }, { 'Idempotency-Key': 'order-7' });
    const otherField = await submit(api.url, one, { model: 'ppocr-v4-det-640', allowCpu: 'true', priority: '9' }, { 'Idempotency-Key': 'order-7' });
    for (const reused of [otherImage, otherField]) {
      expect(reused.status).toBe(409);
      expect(reused.body).toMatchObject({ code: 'idempotency-key-reused', jobId: racing[0]!.body.id, detail: expect.stringMatching(/^Idempotency-Key "order-7" was used for job /) });
    }
    expect((await waitForJob(api.url, racing[0]!.body.id as string)).state).toBe('completed');
  });

  it('accepts a job whose placement failed after it was recorded, and the outbox sweep places it', async () => {
    // Placing fails once, as if this API lost Redis (or died) between recording the job and queueing it.
    const queues = api.app.get(ClassQueues);
    const place = queues.place.bind(queues);
    queues.place = async () => {
      queues.place = place;
      throw new Error('Connection is closed.');
    };
    const accepted = await submit(api.url, [{ name: 'a.png', data: page }], { model: 'ppocr-v4-det-640', allowCpu: 'true' });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    expect(queues.place).toBe(place);
    const job = await waitForJob(api.url, accepted.body.id as string, 30_000);
    expect(job.state).toBe('completed');
    expect(job.placements).toHaveLength(1);
  });
});
