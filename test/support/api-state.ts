import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClassQueues, createRedis, Keys } from '#queue';

/** Every file under `dir` (relative paths), or [] when it does not exist. */
export function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

/**
 * What a submit may leave behind, read straight from Redis and the disk: job records, queued placements,
 * stored blobs, leftover uploads. A refused request must leave all four as they were.
 */
export async function footprint(env: Record<string, string>, uploadDir: string) {
  const redis = createRedis(env.REDIS_URL!);
  const keys = new Keys(env.GPUQ_PREFIX!);
  const queues = new ClassQueues(redis, keys);
  try {
    return {
      jobs: await redis.zcard(keys.jobsIndex()),
      queued: JSON.stringify((await queues.depths()).map(({ oldestWaitMs, ...depth }) => depth)),
      blobs: filesUnder(env.BLOB_DIR!).length,
      uploads: filesUnder(uploadDir).length,
    };
  } finally {
    await queues.close();
    redis.disconnect();
  }
}
