import { afterAll, beforeAll, expect } from 'vitest';
import { renderTextImage } from '../fixtures/text-images.js';
import { startApi, submit, WorkerProcess } from './stack.js';

/**
 * Settings for tests that kill workers: short locks so a dead worker's job is taken over in seconds, and a
 * small CPU budget so micro-batches are 2–3 pages and there are checkpoints to resume from.
 */
export const FAST_TAKEOVER = { LOCK_MS: '2000', STALLED_CHECK_MS: '1000', CPU_MEMORY_GB: '0.6', WORKER_DEVICE: 'cpu' };

/**
 * An API in this process plus worker processes started on demand (all SIGKILLed after the file), and a page
 * with `text` to submit in jobs of any size. Registers its own beforeAll/afterAll.
 */
export function useCrashCluster(env: Record<string, string>, text: string) {
  const workers: WorkerProcess[] = [];
  const ctx = {
    api: undefined as unknown as Awaited<ReturnType<typeof startApi>>,
    page: Buffer.alloc(0) as Buffer,
    /** Starts one more worker process. */
    async start(): Promise<WorkerProcess> {
      const worker = await WorkerProcess.start(env);
      workers.push(worker);
      return worker;
    },
    /** Submits `count` copies of the page as one CPU-allowed job; returns its id. */
    async submitPages(count: number): Promise<string> {
      const images = Array.from({ length: count }, (_, i) => ({ name: `p${i}.png`, data: ctx.page }));
      const { status, body } = await submit(ctx.api.url, images, { model: 'ppocr-v4-det-640', allowCpu: 'true' });
      expect(status, JSON.stringify(body)).toBe(202);
      return body.id as string;
    },
  };
  beforeAll(async () => {
    const [api, rendered] = await Promise.all([
      startApi(env),
      renderTextImage({ width: 400, height: 160, lines: [{ text, x: 20, y: 90, fontSize: 40 }] }),
    ]);
    ctx.api = api;
    ctx.page = rendered.png;
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await ctx.api?.app.close();
  });
  return ctx;
}
