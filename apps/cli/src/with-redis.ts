import type { Redis } from 'ioredis';
import type { Config } from '#config';
import { createRedis, Keys, waitForRedis } from '#queue';

/** Runs an operator command against Redis directly (REDIS_URL, GPUQ_PREFIX), closing the connection after. */
export async function withRedis<T>(config: Config, run: (redis: Redis, keys: Keys) => Promise<T>): Promise<T> {
  const redis = createRedis(config.REDIS_URL);
  try {
    await waitForRedis(redis, 5000);
    return await run(redis, new Keys(config.GPUQ_PREFIX));
  } finally {
    redis.disconnect();
  }
}
