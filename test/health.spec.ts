import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig } from '#config';
import { createApi } from '../apps/api/src/bootstrap.js';
import { freePort } from './setup/redis-server.js';

describe('API readiness without Redis', () => {
  let app: NestExpressApplication;
  let url: string;

  beforeAll(async () => {
    // Nothing listens on this port: Redis is down. (BullMQ's queues print each reconnect failure to stderr meanwhile.)
    app = await createApi(loadConfig({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, LOG_LEVEL: 'silent' }));
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('is live but not ready, and says why as a problem document', async () => {
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await ready.json()).toMatchObject({ code: 'unavailable', detail: expect.stringMatching(/^not ready: redis: /), checks: { redis: { status: 'down' } } });
  });
});
