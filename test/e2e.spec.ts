import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImageResult } from '#contracts';
import { ClassQueues, createRedis, Keys } from '#queue';
import { coverage, renderTextImage, sampleImages } from './fixtures/text-images.js';
import { apiFetch, getJob, startApi, submit, testEnv, waitForJob, WorkerProcess } from './support/stack.js';

describe('end to end: API + CPU worker + real Redis + PP-OCRv4 detection', () => {
  const env = testEnv(inject('redisUrl'));
  let api: Awaited<ReturnType<typeof startApi>>;
  let worker: WorkerProcess;
  let rendered: Awaited<ReturnType<typeof renderTextImage>>[];

  beforeAll(async () => {
    [api, worker, rendered] = await Promise.all([
      startApi(env),
      WorkerProcess.start(env),
      Promise.all(sampleImages().map(renderTextImage)),
    ]);
  });

  afterAll(async () => {
    await worker?.stop();
    await api?.app.close();
  });

  it('lists the built-in models and the live worker', async () => {
    const models = (await (await apiFetch(`${api.url}/v1/models`)).json()) as { id: string }[];
    expect(models.map((m) => m.id)).toContain('ppocr-v4-det');
    const workers = (await (await apiFetch(`${api.url}/v1/workers`)).json()) as { workerId: string; device: { kind: string; source: string } }[];
    expect(workers).toHaveLength(1);
    expect(workers[0]!.device).toMatchObject({ kind: 'cpu', source: 'probed' });
  });

  it('detects the drawn text lines where they were drawn', async () => {
    const images = rendered.map((r, i) => ({ name: `sample-${i}.png`, data: r.png }));
    const accepted = await submit(api.url, images, { allowCpu: 'true' });
    expect(accepted.status).toBe(202);
    expect(accepted.body.className).toBe('cpu-fp32');
    const job = await waitForJob(api.url, accepted.body.id as string, 120_000);
    expect(job.state).toBe('completed');
    expect(job.progress).toEqual({ done: 3, total: 3 });
    expect(job.precision).toMatchObject({ policy: 'auto', promised: 'fp32', used: 'fp32', provider: 'cpu', source: 'measured' });
    // Measured, not copied from the promise: onnxruntime's profile of the session's run.
    expect(job.precision.measured).toMatchObject({ provider: 'CPUExecutionProvider', flopsShare: { fp32: 1 }, exceptions: [] });
    expect(job.events.map((e) => e.message)).toContainEqual(expect.stringMatching(/^ran in fp32: measured 100\.0 % of the arithmetic in fp32/));
    expect(job.timings?.runMs).toBeGreaterThan(0);

    const { results } = (await (await apiFetch(`${api.url}/v1/jobs/${job.id}/results`)).json()) as { results: ImageResult[] };
    expect(results.map((r) => r.index)).toEqual([0, 1, 2]);
    for (const [i, result] of results.entries()) {
      expect(result).toMatchObject({ precision: 'fp32', precisionSource: 'measured', measured: { computedIn: 'fp32', share: 1 }, provider: 'cpu', filename: `sample-${i}.png` });
      // Every drawn line is covered by a detected box of comparable size...
      for (const expected of rendered[i]!.boxes) {
        const best = Math.max(...result.boxes.map((b) => coverage(expected, b.box)));
        expect(best, `line at ${JSON.stringify(expected)} in image ${i}`).toBeGreaterThanOrEqual(0.8);
      }
      // ...and no box lies where nothing was drawn.
      for (const found of result.boxes) {
        const onText = rendered[i]!.boxes.some((e) => coverage(found.box, e) > 0.3);
        expect(onText, `box ${JSON.stringify(found.box)} in image ${i}`).toBe(true);
        expect(found.score).toBeGreaterThan(0.6);
      }
    }
  });

  it('refuses bad input with a 4xx and queues nothing', async () => {
    const redis = createRedis(env.REDIS_URL);
    const queues = new ClassQueues(redis, new Keys(env.GPUQ_PREFIX));
    const depthBefore = JSON.stringify(await queues.depths());
    const png = rendered[0]!.png;
    const cases = [
      { name: 'unknown model', res: await submit(api.url, [{ name: 'a.png', data: png }], { model: 'nope', allowCpu: 'true' }), status: 400, match: /unknown model/ },
      { name: 'no images', res: await submit(api.url, [], { allowCpu: 'true' }), status: 400, match: /no images/ },
      { name: 'not an image', res: await submit(api.url, [{ name: 'a.txt', data: Buffer.from('hello, not an image') }], { allowCpu: 'true' }), status: 415, match: /not a recognised image format/ },
      { name: 'bad precision', res: await submit(api.url, [{ name: 'a.png', data: png }], { precision: 'int4' }), status: 400, match: /precision/ },
      { name: 'unknown field', res: await submit(api.url, [{ name: 'a.png', data: png }], { colour: 'red' }), status: 400, match: /colour|unrecognized/i },
    ];
    for (const c of cases) {
      expect(c.res.status, c.name).toBe(c.status);
      expect(String(c.res.body.detail), c.name).toMatch(c.match);
    }
    // A GPU-only policy with only a CPU worker alive: refused with the reason, not queued.
    const gpuOnly = await submit(api.url, [{ name: 'a.png', data: png }], { precision: 'fp16' });
    expect(gpuOnly.status).toBe(422);
    expect(gpuOnly.body.code).toBe('no-capacity');
    expect(gpuOnly.body.reasons.length).toBeGreaterThan(0);
    expect(JSON.stringify(await queues.depths())).toBe(depthBefore);
    await queues.close();
    redis.disconnect();
  });

  it('returns the same job for the same Idempotency-Key', async () => {
    const image = [{ name: 'a.png', data: rendered[1]!.png }];
    const first = await submit(api.url, image, { allowCpu: 'true' }, { 'Idempotency-Key': 'order-42' });
    const second = await submit(api.url, image, { allowCpu: 'true' }, { 'Idempotency-Key': 'order-42' });
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.created).toBe(false);
    await waitForJob(api.url, first.body.id as string, 60_000);
  });

  it('cancels a queued job and 404s unknown ids', async () => {
    // Waiting for capacity in a class no worker serves: stays queued, so cancel removes it at once.
    const queued = await submit(api.url, [{ name: 'a.png', data: rendered[0]!.png }], { precision: 'bf16', waitForCapacity: 'true' });
    expect(queued.status).toBe(202);
    expect(queued.body.state).toBe('waiting-for-capacity');
    const cancel = await apiFetch(`${api.url}/v1/jobs/${queued.body.id}`, { method: 'DELETE' });
    expect(((await cancel.json()) as { state: string }).state).toBe('cancelled');
    expect((await getJob(api.url, queued.body.id as string)).state).toBe('cancelled');
    expect((await apiFetch(`${api.url}/v1/jobs/does-not-exist`)).status).toBe(404);
  });

  it('serves OpenAPI at /docs', async () => {
    const spec = (await (await fetch(`${api.url}/docs/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/results', '/v1/models', '/v1/workers']));
  });
});
