import type { Redis } from 'ioredis';
import { TERMINAL_STATES, type JobState } from '#contracts';
import type { ClassQueues } from './class-queues.js';
import { outboxMember } from './job-hash.js';
import type { Keys } from './keys.js';

/**
 * Placements are recorded with the job (in the same Lua step as the record, or as a reroute) and listed in an
 * outbox; putting them in their class queue is a second step, since BullMQ adds a job with its own script.
 * Whoever recorded a placement places it and removes it from the outbox; if that process dies in between, a
 * sweep (`drain`) places what has waited longer than a grace period. Placing twice is harmless: a placement's
 * BullMQ id is derived from the job's.
 */
export class PlacementOutbox {
  constructor(private readonly redis: Redis, private readonly keys: Keys, private readonly queues: ClassQueues) {}

  /** Puts a recorded placement in its class queue and takes it out of the outbox. */
  async place(jobId: string, className: string, placement: number, priority: number): Promise<void> {
    await this.queues.place(className, { jobId, placement }, priority);
    await this.redis.zrem(this.keys.placementOutbox(), outboxMember(jobId, placement));
  }

  /**
   * Places every placement recorded more than `graceMs` ago and still in the outbox (its recorder died before
   * placing it), unless its job has finished or moved on meanwhile. Returns the job ids placed.
   */
  async drain(nowMs: number, graceMs: number, limit = 200): Promise<string[]> {
    const members = await this.redis.zrangebyscore(this.keys.placementOutbox(), '-inf', nowMs - graceMs, 'LIMIT', 0, limit);
    const placed: string[] = [];
    for (const member of members) {
      const cut = member.lastIndexOf(':');
      const jobId = member.slice(0, cut);
      const placement = Number(member.slice(cut + 1));
      const [state, className, current, doc] = await this.redis.hmget(this.keys.job(jobId), 'state', 'className', 'placement', 'doc');
      const live = state && !TERMINAL_STATES.has(state as JobState) && Number(current) === placement;
      if (live) {
        await this.place(jobId, className!, placement, (JSON.parse(doc!) as { priority: number }).priority);
        placed.push(jobId);
      } else {
        await this.redis.zrem(this.keys.placementOutbox(), member);
      }
    }
    return placed;
  }
}
