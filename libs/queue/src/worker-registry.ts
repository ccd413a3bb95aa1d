import type { Redis } from 'ioredis';
import type { WorkerAdvert } from '#contracts';
import type { Keys } from './keys.js';
import { scanKeys } from './redis-connection.js';

/** Live workers, each under a key that expires unless its heartbeat renews it: a dead worker vanishes within the TTL. */
export class WorkerRegistry {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}

  async advertise(advert: WorkerAdvert, ttlS: number): Promise<void> {
    await this.redis.set(this.keys.worker(advert.workerId), JSON.stringify(advert), 'PX', Math.round(ttlS * 1000));
  }

  async remove(workerId: string): Promise<void> {
    await this.redis.del(this.keys.worker(workerId));
  }

  async list(): Promise<WorkerAdvert[]> {
    const keys = await scanKeys(this.redis, this.keys.workerPattern());
    if (keys.length === 0) return [];
    const values = await this.redis.mget(...keys);
    return values
      .filter((v): v is string => v !== null)
      .map((v) => JSON.parse(v) as WorkerAdvert)
      .sort((a, b) => a.workerId.localeCompare(b.workerId));
  }
}
