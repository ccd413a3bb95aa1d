import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { GpuqClient, JobStreamEvent } from '#client';
import { verifyWebhook, type WebhookPayload } from '#contracts';
import { renderTextImage } from './fixtures/text-images.js';
import { client, createKey, startApi, testEnv, waitUntil, WorkerProcess } from './support/stack.js';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback that answers each delivery with the next status in `statuses` (then the last one). */
async function receiver(statuses: number[]): Promise<{ url: string; deliveries: Delivery[]; server: Server }> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body });
      res.statusCode = statuses[Math.min(deliveries.length - 1, statuses.length - 1)]!;
      res.end(res.statusCode === 200 ? 'thanks' : 'not now');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, deliveries, server };
}

describe('results out: webhooks and server-sent events, with a real worker', () => {
  // Loopback receivers need WEBHOOK_ALLOW_PRIVATE (refused by default: see api-refusals.spec.ts).
  const env = testEnv(inject('redisUrl'), { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_BACKOFF_MS: '200', WEBHOOK_MAX_ATTEMPTS: '3' });
  let api: Awaited<ReturnType<typeof startApi>>;
  let worker: WorkerProcess;
  let as: GpuqClient;
  let webhookSecret: string;
  let page: Buffer;
  const servers: Server[] = [];

  beforeAll(async () => {
    [api, worker] = await Promise.all([startApi(env), WorkerProcess.start(env)]);
    const key = await createKey(env, 'hooks');
    as = client(api.url, key.key);
    webhookSecret = key.webhookSecret;
    page = (await renderTextImage({ width: 400, height: 160, lines: [{ text: 'delivered', x: 20, y: 90, fontSize: 40 }] })).png;
  });
  afterAll(async () => {
    for (const s of servers) s.close();
    await worker?.stop();
    await api?.app.close();
  });

  const submit = async (fields: Record<string, string> = {}) => {
    const res = await as.submit([{ name: 'p0.png', data: page }, { name: 'p1.png', data: page }], { model: 'ppocr-v4-det-640', allowCpu: 'true', ...fields });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.id as string;
  };

  it('streams a job: a snapshot, progress up to every image, its timeline, then the end', async () => {
    const id = await submit();
    const seen: JobStreamEvent[] = [];
    for await (const event of as.watch(id)) seen.push(event);
    expect(seen[0]).toMatchObject({ event: 'job', data: { id } });
    const progress = seen.filter((e) => e.event === 'progress').map((e) => e.data as { state: string; done: number; total: number });
    expect(progress.at(-1)).toEqual({ state: 'completed', done: 2, total: 2 });
    expect(seen.some((e) => e.event === 'event' && /micro-batch/.test((e.data as { message: string }).message))).toBe(true);
    expect(seen.at(-1)).toMatchObject({ event: 'end', data: { state: 'completed', progress: { done: 2, total: 2 }, precision: { used: 'fp32' } } });
  });

  it('POSTs a signed webhook when the job finishes, retrying after a failure', async () => {
    const hook = await receiver([500, 200]);
    servers.push(hook.server);
    const id = await submit({ webhookUrl: hook.url });
    await waitUntil('two deliveries', async () => (hook.deliveries.length >= 2 ? true : undefined), 60_000);
    const [failed, delivered] = hook.deliveries;
    expect(failed!.headers['gpuq-attempt']).toBe('1');
    expect(delivered!.headers['gpuq-attempt']).toBe('2');
    expect(delivered!.headers['gpuq-event']).toBe('job.completed');
    expect(verifyWebhook(webhookSecret, delivered!.body, String(delivered!.headers['gpuq-signature']), Math.floor(Date.now() / 1000))).toBe(true);
    expect(verifyWebhook('whsec_someone-else', delivered!.body, String(delivered!.headers['gpuq-signature']), Math.floor(Date.now() / 1000))).toBe(false);
    const payload = JSON.parse(delivered!.body) as WebhookPayload;
    expect(payload).toMatchObject({ type: 'job.completed', jobId: id, state: 'completed', progress: { done: 2, total: 2 } });
    expect(payload.results.map((r) => r.filename)).toEqual(['p0.png', 'p1.png']);
    const events = await waitUntil('the delivery in the job events', async () => {
      const job = await as.job(id);
      return job.events.some((e) => e.kind === 'webhook') ? job.events : undefined;
    }, 10_000);
    expect(events.find((e) => e.kind === 'webhook')!.message).toMatch(/webhook delivered to http:\/\/127\.0\.0\.1:\d+\/hook \(200\) on attempt 2/);
  });

  it('gives a webhook up after WEBHOOK_MAX_ATTEMPTS and says so in the job events', async () => {
    const hook = await receiver([503]);
    servers.push(hook.server);
    const id = await submit({ webhookUrl: hook.url });
    const event = await waitUntil('the give-up event', async () => (await as.job(id)).events.find((e) => e.kind === 'webhook'), 60_000);
    expect(event.message).toMatch(/webhook given up after 3 attempts: answered 503: not now/);
    expect(hook.deliveries).toHaveLength(3);
  });
});
