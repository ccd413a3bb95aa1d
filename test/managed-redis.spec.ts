import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '#queue';
import { freePort, TestRedis } from './setup/redis-server.js';
import { sleep } from './support/stack.js';

const main = join(fileURLToPath(new URL('../', import.meta.url)), 'dist/apps/api/src/main.js');

describe('a Redis that refuses CONFIG (as managed Redis does)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await TestRedis.start(false, ['--rename-command', 'CONFIG', '']);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('is refused CONFIG indeed', async () => {
    const client = createRedis(redis.url);
    await expect(client.config('GET', 'maxmemory-policy')).rejects.toThrow(/unknown command/i);
    client.disconnect();
  });

  it('the API warns that it cannot read the eviction policy, and starts', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [main], {
      env: { ...process.env, REDIS_URL: redis.url, API_PORT: String(port), API_HOST: '127.0.0.1', LOG_LEVEL: 'info', GPUQ_PREFIX: 'managed', BLOB_DIR: mkdtempSync(join(tmpdir(), 'gpuq-blobs-')) },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    try {
      const deadline = Date.now() + 30_000;
      while (!output.includes('"api listening"') && child.exitCode === null && Date.now() < deadline) await sleep(100);
      expect(output, output).toContain('"api listening"');
      expect(output).toMatch(/"level":40.*cannot read Redis maxmemory-policy \(CONFIG GET refused, as managed Redis does\)/);
      expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });
});
