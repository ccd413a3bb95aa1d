import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImageResult, WorkerAdvert } from '#contracts';
import { renderTextImage } from './fixtures/text-images.js';
import { apiFetch, sleep, startApi, submit, testEnv, waitForJob, WorkerProcess } from './support/stack.js';

const T4 = { name: 'Tesla T4', computeCapability: 7.5, totalGb: 16, precisions: ['fp16', 'fp32'] };
const A10 = { name: 'NVIDIA A10', computeCapability: 8.6, totalGb: 24, precisions: ['bf16', 'fp16', 'fp32'] };

describe('routing by proven precision across three worker processes', () => {
  const env = testEnv(inject('redisUrl'));
  let api: Awaited<ReturnType<typeof startApi>>;
  let t4: WorkerProcess;
  let a10: WorkerProcess;
  let cpu: WorkerProcess;
  let image: Buffer;

  beforeAll(async () => {
    [api, t4, a10, cpu, { png: image }] = await Promise.all([
      startApi(env),
      WorkerProcess.start({ ...env, WORKER_DECLARE: JSON.stringify(T4) }),
      WorkerProcess.start({ ...env, WORKER_DECLARE: JSON.stringify(A10) }),
      WorkerProcess.start({ ...env, WORKER_DEVICE: 'cpu' }),
      renderTextImage({ width: 320, height: 120, lines: [{ text: 'route me', x: 20, y: 70, fontSize: 36 }] }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([t4, a10, cpu].map((w) => w?.stop()));
    await api?.app.close();
  });

  it('advertises each worker with its declared or probed capability and classes', async () => {
    const workers = (await (await apiFetch(`${api.url}/v1/workers`)).json()) as WorkerAdvert[];
    const byId = new Map(workers.map((w) => [w.workerId, w]));
    expect(byId.get(t4.workerId)).toMatchObject({ device: { source: 'declared', gpu: { name: 'Tesla T4', computeCapability: 7.5 } } });
    expect(byId.get(t4.workerId)!.classes).not.toContain('gpu-bf16-16g');
    expect(byId.get(a10.workerId)!.classes[0]).toBe('gpu-bf16-24g');
    expect(byId.get(cpu.workerId)).toMatchObject({ device: { source: 'probed', kind: 'cpu' }, classes: ['cpu-fp32'] });
  });

  it('runs every job only on a worker that proved its precision', async () => {
    const cases = [
      ...Array.from({ length: 3 }, () => ({ fields: { precision: 'bf16' }, allowed: [a10.workerId], promised: 'bf16' })),
      ...Array.from({ length: 3 }, () => ({ fields: { precision: 'auto' }, allowed: [a10.workerId], promised: 'bf16' })),
      ...Array.from({ length: 4 }, () => ({ fields: { precision: 'fp16' }, allowed: [t4.workerId, a10.workerId], promised: 'fp16' })),
      ...Array.from({ length: 2 }, () => ({ fields: { precision: 'fp32', allowCpu: 'true' }, allowed: [t4.workerId, a10.workerId], promised: 'fp32' })),
    ];
    const submitted = await Promise.all(
      cases.map(async (c) => ({ ...c, res: await submit(api.url, [{ name: 'r.png', data: image }], { model: 'ppocr-v4-det-640', ...c.fields }) })),
    );
    for (const c of submitted) {
      expect(c.res.status).toBe(202);
      const job = await waitForJob(api.url, c.res.body.id as string, 120_000);
      expect(job.state).toBe('completed');
      expect(job.precision.promised).toBe(c.promised);
      const { results } = (await (await apiFetch(`${api.url}/v1/jobs/${job.id}/results`)).json()) as { results: ImageResult[] };
      expect(c.allowed, `${JSON.stringify(c.fields)} ran on ${results[0]!.workerId}`).toContain(results[0]!.workerId);
      // Declared workers compute fp32 on the CPU provider, and say so in the answer, the record and every result.
      expect(c.res.body.precision.reason).toContain('declared (not measured)');
      expect(job.precision).toMatchObject({ source: 'declared', used: 'fp32', measured: { flopsShare: { fp32: 1 }, provider: 'CPUExecutionProvider' } });
      expect(results[0]).toMatchObject({ precisionSource: 'declared', precision: 'fp32', measured: { computedIn: 'fp32', share: 1 } });
    }
  });

  it('refuses bf16 with the reasons when no bf16 worker is alive, and forgets a dead worker within its TTL', async () => {
    await a10.stop('SIGKILL');
    const deadline = Date.now() + 10_000;
    let workers: WorkerAdvert[] = [];
    while (Date.now() < deadline) {
      workers = (await (await apiFetch(`${api.url}/v1/workers`)).json()) as WorkerAdvert[];
      if (!workers.some((w) => w.workerId === a10.workerId)) break;
      await sleep(250);
    }
    expect(workers.map((w) => w.workerId).sort()).toEqual([t4.workerId, cpu.workerId].sort());

    const refused = await submit(api.url, [{ name: 'r.png', data: image }], { precision: 'bf16' });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body.reasons)).toContain('compute capability 7.5 < 8.0');
    // auto now promises fp16 (the T4), and says so.
    const auto = await submit(api.url, [{ name: 'r.png', data: image }], { model: 'ppocr-v4-det-640' });
    expect(auto.body.precision.promised).toBe('fp16');
    expect(auto.body.precision.reason).toMatch(/bf16/);
    expect(auto.body.precision.reason).toContain('fp16 declared (not measured) on 1 live worker(s)');
    const job = await waitForJob(api.url, auto.body.id as string, 60_000);
    expect(job.state).toBe('completed');
  });
});
