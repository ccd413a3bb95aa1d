import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedis } from '#queue';
import { filesUnder } from './support/api-state.js';
import { renderTextImage } from './fixtures/text-images.js';
import { apiFetch, startApi, submit, testEnv, waitForJob, waitUntil, WorkerProcess } from './support/stack.js';

/**
 * What Redis holds for a deployment, from its keys that never expire: names, and bytes (MEMORY USAGE) of all but
 * BullMQ's event streams, which are capped (EVENTS_MAX_LEN) rather than emptied and are weighed apart.
 */
async function footprint(redis: Redis, prefix: string) {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  const lasting = [];
  for (const key of keys) if ((await redis.pttl(key)) === -1) lasting.push(key);
  const streams: string[] = [];
  for (const key of lasting) if (key.endsWith(':events') && (await redis.type(key)) === 'stream') streams.push(key);
  let bytes = 0;
  for (const key of lasting.filter((k) => !streams.includes(k))) bytes += Number(await redis.memory('USAGE', key));
  const streamEntries = await Promise.all(streams.map((k) => redis.xlen(k)));
  return { keys: lasting.sort(), bytes, streamEntries: Math.max(0, ...streamEntries) };
}

const usedMemory = async (redis: Redis) => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);

describe('retention: a finished job goes, and Redis goes back to what it held before', () => {
  const env = testEnv(inject('redisUrl'), { WORKER_DEVICE: 'cpu', JOB_TTL_S: '5', SWEEP_S: '0.5', RATE_LIMIT_PER_MIN: '100000', RATE_LIMIT_BURST: '1000' });
  let api: Awaited<ReturnType<typeof startApi>>;
  let worker: WorkerProcess;
  let redis: Redis;
  let page: Buffer;

  beforeAll(async () => {
    [api, worker, { png: page }] = await Promise.all([
      startApi(env),
      WorkerProcess.start(env),
      renderTextImage({ width: 500, height: 200, lines: [{ text: 'kept for a while', x: 20, y: 80, fontSize: 36 }, { text: 'then gone', x: 20, y: 160, fontSize: 36 }] }),
    ]);
    redis = createRedis(env.REDIS_URL!);
  });
  afterAll(async () => {
    redis?.disconnect();
    await worker?.stop();
    await api?.app.close();
  });

  const gone = (id: string) => waitUntil(`job ${id} to be deleted`, async () => ((await apiFetch(`${api.url}/v1/jobs/${id}`)).status === 404 ? true : undefined), 30_000);
  const run = async (count: number, fields: Record<string, string> = {}) => {
    const ids: string[] = [];
    for (let n = 0; n < count; n++) {
      const { status, body } = await submit(api.url, [0, 1, 2].map((i) => ({ name: `p${i}.png`, data: page })),
        { model: 'ppocr-v4-det-640', allowCpu: 'true', ...fields }, { 'Idempotency-Key': `retention-${fields.priority ?? 5}-${n}` });
      expect(status).toBe(202);
      ids.push(body.id as string);
    }
    for (const id of ids) expect((await waitForJob(api.url, id, 60_000)).state).toBe('completed');
    return ids;
  };

  it(`deletes record, events, results, indexes, idempotency key and images JOB_TTL_S after a job finished`, async () => {
    // A first job, gone again, so that what every deployment keeps (queue metadata, scripts, the key's usage) is there.
    for (const id of await run(1, { priority: '4' })) await gone(id);
    const before = await footprint(redis, env.GPUQ_PREFIX!);
    const memoryBefore = await usedMemory(redis);

    const ids = await run(12);
    // The first may be gone already (JOB_TTL_S is short here); the last are still there.
    const during = await footprint(redis, env.GPUQ_PREFIX!);
    expect(during.bytes).toBeGreaterThan(before.bytes + 3 * 3 * 200);
    expect(filesUnder(env.BLOB_DIR!).length).toBeGreaterThanOrEqual(3 * 3);

    for (const id of ids) await gone(id);
    const after = await footprint(redis, env.GPUQ_PREFIX!);
    expect(after.keys).toEqual(before.keys);
    expect(after.bytes).toBe(before.bytes);
    // BullMQ's event stream is capped, not emptied: bounded whatever number of jobs passed.
    expect(after.streamEntries).toBeLessThanOrEqual(400);
    // The whole server too, within what connections and allocator slack move it by.
    expect(await usedMemory(redis)).toBeLessThan(memoryBefore + 256 * 1024);
    expect(filesUnder(env.BLOB_DIR!)).toEqual([]);
    // The key is free again: a new request under it is a new job, not a 409 for a job that is gone.
    const again = await submit(api.url, [{ name: 'x.png', data: page }], { model: 'ppocr-v4-det-640', allowCpu: 'true' }, { 'Idempotency-Key': 'retention-5-0' });
    expect(again.status).toBe(202);
    expect(again.body.created).toBe(true);
  }, 180_000);
});
