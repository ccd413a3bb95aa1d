import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRedis, waitForRedis } from '#queue';

/** True when something answers PING at `url` within a second. */
export async function redisAnswers(url: string): Promise<boolean> {
  const client = createRedis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await waitForRedis(client, 1000);
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export function redisServerOnPath(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts a redis-server for `url` (only local addresses) with its data under `dir`: AOF on, so queued jobs
 * survive a restart, and `noeviction`, so Redis refuses writes rather than silently dropping jobs.
 */
export async function startLocalRedis(url: string, dir: string): Promise<ChildProcess> {
  const { hostname, port } = new URL(url);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname)) {
    throw new Error(`REDIS_URL points at ${hostname}, not this machine: start Redis there, or set REDIS_URL to a local address`);
  }
  const data = resolve(dir);
  mkdirSync(data, { recursive: true });
  const child = spawn('redis-server', [
    '--port', port || '6379', '--bind', '127.0.0.1', '--dir', data, '--appendonly', 'yes', '--save', '',
    '--maxmemory-policy', 'noeviction', '--logfile', resolve(data, 'redis.log'),
  ], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}; see ${resolve(data, 'redis.log')}`);
    if (await redisAnswers(url)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('redis-server did not answer within 5 s');
}
