import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKey, startApi, testEnv } from './support/stack.js';

const PASSWORD = 'operators-only-password';

async function login(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/dashboard/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

describe('the dashboard has its own login, apart from API keys', () => {
  const env = testEnv(inject('redisUrl'), { DASHBOARD_PASSWORD: PASSWORD });
  let api: Awaited<ReturnType<typeof startApi>>;
  let cookie: string;

  beforeAll(async () => {
    api = await startApi(env);
    const res = await login(api.url, { user: 'admin', password: PASSWORD });
    expect(res.status).toBe(204);
    cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  });

  afterAll(async () => {
    await api?.app.close();
  });

  it('sets an HttpOnly, SameSite=Strict session cookie scoped to /dashboard', async () => {
    const res = await login(api.url, { user: 'admin', password: PASSWORD });
    expect(res.headers.get('set-cookie')).toMatch(/^gpuq_admin=\d+\.[\w-]+; Path=\/dashboard; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect((await fetch(`${api.url}/dashboard/api/fleet`, { headers: { cookie } })).status).toBe(200);
  });

  it('refuses every tenant API key, however it is sent, on the data, the stream and bull-board', async () => {
    const { key } = await createKey(env, 'acme');
    const presented: Record<string, string>[] = [{ authorization: `Bearer ${key}` }, { 'x-api-key': key }, { authorization: `Bearer ${api.key}` }];
    for (const headers of presented) {
      for (const path of ['/dashboard/api/fleet', '/dashboard/api/jobs', '/dashboard/api/stream', '/dashboard/queues/api/queues']) {
        const res = await fetch(`${api.url}${path}`, { headers, redirect: 'manual' });
        expect(res.status, `${path} with ${Object.keys(headers)[0]}`).toBe(401);
        await res.body?.cancel();
      }
    }
  });

  it('refuses a wrong password, a wrong user, a forged or expired cookie; bull-board pages send to the login', async () => {
    expect((await login(api.url, { user: 'admin', password: 'nope' })).status).toBe(401);
    expect((await login(api.url, { user: 'root', password: PASSWORD })).status).toBe(401);
    const [name, value] = cookie.split('=');
    const [expires, signature] = value!.split('.');
    const forged = `${name}=${Number(expires) + 86_400_000}.${signature}`;
    const expired = `${name}=${Date.now() - 1000}.${signature}`;
    for (const bad of [forged, expired, `${name}=garbage`]) expect((await fetch(`${api.url}/dashboard/api/fleet`, { headers: { cookie: bad } })).status).toBe(401);
    const page = await fetch(`${api.url}/dashboard/queues/queue/cpu-fp32`, { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/dashboard');
    expect((await fetch(`${api.url}/dashboard/queues/api/queues`, { headers: { cookie } })).status).toBe(200);
  });

  it('the operator session opens nothing under /v1 (tenants\' routes need a key)', async () => {
    expect((await fetch(`${api.url}/v1/jobs`, { headers: { cookie } })).status).toBe(401);
  });

  it('limits login attempts per client address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await login(api.url, { user: 'admin', password: `guess-${i}` })).status);
    expect(statuses).toContain(429);
  });
});

describe('without DASHBOARD_PASSWORD there is no dashboard', () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  beforeAll(async () => {
    api = await startApi(testEnv(inject('redisUrl')));
  });
  afterAll(async () => {
    await api?.app.close();
  });

  it('answers 404 under /dashboard, with a key or without', async () => {
    for (const path of ['/dashboard', '/dashboard/api/fleet', '/dashboard/queues']) {
      expect((await fetch(`${api.url}${path}`)).status, path).toBe(404);
      expect((await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${api.key}` } })).status, path).toBe(404);
    }
  });
});
