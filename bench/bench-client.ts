import { GpuqClient } from '#client';
import { loadConfig, readLocalKey } from '#config';
import { ApiKeyRepository, createRedis, Keys, waitForRedis } from '#queue';

/**
 * A client for bench scripts: the key in GPUQ_API_KEY or .data/api-key, else a fresh key of tenant `bench`
 * created in the Redis the API uses (REDIS_URL), as `gpuq keys create` would. Benches submit far faster than a
 * person, so the fresh key lifts the rate and quota limits.
 */
export async function benchClient(api: string): Promise<GpuqClient> {
  const config = loadConfig();
  let apiKey = config.GPUQ_API_KEY ?? readLocalKey();
  if (!apiKey) {
    const redis = createRedis(config.REDIS_URL);
    try {
      await waitForRedis(redis, 5000);
      const limits = { ratePerMin: 1_000_000, burst: 10_000, maxConcurrentJobs: 10_000, maxImagesPerDay: 100_000_000 };
      apiKey = (await new ApiKeyRepository(redis, new Keys(config.GPUQ_PREFIX)).create('bench', { name: 'bench', limits })).key;
    } finally {
      redis.disconnect();
    }
  }
  return new GpuqClient(api, { apiKey });
}
