import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE, PROBLEMS, type ProblemCode } from '#contracts';
import { createRedis, Keys, ApiKeyRepository } from '#queue';
import { renderTextImage } from './fixtures/text-images.js';
import { footprint } from './support/api-state.js';
import { client, createKey, startApi, testEnv, waitUntil } from './support/stack.js';

const MAX_IMAGE_BYTES = 200_000;
const MAX_REQUEST_BYTES = 500_000;
const MAX_IMAGES = 4;
const MAX_PIXELS = 400 * 400;

describe('every refusal: its status, its problem code, and nothing stored or queued', () => {
  const uploadDir = mkdtempSync(join(tmpdir(), 'gpuq-uploads-'));
  const env = testEnv(inject('redisUrl'), {
    MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES), MAX_REQUEST_BYTES: String(MAX_REQUEST_BYTES), MAX_IMAGES_PER_JOB: String(MAX_IMAGES),
    MAX_IMAGE_PIXELS: String(MAX_PIXELS), UPLOAD_DIR: uploadDir,
  });
  let api: Awaited<ReturnType<typeof startApi>>;
  let png: Buffer;
  const auth = () => ({ authorization: `Bearer ${api.key}` });

  beforeAll(async () => {
    api = await startApi(env);
    png = (await renderTextImage({ width: 300, height: 120, lines: [{ text: 'refused', x: 10, y: 70, fontSize: 30 }] })).png;
  });
  afterAll(async () => {
    await api?.app.close();
  });

  /** Sends a request, checks the answer is the problem `code` with its status, and that nothing was left behind. */
  async function expectRefused(code: ProblemCode, send: () => Promise<Response>, detail?: RegExp): Promise<Record<string, any>> {
    const before = await footprint(env, uploadDir);
    const res = await send();
    const body = (await res.json()) as Record<string, any>;
    expect(res.status, JSON.stringify(body)).toBe(PROBLEMS[code].status);
    expect(res.headers.get('content-type')).toContain(PROBLEM_CONTENT_TYPE);
    expect(body).toMatchObject({ type: `urn:gpuq:problem:${code}`, title: PROBLEMS[code].title, status: PROBLEMS[code].status, code });
    if (detail) expect(body.detail).toMatch(detail);
    // The upload folder is removed when the response closes, a moment after the client has the answer.
    const settled = await waitUntil('the refusal to leave nothing behind', async () => {
      const now = await footprint(env, uploadDir);
      return JSON.stringify(now) === JSON.stringify(before) ? now : undefined;
    }, 2000).catch(async () => footprint(env, uploadDir));
    expect(settled).toEqual(before);
    return Object.assign(body, { headers: res.headers });
  }

  const form = (files: { name: string; data: Buffer; field?: string }[], fields: Record<string, string> = {}) => {
    const body = new FormData();
    for (const f of files) body.append(f.field ?? 'images', new Blob([new Uint8Array(f.data)]), f.name);
    for (const [k, v] of Object.entries(fields)) body.append(k, v);
    return body;
  };
  const post = (body: FormData | string, headers: Record<string, string> = {}) => fetch(`${api.url}/v1/jobs`, { method: 'POST', body, headers: { ...auth(), ...headers } });
  const postImages = (files: { name: string; data: Buffer; field?: string }[], fields: Record<string, string> = {}) =>
    post(form(files, { waitForCapacity: 'true', ...fields }));

  it('401 without a key, with an unknown key, and with a revoked key', async () => {
    const none = await expectRefused('unauthorized', () => fetch(`${api.url}/v1/jobs`, { method: 'POST', body: form([{ name: 'a.png', data: png }]) }), /gpuq keys create/);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expectRefused('unauthorized', () => post(form([{ name: 'a.png', data: png }]), { authorization: 'Bearer gpuq_000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }));
    const { key, id } = await createKey(env, 'soon-revoked');
    const redis = createRedis(env.REDIS_URL!);
    await new ApiKeyRepository(redis, new Keys(env.GPUQ_PREFIX!)).revoke(id);
    redis.disconnect();
    await expectRefused('unauthorized', () => fetch(`${api.url}/v1/jobs`, { headers: { 'x-api-key': key } }), /unknown or revoked/);
  });

  it("the framework's own 404, and a job that does not exist", async () => {
    await expectRefused('not-found', () => fetch(`${api.url}/v1/nothing-here`, { headers: auth() }));
    await expectRefused('not-found', () => fetch(`${api.url}/v1/jobs/00000000-0000-0000-0000-000000000000`, { headers: auth() }), /not found/);
  });

  it('415 for a body that is not multipart', async () => {
    await expectRefused('unsupported-media-type', () => post(JSON.stringify({ images: [] }), { 'content-type': 'application/json' }), /multipart\/form-data/);
  });

  it('413 for a request that declares more than MAX_REQUEST_BYTES, before reading it', async () => {
    const big = form(Array.from({ length: 3 }, (_, i) => ({ name: `${i}.png`, data: Buffer.alloc(190_000, i) })));
    await expectRefused('request-too-large', () => post(big), /MAX_REQUEST_BYTES=500000/);
  });

  it('413 for a streamed (chunked) request that passes MAX_REQUEST_BYTES', async () => {
    const boundary = 'gpuqboundary';
    const part = (i: number) => Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="images"; filename="${i}.png"\r\nContent-Type: image/png\r\n\r\n`),
      Buffer.alloc(150_000, i), Buffer.from('\r\n'),
    ]);
    const chunks = [part(1), part(2), part(3), part(4), Buffer.from(`--${boundary}--\r\n`)];
    const stream = new ReadableStream({ pull(controller) { const next = chunks.shift(); if (next) controller.enqueue(next); else controller.close(); } });
    await expectRefused('request-too-large', () => fetch(`${api.url}/v1/jobs`, {
      method: 'POST', body: stream, duplex: 'half', headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}` },
    } as RequestInit), /larger than MAX_REQUEST_BYTES=500000/);
  });

  it('413 for one file over MAX_IMAGE_BYTES, and for more than MAX_IMAGES_PER_JOB files', async () => {
    await expectRefused('file-too-large', () => postImages([{ name: 'ok.png', data: png }, { name: 'huge.png', data: Buffer.alloc(MAX_IMAGE_BYTES + 1) }]),
      /image 1 \("huge.png"\) is larger than MAX_IMAGE_BYTES=200000/);
    await expectRefused('too-many-images', () => postImages(Array.from({ length: MAX_IMAGES + 1 }, (_, i) => ({ name: `${i}.png`, data: png }))),
      /more than MAX_IMAGES_PER_JOB=4/);
  });

  it('400 for a malformed multipart body, a file in the wrong field, and invalid fields', async () => {
    await expectRefused('malformed-multipart', () => post('--x\r\nnot a part header\r\n', { 'content-type': 'multipart/form-data; boundary=x' }));
    await expectRefused('invalid-field', () => postImages([{ name: 'a.png', data: png, field: 'image' }]), /field "image"/);
    await expectRefused('invalid-field', () => postImages([{ name: 'a.png', data: png }], { priority: '' }), /priority/);
    await expectRefused('invalid-field', () => postImages([{ name: 'a.png', data: png }], { priority: '11' }), /priority/);
    await expectRefused('invalid-field', () => postImages([{ name: 'a.png', data: png }], { allowCpu: 'maybe' }), /allowCpu/);
    await expectRefused('invalid-field', () => postImages([{ name: 'a.png', data: png }], { colour: 'red' }), /colour/);
  });

  it('400 for an unknown model, a bad Idempotency-Key, and no images', async () => {
    await expectRefused('unknown-model', () => postImages([{ name: 'a.png', data: png }], { model: 'nope' }), /unknown model "nope"/);
    await expectRefused('invalid-idempotency-key', () => post(form([{ name: 'a.png', data: png }], { waitForCapacity: 'true' }), { 'idempotency-key': 'white space' }));
    await expectRefused('no-images', () => postImages([], { model: 'ppocr-v4-det' }));
  });

  it('415 for a format not accepted (SVG is off by default) or not an image at all', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    await expectRefused('unsupported-format', () => postImages([{ name: 'a.svg', data: svg }]), /svg is not accepted here/);
    await expectRefused('unsupported-format', () => postImages([{ name: 'a.png', data: Buffer.from('text pretending to be a png') }]), /not a recognised image format/);
  });

  it('400 for a truncated PNG, a PNG with a bad CRC, a truncated JPEG; the file is named', async () => {
    await expectRefused('corrupt-image', () => postImages([{ name: 'ok.png', data: png }, { name: 'cut.png', data: png.subarray(0, png.length - 20) }]),
      /image 1 \("cut.png"\): png: truncated/);
    const flipped = Buffer.from(png);
    flipped[png.length - 30] = flipped[png.length - 30]! ^ 0xff; // inside the last IDAT
    await expectRefused('corrupt-image', () => postImages([{ name: 'crc.png', data: flipped }]), /fails its CRC/);
    const jpeg = await sharp(png).jpeg().toBuffer();
    await expectRefused('corrupt-image', () => postImages([{ name: 'cut.jpg', data: jpeg.subarray(0, jpeg.length - 100) }]), /jpeg: truncated: no EOI/);
  });

  it('400 for an image over MAX_IMAGE_PIXELS', async () => {
    const large = await sharp({ create: { width: 500, height: 400, channels: 3, background: '#fff' } }).png().toBuffer();
    await expectRefused('too-many-pixels', () => postImages([{ name: 'large.png', data: large }]), /500x400 = 200000 pixels > MAX_IMAGE_PIXELS=160000/);
  });

  it('400 for a webhook to a loopback or private address, or not over http', async () => {
    await expectRefused('invalid-webhook-url', () => postImages([{ name: 'a.png', data: png }], { webhookUrl: 'http://127.0.0.1:9/hook' }), /a loopback address; set WEBHOOK_ALLOW_PRIVATE=true/);
    await expectRefused('invalid-webhook-url', () => postImages([{ name: 'a.png', data: png }], { webhookUrl: 'http://localhost:9/hook' }), /loopback/);
    await expectRefused('invalid-webhook-url', () => postImages([{ name: 'a.png', data: png }], { webhookUrl: 'http://169.254.169.254/latest' }), /link-local/);
    await expectRefused('invalid-webhook-url', () => postImages([{ name: 'a.png', data: png }], { webhookUrl: 'ftp://example.com/x' }), /http or https/);
  });

  it('422 when no live worker could ever run the job', async () => {
    const refused = await expectRefused('no-capacity', () => post(form([{ name: 'a.png', data: png }], { precision: 'fp16' })));
    expect(refused.reasons.length).toBeGreaterThan(0);
  });

  it('429 with Retry-After past the rate limit, shared by every API replica', async () => {
    const replica = await startApi(env);
    try {
      const { key } = await createKey(env, 'chatty', { ratePerMin: 60, burst: 2 });
      const get = (url: string) => () => fetch(`${url}/v1/jobs`, { headers: { authorization: `Bearer ${key}` } });
      expect((await get(api.url)()).status).toBe(200);
      const second = await get(replica.url)();
      expect(second.status).toBe(200);
      expect(second.headers.get('ratelimit-remaining')).toBe('0');
      const refused = await expectRefused('rate-limited', get(api.url), /limited to 60 requests a minute \(bursts of 2\)/);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfterS).toBe(Number(refused.headers.get('retry-after')));
    } finally {
      await replica.app.close();
    }
  });

  it('429 with Retry-After past the unfinished-jobs quota, and past the daily image quota', async () => {
    const one = await createKey(env, 'one-at-a-time', { maxConcurrentJobs: 1 });
    const as = client(api.url, one.key);
    expect((await as.submit([{ name: 'a.png', data: png }], { waitForCapacity: 'true' })).status).toBe(202);
    const busy = await expectRefused('too-many-concurrent-jobs', () => post(form([{ name: 'b.png', data: png }], { waitForCapacity: 'true' }), { authorization: `Bearer ${one.key}` }),
      /has 1 unfinished jobs, its limit is 1/);
    expect(busy.headers.get('retry-after')).toBeTruthy();

    const daily = await createKey(env, 'frugal', { maxImagesPerDay: 2 });
    expect((await client(api.url, daily.key).submit([{ name: 'a.png', data: png }, { name: 'b.png', data: png }], { waitForCapacity: 'true' })).status).toBe(202);
    const used = await expectRefused('daily-image-quota', () => post(form([{ name: 'c.png', data: png }], { waitForCapacity: 'true' }), { authorization: `Bearer ${daily.key}` }),
      /submitted 2 of its 2 images today/);
    expect(Number(used.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(used.headers.get('retry-after'))).toBeLessThanOrEqual(86_400);
  });

  it('a refused submit gives its quota back; a cancelled job frees its slot', async () => {
    const { key } = await createKey(env, 'careful', { maxConcurrentJobs: 1, maxImagesPerDay: 3 });
    const as = client(api.url, key);
    // Refused after validation (no capacity): counts nothing.
    expect((await as.submit([{ name: 'a.png', data: png }], { precision: 'fp16' })).status).toBe(422);
    const first = await as.submit([{ name: 'a.png', data: png }, { name: 'b.png', data: png }], { waitForCapacity: 'true' });
    expect(first.status).toBe(202);
    await as.cancel(first.body.id as string);
    const second = await as.submit([{ name: 'c.png', data: png }], { waitForCapacity: 'true' });
    expect(second.status, JSON.stringify(second.body)).toBe(202);
  });

  it('accepts booleans however they are spelled', async () => {
    const res = await client(api.url).submit([{ name: 'a.png', data: png }], { waitForCapacity: 'TRUE', allowCpu: 'Yes' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
  });

  it('answers with security headers, and no CORS unless configured', async () => {
    const res = await fetch(`${api.url}/health/live`, { headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS_ORIGINS', () => {
  const env = testEnv(inject('redisUrl'), { CORS_ORIGINS: 'https://app.example' });
  let api: Awaited<ReturnType<typeof startApi>>;
  beforeAll(async () => {
    api = await startApi(env);
  });
  afterAll(async () => {
    await api?.app.close();
  });

  it('answers a preflight from a listed origin only', async () => {
    const preflight = (origin: string) => fetch(`${api.url}/v1/jobs`, {
      method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    const listed = await preflight('https://app.example');
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(listed.headers.get('access-control-allow-headers')).toMatch(/Authorization/i);
    expect((await preflight('https://other.example')).headers.get('access-control-allow-origin')).toBeNull();
  });
});
