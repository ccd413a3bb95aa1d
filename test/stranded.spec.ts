import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImageResult } from '#contracts';
import { renderTextImage } from './fixtures/text-images.js';
import { apiFetch, startApi, submit, testEnv, waitForJob, WorkerProcess } from './support/stack.js';

const T4 = { name: 'Tesla T4', computeCapability: 7.5, totalGb: 16, precisions: ['fp16', 'fp32'] };

describe('a job whose class loses every worker does not wait forever', () => {
  const env = testEnv(inject('redisUrl'), { STRANDED_AFTER_S: '2', SWEEP_S: '0.5' });
  let api: Awaited<ReturnType<typeof startApi>>;
  let t4: WorkerProcess;
  let cpu: WorkerProcess;
  let page: Buffer;

  beforeAll(async () => {
    [api, t4, cpu, { png: page }] = await Promise.all([
      startApi(env),
      WorkerProcess.start({ ...env, WORKER_DECLARE: JSON.stringify(T4) }),
      WorkerProcess.start({ ...env, WORKER_DEVICE: 'cpu' }),
      renderTextImage({ width: 320, height: 120, lines: [{ text: 'stranded', x: 20, y: 70, fontSize: 36 }] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([t4?.stop('SIGKILL'), cpu?.stop()]);
    await api?.app.close();
  });

  it('moves it to a class that serves its precision, or fails it with the reasons, once STRANDED_AFTER_S passed', async () => {
    // The T4 freezes: its advert lives on for WORKER_TTL_S, so jobs are still routed to its classes, where nobody takes them.
    t4.child.kill('SIGSTOP');
    const fp32 = await submit(api.url, [{ name: 'a.png', data: page }], { model: 'ppocr-v4-det-640', precision: 'fp32', allowCpu: 'true' });
    const fp16 = await submit(api.url, [{ name: 'b.png', data: page }], { model: 'ppocr-v4-det-640', precision: 'fp16' });
    expect(fp32.status, JSON.stringify(fp32.body)).toBe(202);
    expect(fp16.status, JSON.stringify(fp16.body)).toBe(202);
    const gpuFp32 = fp32.body.className as string;
    expect(gpuFp32).toMatch(/^gpu-fp32-/);
    expect(fp16.body.className).toMatch(/^gpu-fp16-/);

    // fp32 may run on the CPU (allowCpu): it is moved there and completes, still promised fp32.
    const moved = await waitForJob(api.url, fp32.body.id as string, 60_000);
    expect(moved.state, JSON.stringify(moved.events)).toBe('completed');
    expect(moved.placements.map((p) => p.className)).toEqual([gpuFp32, 'cpu-fp32']);
    expect(moved.precision).toMatchObject({ promised: 'fp32', used: 'fp32' });
    const reroute = moved.events.find((e) => e.kind === 'reroute')!;
    expect(reroute.message).toMatch(new RegExp(`^no live worker has served ${gpuFp32} for [2-9] s; moved to cpu-fp32`));
    const { results } = (await (await apiFetch(`${api.url}/v1/jobs/${moved.id}/results`)).json()) as { results: ImageResult[] };
    expect(results[0]!.workerId).toBe(cpu.workerId);

    // fp16 has nowhere else to go: it fails with the reasons instead of waiting forever.
    const failed = await waitForJob(api.url, fp16.body.id as string, 60_000);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'no-capacity', message: expect.stringMatching(/no live worker has served gpu-fp16-\d+g for \d+ s, and no other class can take it in fp16/) });
    expect(failed.error!.reasons!.length).toBeGreaterThan(0);
  }, 120_000);
});
