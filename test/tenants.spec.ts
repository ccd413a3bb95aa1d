import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GpuqApiError, type GpuqClient } from '#client';
import type { WorkerAdvert } from '#contracts';
import { createRedis, Keys, WorkerRegistry } from '#queue';
import { renderTextImage } from './fixtures/text-images.js';
import { client, createKey, startApi, testEnv } from './support/stack.js';

describe('tenant isolation', () => {
  const env = testEnv(inject('redisUrl'));
  let api: Awaited<ReturnType<typeof startApi>>;
  let alice: GpuqClient;
  let bob: GpuqClient;
  let png: Buffer;

  beforeAll(async () => {
    api = await startApi(env);
    alice = client(api.url, (await createKey(env, 'alice')).key);
    bob = client(api.url, (await createKey(env, 'bob')).key);
    png = (await renderTextImage({ width: 200, height: 80, lines: [{ text: 'mine', x: 10, y: 50, fontSize: 24 }] })).png;
  });
  afterAll(async () => {
    await api?.app.close();
  });

  const refusal = (p: Promise<unknown>) => p.then(() => 'answered', (err: unknown) => (err instanceof GpuqApiError ? `${err.status} ${err.code}: ${err.problem.detail}` : String(err)));

  it("another tenant's job is a 404 on every route, worded like a job that does not exist", async () => {
    const submitted = await alice.submit([{ name: 'a.png', data: png }], { waitForCapacity: 'true' });
    expect(submitted.status).toBe(202);
    const id = submitted.body.id as string;
    expect((await alice.job(id)).tenant).toBe('alice');

    const missing = '6f1c0000-0000-4000-8000-000000000000';
    const asBob = [await refusal(bob.job(id)), await refusal(bob.results(id)), await refusal(bob.cancel(id)), await refusal(bob.watch(id).next())];
    const unknown = await refusal(bob.job(missing));
    for (const answer of asBob) expect(answer).toBe(unknown.replace(missing, id));
    expect(unknown).toMatch(/^404 not-found: job "6f1c/);

    // Bob's cancel changed nothing; Alice's list has the job, Bob's does not.
    expect((await alice.job(id)).state).toBe('waiting-for-capacity');
    expect((await alice.jobs()).map((j) => j.id)).toContain(id);
    expect((await bob.jobs()).map((j) => j.id)).not.toContain(id);
    expect((await alice.cancel(id)).state).toBe('cancelled');
  });

  it('idempotency keys are per tenant: the same key from two tenants makes two jobs', async () => {
    const a = await alice.submit([{ name: 'a.png', data: png }], { waitForCapacity: 'true' }, { 'Idempotency-Key': 'invoice-7' });
    const b = await bob.submit([{ name: 'b.png', data: png }], { waitForCapacity: 'true' }, { 'Idempotency-Key': 'invoice-7' });
    expect(b.body.created).toBe(true);
    expect(b.body.id).not.toBe(a.body.id);
    const again = await bob.submit([{ name: 'b.png', data: png }], { waitForCapacity: 'true' }, { 'Idempotency-Key': 'invoice-7' });
    expect(again.body).toMatchObject({ id: b.body.id, created: false });
  });

  it('workers are shared, the job ids running on them are not', async () => {
    const own = (await alice.submit([{ name: 'a.png', data: png }], { waitForCapacity: 'true' })).body.id as string;
    const redis = createRedis(env.REDIS_URL!);
    const registry = new WorkerRegistry(redis, new Keys(env.GPUQ_PREFIX!));
    const advert = {
      workerId: 'w-shared', host: 'h', pid: 1, classes: ['cpu-fp32'], freeBytes: 1, reservedBytes: 0, runningJobs: [own, 'someone-elses'],
      loadedModels: [], startedAt: new Date().toISOString(), lastBeatAt: new Date().toISOString(), status: 'draining',
      device: { source: 'declared', kind: 'cpu', provider: 'cpu', totalBytes: 1, provenPrecisions: ['fp32'], selfTests: [], availableProviders: ['cpu'] },
    } satisfies WorkerAdvert;
    await registry.advertise(advert, 30);
    try {
      expect((await alice.workers()).find((w) => w.workerId === 'w-shared')!.runningJobs).toEqual([own]);
      expect((await bob.workers()).find((w) => w.workerId === 'w-shared')!.runningJobs).toEqual([]);
    } finally {
      await registry.remove('w-shared');
      redis.disconnect();
    }
  });
});
