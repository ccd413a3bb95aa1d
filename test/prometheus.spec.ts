import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { renderTextImage } from './fixtures/text-images.js';
import { kedaQueryOf } from './support/keda-query.js';
import { TestPrometheus } from './support/prometheus-server.js';
import { apiFetch, startApi, submit, testEnv, waitForJob, waitUntil, WorkerProcess } from './support/stack.js';

/**
 * A real Prometheus scrapes a running API and a worker; the test asks it what KEDA would ask. The worker runs on
 * the CPU under `ulimit -v` while believing it has 8 GB (as in oom-recovery.spec.ts), so a large job meets a real
 * allocation failure.
 */
describe('Prometheus scraping the API and a worker', () => {
  const env = testEnv(inject('redisUrl'), { WORKER_DEVICE: 'cpu', CPU_MEMORY_GB: '8', MAX_CONCURRENT_JOBS: '1000' });
  let api: Awaited<ReturnType<typeof startApi>>;
  let worker: WorkerProcess;
  let prometheus: TestPrometheus;
  let small: Buffer;
  let page: Buffer;

  beforeAll(async () => {
    [api, worker, { png: small }, { png: page }] = await Promise.all([
      startApi(env),
      WorkerProcess.start(env, { ulimitVKb: 3_500_000 }),
      renderTextImage({ width: 640, height: 320, lines: [{ text: 'a burst of jobs', x: 30, y: 160, fontSize: 40 }] }),
      renderTextImage({ width: 900, height: 500, lines: [{ text: 'out of memory is normal', x: 40, y: 260, fontSize: 48 }] }),
    ]);
    prometheus = await TestPrometheus.start([
      { job: 'gpuq-api', targets: [new URL(api.url).host] },
      { job: 'gpuq-worker', targets: [`127.0.0.1:${worker.httpPort}`] },
    ]);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await worker?.stop();
    await api?.app.close();
  });

  it('answers liveness and readiness on the API and on the worker\'s own port', async () => {
    for (const base of [api.url, `http://127.0.0.1:${worker.httpPort}`]) {
      for (const path of ['/health/live', '/health/ready']) expect((await fetch(`${base}${path}`)).status, `${base}${path}`).toBe(200);
    }
    expect(await (await fetch(`http://127.0.0.1:${worker.httpPort}/health/ready`)).json()).toEqual({ status: 'ok', checks: { loop: 'serving', redis: 'up' } });
    expect(await (await fetch(`${api.url}/health/ready`)).json()).toMatchObject({ status: 'ok', info: { redis: { status: 'up' } } });
  });

  it('scrapes both: every target is up', async () => {
    await waitUntil('both targets up', async () => ((await prometheus.value('sum(up)')) === 2 ? true : undefined), 30_000);
    expect(await prometheus.value('gpuq_class_workers{class="cpu-fp32"}')).toBe(1);
    expect(await prometheus.value(`gpuq_device_memory_bytes{state="total",worker="${worker.workerId}"}`)).toBe(8e9);
  });

  it('sees the per-class depth rise under a burst and return to 0, through the query a KEDA trigger runs', async () => {
    const depth = 'max(gpuq_queue_depth{class="cpu-fp32"})';
    const keda = kedaQueryOf('cpu-fp32');
    expect(await prometheus.value(depth)).toBe(0);
    const ids = await Promise.all(Array.from({ length: 16 }, async (_, i) => {
      const { status, body } = await submit(api.url, [{ name: `burst-${i}.png`, data: small }, { name: `burst-${i}b.png`, data: small }], { allowCpu: 'true' });
      expect(status).toBe(202);
      return body.id as string;
    }));
    // Two instant queries of the same scrape: the trigger's figure (what waits plus what runs) is at least the depth.
    const risen = await waitUntil('depth to rise', async () => {
      const [seen, trigger] = [await prometheus.value(depth), await prometheus.value(keda)];
      return seen !== undefined && seen >= 4 && trigger !== undefined && trigger >= seen ? { seen, trigger } : undefined;
    }, 30_000);
    expect(risen.seen).toBeGreaterThanOrEqual(4);
    for (const id of ids) expect((await waitForJob(api.url, id, 180_000)).state).toBe('completed');
    await waitUntil('depth back to 0', async () => ((await prometheus.value(depth)) === 0 ? true : undefined), 30_000);
    await waitUntil('the KEDA query back to 0', async () => ((await prometheus.value(keda)) === 0 ? true : undefined), 30_000);
    // The worker's own series saw the same work: 32 images in micro-batches.
    await waitUntil('images counted', async () => ((await prometheus.value('sum(gpuq_images_processed_total{class="cpu-fp32"})')) === 32 ? true : undefined), 30_000);
    expect(await prometheus.value('sum(gpuq_batch_size_count{class="cpu-fp32"})')).toBeGreaterThanOrEqual(16);
  });

  it('sees the OOM counter move after a forced out-of-memory', async () => {
    expect(await prometheus.value('sum(gpuq_oom_total)') ?? 0).toBe(0);
    const images = Array.from({ length: 24 }, (_, i) => ({ name: `o${i}.png`, data: page }));
    const { status, body } = await submit(api.url, images, { allowCpu: 'true' });
    expect(status).toBe(202);
    const ooms = await waitUntil('the OOM counter to move', async () => {
      const seen = await prometheus.value('sum(gpuq_oom_total{class="cpu-fp32"})');
      return seen !== undefined && seen >= 1 ? seen : undefined;
    }, 180_000);
    expect(ooms).toBeGreaterThanOrEqual(1);
    // The job's own record says the same thing happened.
    const job = (await (await apiFetch(`${api.url}/v1/jobs/${body.id}`)).json()) as { events: { kind: string }[] };
    expect(job.events.filter((e) => e.kind === 'oom').length).toBeGreaterThanOrEqual(1);
    // Done with it: cancel rather than wait out the smaller batches.
    await apiFetch(`${api.url}/v1/jobs/${body.id}`, { method: 'DELETE' });
  });
});
