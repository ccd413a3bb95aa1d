import { Redis, type RedisOptions } from 'ioredis';

/**
 * One ioredis client per use. `maxRetriesPerRequest: null` is what BullMQ requires for blocking
 * connections; we use it everywhere so a Redis restart pauses commands instead of failing them.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...options });
}

/** Resolves when the client is ready, or rejects after `timeoutMs` with the last connection error. */
export async function waitForRedis(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (err: Error) => (lastError = err);
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      redis.off('error', onError);
      reject(new Error(`Redis not reachable after ${timeoutMs} ms: ${lastError?.message ?? 'no answer'}`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      redis.off('error', onError);
      resolve();
    };
    redis.once('ready', onReady);
    redis.on('error', onError);
  });
}

/** Reads `maxmemory-policy`: anything but `noeviction` lets Redis silently drop queued jobs under memory pressure. */
export async function evictionPolicy(redis: Redis): Promise<string> {
  const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
  return reply[1] ?? 'unknown';
}

/** Every key matching `pattern`, by SCAN (never KEYS: it blocks Redis on a big keyspace). */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    for (const key of found) keys.add(key);
  } while (cursor !== '0');
  return [...keys];
}
