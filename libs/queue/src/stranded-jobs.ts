import type { Redis } from 'ioredis';
import { TERMINAL_STATES, type JobError, type JobEvent, type JobRecord, type JobRequirement } from '#contracts';
import type { ClassQueues } from './class-queues.js';
import { jobDoc, outboxMember, queueJobIdOf } from './job-hash.js';
import type { JobRecordRepository } from './job-record.repository.js';
import { FAIL_UNHELD, MOVE_UNHELD } from './job-scripts.js';
import type { Keys } from './keys.js';
import type { PlacementOutbox } from './placement-outbox.js';

/** A job whose placement sits in a class queue no live worker serves, as it was when found. */
export interface StrandedJob {
  record: JobRecord;
  /** The token of its open delivery (its worker is gone), or '' when none is open. */
  token: string;
}

/**
 * Jobs whose class lost every worker. Which classes have no live worker, and since when, is kept in Redis (every
 * API replica sees the same clock); the jobs in such a class can be moved to another class or failed, each in one
 * Lua step that checks nobody took the job meanwhile.
 */
export class StrandedJobs {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly queues: ClassQueues,
    private readonly jobs: JobRecordRepository,
    private readonly outbox: PlacementOutbox,
  ) {}

  /**
   * Notes which class queues are served now; returns since when (epoch ms) each class queue that was ever given
   * a placement has had no live worker. A class served again forgets its time.
   */
  async unserved(served: ReadonlySet<string>, nowMs: number): Promise<Map<string, number>> {
    const names = await this.queues.placedClassNames();
    const key = this.keys.unservedClasses();
    const write = this.redis.multi();
    for (const name of names) {
      if (served.has(name)) write.hdel(key, name);
      else write.hsetnx(key, name, String(nowMs));
    }
    await write.exec();
    const since = await this.redis.hgetall(key);
    return new Map(Object.entries(since).filter(([name]) => names.includes(name) && !served.has(name)).map(([name, ms]) => [name, Number(ms)]));
  }

  /** Unfinished jobs whose current placement is in `className` and no worker holds: waiting, delayed, or active under an expired lock. */
  async jobsIn(className: string, limit = 200): Promise<StrandedJob[]> {
    const placements = await this.queues.placementsIn(className, limit);
    const found: StrandedJob[] = [];
    for (const { jobId, placement, held } of placements) {
      if (held) continue;
      const record = await this.jobs.get(jobId);
      if (!record || TERMINAL_STATES.has(record.state) || record.placement !== placement) continue;
      found.push({ record, token: (await this.redis.hget(this.keys.job(jobId), 'token')) ?? '' });
    }
    return found;
  }

  /** Moves a stranded job to `toClassName`; false when it changed meanwhile (taken, cancelled) and was left alone. */
  async move(job: StrandedJob, toClassName: string, requirement: JobRequirement, event: JobEvent): Promise<boolean> {
    const { record } = job;
    if (!(await this.queues.removeUnheld(record.className, queueJobIdOf(record.id, record.placement)))) return false;
    const next = record.placement + 1;
    const placement = { className: toClassName, queueJobId: queueJobIdOf(record.id, next), at: event.at, reason: event.message };
    const moved = await this.redis.eval(MOVE_UNHELD, 4, this.keys.job(record.id), this.keys.jobEvents(record.id), this.keys.jobPlacements(record.id), this.keys.placementOutbox(),
      String(record.placement), job.token, toClassName, String(next), JSON.stringify(jobDoc({ ...record, requirement })), JSON.stringify(placement),
      JSON.stringify(event), String(Date.now()), outboxMember(record.id, next));
    if (moved === null) return false;
    await this.outbox.place(record.id, toClassName, next, record.priority);
    return true;
  }

  /** Fails a stranded job with `error`; false when it changed meanwhile and was left alone. */
  async fail(job: StrandedJob, error: JobError, event: JobEvent): Promise<boolean> {
    const { record } = job;
    if (!(await this.queues.removeUnheld(record.className, queueJobIdOf(record.id, record.placement)))) return false;
    const now = new Date();
    const failed = await this.redis.eval(FAIL_UNHELD, 3, this.keys.job(record.id), this.keys.jobEvents(record.id), this.keys.jobsFinished(),
      String(record.placement), job.token, now.toISOString(), String(now.getTime()), record.id, JSON.stringify(error), JSON.stringify(event));
    return failed !== null;
  }
}
