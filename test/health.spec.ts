import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestRedis } from './setup/redis-server.js';
import { startApi, testEnv, waitUntil } from './support/stack.js';

describe('API readiness follows Redis', () => {
  let redis: TestRedis;
  let api: Awaited<ReturnType<typeof startApi>>;

  beforeAll(async () => {
    // A Redis of its own, so the test can stop it.
    redis = await TestRedis.start(false);
    api = await startApi(testEnv(redis.url));
  });

  afterAll(async () => {
    // After a Redis restart the webhook queue's BullMQ worker sometimes never finishes closing (a shutdown hang
    // outside this test's subject, reported for libs/queue): give the API five seconds, then move on.
    await Promise.race([api?.app.close(), new Promise((r) => setTimeout(r, 5000))]);
    await redis?.stop();
  });

  it('is live but not ready while Redis is down, says why as a problem document, and is ready again when it is back', async () => {
    expect((await fetch(`${api.url}/health/ready`)).status).toBe(200);
    await redis.kill();
    expect((await fetch(`${api.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${api.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await ready.json()).toMatchObject({ code: 'unavailable', detail: expect.stringMatching(/^not ready: redis: /), checks: { redis: { status: 'down' } } });
    await redis.restart();
    await waitUntil('ready again', async () => ((await fetch(`${api.url}/health/ready`)).status === 200 ? true : undefined), 30_000);
  });
});
