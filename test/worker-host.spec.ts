import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImageResult, WorkerAdvert } from '#contracts';
import { renderTextImage } from './fixtures/text-images.js';
import { apiFetch, client, sleep, startApi, submit, testEnv, waitForJob, waitUntil } from './support/stack.js';

const host = join(fileURLToPath(new URL('../', import.meta.url)), 'dist/apps/worker/src/host.js');
const A10 = { name: 'NVIDIA A10', computeCapability: 8.6, totalGb: 24, precisions: ['bf16', 'fp16', 'fp32'] };
const T4 = { name: 'Tesla T4', computeCapability: 7.5, totalGb: 16, precisions: ['fp16', 'fp32'] };

describe('a worker host with several (declared) GPUs: one worker process per GPU', () => {
  // The test polls /v1/workers every 50 ms for up to half a minute: more than a key's default rate allows.
  const env = testEnv(inject('redisUrl'), { WORKER_DECLARE: JSON.stringify([A10, T4]), RATE_LIMIT_PER_MIN: '100000', RATE_LIMIT_BURST: '1000' });
  let api: Awaited<ReturnType<typeof startApi>>;
  let page: Buffer;
  let child: ChildProcess;

  const workers = () => client(api.url).workers(); // throws the API's problem (a 429, say) instead of returning it as a list
  beforeAll(async () => {
    child = spawn(process.execPath, [host], { env: { ...process.env, ...env }, stdio: 'ignore' });
    [api, { png: page }] = await Promise.all([
      startApi(env),
      renderTextImage({ width: 320, height: 120, lines: [{ text: 'two cards', x: 20, y: 70, fontSize: 36 }] }),
    ]);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await api?.app.close();
  });

  it('advertises each GPU as its own worker, with its own classes and ledger', async () => {
    const both = await waitUntil('two workers', async () => ((await workers()).length === 2 ? workers() : undefined), 30_000);
    const byGpu = new Map(both.map((w) => [w.device.gpu!.index, w]));
    expect(byGpu.get(0)).toMatchObject({ device: { source: 'declared', gpu: { name: 'NVIDIA A10' } }, reservedBytes: 0 });
    expect(byGpu.get(1)).toMatchObject({ device: { source: 'declared', gpu: { name: 'Tesla T4' } }, reservedBytes: 0 });
    expect(byGpu.get(0)!.pid).not.toBe(byGpu.get(1)!.pid);
    expect(byGpu.get(0)!.classes[0]).toBe('gpu-bf16-24g');
    expect(byGpu.get(1)!.classes).not.toContain('gpu-bf16-16g');
  });

  it('places bf16 jobs only on the bf16 card of the host', async () => {
    const a10 = (await workers()).find((w) => w.device.gpu!.index === 0)!;
    for (let i = 0; i < 3; i++) {
      const { body } = await submit(api.url, [{ name: 'p.png', data: page }], { model: 'ppocr-v4-det-640', precision: 'bf16' });
      const job = await waitForJob(api.url, body.id as string, 60_000);
      expect(job.state).toBe('completed');
      const { results } = (await (await apiFetch(`${api.url}/v1/jobs/${job.id}/results`)).json()) as { results: ImageResult[] };
      expect(results[0]!.workerId).toBe(a10.workerId);
    }
  });

  it('keeps a ledger per GPU: two jobs at once, each reserved on its own card only', async () => {
    const pages = Array.from({ length: 40 }, (_, i) => ({ name: `p${i}.png`, data: page }));
    const before = await workers();
    const a10 = before.find((w) => w.device.gpu!.index === 0)!;
    const t4 = before.find((w) => w.device.gpu!.index === 1)!;
    const bf16 = (await submit(api.url, pages, { model: 'ppocr-v4-det-640', precision: 'bf16' })).body.id as string;
    await waitUntil('the bf16 job running on the A10', async () => ((await workers()).find((w) => w.workerId === a10.workerId)?.runningJobs.includes(bf16) ? true : undefined), 30_000);
    // The A10 is busy (one job at a time), so the fp16 job goes to the T4.
    const fp16 = (await submit(api.url, pages, { model: 'ppocr-v4-det-640', precision: 'fp16' })).body.id as string;
    const both = await waitUntil('both cards busy', async () => {
      const now = await workers();
      const onA10 = now.find((w) => w.workerId === a10.workerId)!;
      const onT4 = now.find((w) => w.workerId === t4.workerId)!;
      return onA10.runningJobs.includes(bf16) && onT4.runningJobs.includes(fp16) && onA10.reservedBytes > 0 && onT4.reservedBytes > 0 ? { onA10, onT4 } : undefined;
    }, 30_000);
    expect(both.onA10.runningJobs).toEqual([bf16]);
    expect(both.onT4.runningJobs).toEqual([fp16]);
    // Each ledger holds its own job's reservation, within its own card.
    expect(both.onA10.reservedBytes).toBeLessThanOrEqual(both.onA10.device.totalBytes);
    expect(both.onT4.reservedBytes).toBeLessThanOrEqual(both.onT4.device.totalBytes);
    for (const [id, worker] of [[bf16, a10], [fp16, t4]] as const) {
      expect((await waitForJob(api.url, id, 120_000)).state).toBe('completed');
      const { results } = (await (await apiFetch(`${api.url}/v1/jobs/${id}/results`)).json()) as { results: ImageResult[] };
      expect(new Set(results.map((r) => r.workerId))).toEqual(new Set([worker.workerId])); // a job's batches run on one GPU
    }
    await waitUntil('both ledgers empty again', async () => ((await workers()).every((w) => w.reservedBytes === 0 && w.runningJobs.length === 0) ? true : undefined), 10_000);
  });

  it('restarts a GPU worker that dies, leaving the other alone, and drains all on SIGTERM', async () => {
    const before = await workers();
    const t4 = before.find((w) => w.device.gpu!.index === 1)!;
    const a10 = before.find((w) => w.device.gpu!.index === 0)!;
    process.kill(t4.pid, 'SIGKILL');
    const replaced = await waitUntil('a new T4 worker', async () => {
      const now = await workers();
      const fresh = now.find((w) => w.device.gpu!.index === 1 && w.pid !== t4.pid);
      return fresh ? now : undefined;
    }, 30_000);
    expect(replaced.find((w) => w.device.gpu!.index === 0)!.pid).toBe(a10.pid);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Drained workers leave the registry at once; the SIGKILLed one's entry expires with its TTL (3 s here).
    await waitUntil('an empty registry', async () => ((await workers()).length === 0 ? true : undefined), 5000);
  });
});

