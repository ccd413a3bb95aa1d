import type { Redis } from 'ioredis';
import type { JobDoc } from './job-hash.js';
import type { JobRecordRepository } from './job-record.repository.js';
import { DELETE_JOB } from './job-scripts.js';
import type { Keys } from './keys.js';

/**
 * Retention: a finished job is deleted JOB_TTL_S after it finished, with everything Redis keeps of it (record,
 * events, placements, results, its entries in the indexes, its idempotency key, its key's count of unfinished
 * jobs). Its images are the caller's to delete (the blob store is not Redis's).
 */
export class JobRetention {
  constructor(private readonly redis: Redis, private readonly keys: Keys, private readonly jobs: JobRecordRepository) {}

  /** Jobs that finished before `beforeMs`, oldest first. */
  async expired(beforeMs: number, limit = 200): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.jobsFinished(), '-inf', beforeMs, 'LIMIT', 0, limit);
  }

  /** Deletes a finished job; false when it is not finished (nothing is deleted then). */
  async delete(id: string): Promise<boolean> {
    const [tenant, keyId, doc] = await this.redis.hmget(this.keys.job(id), 'tenant', 'keyId', 'doc');
    const idempotencyKey = doc ? (JSON.parse(doc) as JobDoc).idempotencyKey : undefined;
    const deleted = await this.redis.eval(DELETE_JOB, 9,
      this.keys.job(id), this.keys.jobEvents(id), this.keys.jobPlacements(id), this.keys.jobResults(id), this.keys.jobsIndex(), this.keys.jobsFinished(),
      this.keys.tenantJobs(tenant ?? ''), this.jobs.idempotencyKeyOf(tenant ?? undefined, idempotencyKey ?? ''), this.keys.activeJobs(keyId ?? ''), id);
    return deleted === 1;
  }
}
