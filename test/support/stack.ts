import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { GpuqClient, type ImageUpload, type SubmitFields } from '#client';
import type { JobRecord } from '#contracts';
import { loadConfig, type Config } from '#config';
import { ApiKeyRepository, createRedis, Keys, type ApiKeyLimits } from '#queue';
import { createApi } from '../../apps/api/src/bootstrap.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Settings shared by an API and its workers in one test: own key prefix, own blob folder. */
export function testEnv(redisUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    GPUQ_PREFIX: `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
    BLOB_DIR: mkdtempSync(join(tmpdir(), 'gpuq-blobs-')),
    MODEL_CACHE_DIR: join(tmpdir(), 'gpuq-models'),
    LOG_LEVEL: 'info',
    HEARTBEAT_S: '1',
    WORKER_TTL_S: '3',
    // Several workers share this machine (and other test runs): each takes a port the OS picks.
    WORKER_HTTP_PORT: '0',
    ...extra,
  };
}

/** A worker as a real process (the built one: `npm test` builds first), with its log lines collected. */
export class WorkerProcess {
  readonly lines: string[] = [];
  private constructor(readonly child: ChildProcess) {}

  static async start(env: Record<string, string>, opts: { ulimitVKb?: number } = {}): Promise<WorkerProcess> {
    const main = join(root, 'dist/apps/worker/src/main.js');
    const child = opts.ulimitVKb
      ? spawn('bash', ['-c', `ulimit -v ${opts.ulimitVKb}; exec "${process.execPath}" "${main}"`], { env: { ...process.env, ...env }, cwd: root })
      : spawn(process.execPath, [main], { env: { ...process.env, ...env }, cwd: root });
    const worker = new WorkerProcess(child);
    const collect = (chunk: Buffer) => worker.lines.push(...chunk.toString().split('\n').filter(Boolean));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    await worker.waitForLog(/"msg":"worker ready"/, 60_000);
    return worker;
  }

  get workerId(): string {
    const line = this.lines.find((l) => l.includes('"msg":"worker ready"'));
    return line ? (JSON.parse(line) as { workerId: string }).workerId : '';
  }

  /** The worker's own HTTP port (/metrics, /health/*), as its ready line says. */
  get httpPort(): number {
    const line = this.lines.find((l) => l.includes('"msg":"worker ready"'));
    return line ? (JSON.parse(line) as { httpPort: number }).httpPort : 0;
  }

  async waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const hit = this.lines.find((l) => pattern.test(l));
      if (hit) return hit;
      if (this.child.exitCode !== null) throw new Error(`worker exited (${this.child.exitCode}):\n${this.lines.slice(-20).join('\n')}`);
      await sleep(50);
    }
    throw new Error(`no log line matching ${pattern} within ${timeoutMs} ms:\n${this.lines.slice(-20).join('\n')}`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    return new Promise((resolve) => {
      this.child.once('exit', (code) => resolve(code));
      this.child.kill(signal);
    });
  }
}

/** The key each test API hands out first, by its URL: the helpers below call the API as that tenant. */
const keyOfApi = new Map<string, string>();

/** Creates an API key the way `gpuq keys create` does (straight in Redis). */
export async function createKey(env: Record<string, string>, tenant: string, limits?: ApiKeyLimits): Promise<{ key: string; webhookSecret: string; id: string }> {
  const redis = createRedis(env.REDIS_URL!);
  try {
    const created = await new ApiKeyRepository(redis, new Keys(env.GPUQ_PREFIX!)).create(tenant, { limits });
    return { key: created.key, webhookSecret: created.webhookSecret, id: created.record.id };
  } finally {
    redis.disconnect();
  }
}

/**
 * Limits of the tests' own key: tests poll (every 50 ms, for up to a minute on a slow machine) far faster than a
 * person, and the rate limit is not what they test (api-refusals.spec.ts makes keys with tight limits for that).
 */
const TEST_KEY_LIMITS: ApiKeyLimits = { ratePerMin: 1_000_000, burst: 100_000 };

/** The API in this process (Nest DI under vitest), on a free port, with an API key of tenant `test` to call it with. */
export async function startApi(env: Record<string, string>): Promise<{ app: NestExpressApplication; url: string; config: Config; key: string }> {
  const config = loadConfig({ ...env, API_PORT: '0', API_HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
  const app = await createApi(config);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  const { key } = await createKey(env, 'test', TEST_KEY_LIMITS);
  keyOfApi.set(url, key);
  return { app, url, config, key };
}

/** The API's typed client, as the test API's first tenant: tests talk to the API the way users do. */
export const client = (url: string, apiKey = keyOfApi.get(url)) => new GpuqClient(url, { apiKey });

/** fetch with the test API's key, for tests that look at raw answers. */
export function apiFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const origin = new URL(url).origin;
  const headers = new Headers(init.headers);
  const key = keyOfApi.get(origin);
  if (key && !headers.has('authorization')) headers.set('authorization', `Bearer ${key}`);
  return fetch(url, { ...init, headers });
}

export const submit = (url: string, images: ImageUpload[], fields: SubmitFields & Record<string, string> = {}, headers: Record<string, string> = {}) =>
  client(url).submit(images, fields, headers);

export const getJob = (url: string, id: string): Promise<JobRecord> => client(url).job(id);

export const waitForJob = (url: string, id: string, timeoutMs = 60_000): Promise<JobRecord> => client(url).waitForJob(id, timeoutMs);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 50 ms until it returns something other than undefined; throws after `timeoutMs`. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}
