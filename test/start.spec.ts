import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GpuqClient } from '#client';
import { createRedis, evictionPolicy } from '#queue';
import { renderTextImage } from './fixtures/text-images.js';
import { freePort } from './setup/redis-server.js';
import { sleep } from './support/stack.js';

const start = join(fileURLToPath(new URL('../', import.meta.url)), 'dist/scripts/start.js');

/** Runs `npm start`'s launcher in a scratch folder (its `.data/` lands there) and collects its output. */
function launch(env: Record<string, string>) {
  const cwd = mkdtempSync(join(tmpdir(), 'gpuq-start-'));
  const child = spawn(process.execPath, [start], { cwd, env: { ...process.env, LOG_LEVEL: 'info', ...env } });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { cwd, child, exited, output: () => output };
}

describe('npm start', () => {
  it('starts its own redis-server (AOF, noeviction) when none answers, runs API and worker, and stops them all', async () => {
    const [redisPort, apiPort] = [await freePort(), await freePort()];
    const run = launch({ REDIS_URL: `redis://127.0.0.1:${redisPort}`, API_PORT: String(apiPort), GPUQ_PREFIX: 'starttest', WORKER_DEVICE: 'cpu', WORKER_HTTP_PORT: '0' });
    try {
      const deadline = Date.now() + 60_000;
      // API and worker start side by side: wait for both.
      while (!(run.output().includes('"worker ready"') && run.output().includes('"api listening"')) && Date.now() < deadline) await sleep(100);
      expect(run.output()).toContain('started a local redis-server');
      const ready = await fetch(`http://127.0.0.1:${apiPort}/health/ready`);
      expect(ready.status).toBe(200);
      // No GPU: CPU fallback is on, and said so; the README's first request needs no allowCpu, only the key npm start left.
      expect(run.output()).toMatch(/no GPU here \(WORKER_DEVICE=cpu\): CPU_FALLBACK=true/);
      expect(run.output()).toMatch(/created an API key for tenant local in \.data\/api-key/);
      const key = readFileSync(join(run.cwd, '.data/api-key'), 'utf8').trim();
      expect(statSync(join(run.cwd, '.data/api-key')).mode & 0o777).toBe(0o600);
      const api = new GpuqClient(`http://127.0.0.1:${apiPort}`, { apiKey: key });
      expect(await api.workers()).toHaveLength(1);
      const page = (await renderTextImage({ width: 300, height: 100, lines: [{ text: 'first', x: 10, y: 60, fontSize: 30 }] })).png;
      const accepted = await api.submit([{ name: 'sample-1.png', data: page }]);
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
      expect(accepted.body).toMatchObject({ className: 'cpu-fp32', precision: { promised: 'fp32' } });
      expect((await api.waitForJob(accepted.body.id as string, 60_000)).state).toBe('completed');
      expect(existsSync(join(run.cwd, '.data/redis/appendonlydir'))).toBe(true);
      const redis = createRedis(`redis://127.0.0.1:${redisPort}`);
      expect(await evictionPolicy(redis)).toBe('noeviction');
      redis.disconnect();
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
    // Redis went down with it.
    const probe = await fetch(`http://127.0.0.1:${apiPort}/health/live`).then(() => 'up', () => 'down');
    expect(probe).toBe('down');
    expect(readFileSync(join(run.cwd, '.data/redis/redis.log'), 'utf8')).toMatch(/ready to exit, bye bye/i);
  }, 90_000);

  it('says how to get Redis when none answers and redis-server is not installed', async () => {
    const port = await freePort();
    // An empty PATH: node itself is started by its absolute path, redis-server cannot be found.
    const run = launch({ REDIS_URL: `redis://127.0.0.1:${port}`, PATH: mkdtempSync(join(tmpdir(), 'gpuq-empty-path-')) });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/no Redis answers at REDIS_URL=redis:\/\/127\.0\.0\.1:\d+ and redis-server is not installed/);
    expect(run.output()).toMatch(/apt-get install redis-server/);
  });
});