describe('a worker host killed outright', () => {
  it('leaves no worker behind: each notices, drains and exits', async () => {
    const env = testEnv(inject('redisUrl'), { WORKER_DECLARE: JSON.stringify([T4]) });
    const api = await startApi(env);
    const child = spawn(process.execPath, [host], { env: { ...process.env, ...env }, stdio: 'ignore' });
    try {
      const [worker] = await waitUntil('a worker', async () => {
        const now = (await (await apiFetch(`${api.url}/v1/workers`)).json()) as WorkerAdvert[];
        return now.length === 1 ? now : undefined;
      }, 30_000);
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      expect(alive(worker!.pid)).toBe(true);
      child.kill('SIGKILL');
      await waitUntil('the orphaned worker to exit', async () => (alive(worker!.pid) ? undefined : true), 15_000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await api.app.close();
    }
  });
});

describe('a worker host whose slot refuses its configuration', () => {
  it('does not restart a worker that refused to start, and keeps the others', async () => {
    const env = testEnv(inject('redisUrl'), { WORKER_DECLARE: JSON.stringify([A10, { name: 'broken card' }]) });
    const child = spawn(process.execPath, [host], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    try {
      const deadline = Date.now() + 30_000;
      while (!(output.includes('"worker ready"') && output.includes('not restarted')) && Date.now() < deadline) await sleep(100);
      expect(output).toMatch(/WORKER_DECLARE is invalid: totalGb \(number > 0\) is required/);
      expect(output).toMatch(/"gpu":1[^}]*worker refused to start with this configuration/);
      await sleep(2500); // longer than the first restart delay: nothing starts it again
      expect(output.match(/WORKER_DECLARE is invalid/g)).toHaveLength(1);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
