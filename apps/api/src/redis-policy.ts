import type { Redis } from 'ioredis';
import type { Logger } from '#config';
import { evictionPolicy } from '#queue';

/**
 * Warns when Redis may evict keys (queued jobs would vanish under memory pressure). Where `CONFIG` is refused
 * (managed Redis: ElastiCache, Memorystore, Upstash rename or forbid it) the policy cannot be read: the API
 * says so and starts, rather than refusing to run where it cannot look.
 */
export async function warnUnlessNoEviction(redis: Redis, log: Logger): Promise<void> {
  let policy: string;
  try {
    policy = await evictionPolicy(redis);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'cannot read Redis maxmemory-policy (CONFIG GET refused, as managed Redis does): make sure it is noeviction, or queued jobs may be evicted under memory pressure');
    return;
  }
  if (policy !== 'noeviction') {
    log.warn({ policy }, `Redis maxmemory-policy is ${policy}: under memory pressure Redis may evict queued jobs; set it to noeviction`);
  }
}
