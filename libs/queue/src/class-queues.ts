import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueJobIdOf } from './job-hash.js';
import type { Keys } from './keys.js';
import { scanKeys } from './redis-connection.js';

/** What a placement (one BullMQ job) carries: only the user's job id; everything else is in the job record. */
export interface PlacementData {
  jobId: string;
  placement: number;
}

export interface ClassDepth {
  className: string;
  waiting: number;
  prioritized: number;
  delayed: number;
  active: number;
  /** Placements finished, as BullMQ still keeps them (an hour of completed, a day of failed). */
  completed: number;
  failed: number;
  /** Age in ms of the oldest job not yet started (0 when none). */
  oldestWaitMs: number;
}

/** Maps the API's priority (0..10, higher is more urgent) to BullMQ's (1 is the highest). */
export function bullPriority(priority: number): number {
  return 11 - Math.max(0, Math.min(10, Math.round(priority)));
}

/**
 * BullMQ's event stream per queue is for listeners gpuq does not run (the job record keeps each job's history):
 * kept short, so what Redis holds does not grow with the jobs that passed.
 */
const EVENTS_MAX_LEN = 200;

/** One BullMQ queue per capability class, created on first use. */
export class ClassQueues {
  private readonly queues = new Map<string, Queue<PlacementData>>();
  constructor(private readonly connection: Redis, private readonly keys: Keys) {}

  queue(className: string): Queue<PlacementData> {
    let queue = this.queues.get(className);
    if (!queue) {
      queue = new Queue<PlacementData>(className, { connection: this.connection, prefix: this.keys.bullPrefix(), streams: { events: { maxLen: EVENTS_MAX_LEN } } });
      this.queues.set(className, queue);
    }
    return queue;
  }

  /** Adds a placement. Its BullMQ id is derived from the job id, so adding the same placement twice is a no-op. */
  async place(className: string, data: PlacementData, priority: number): Promise<string> {
    const opts: JobsOptions = {
      jobId: queueJobIdOf(data.jobId, data.placement),
      priority: bullPriority(priority),
      // The job record keeps the history; BullMQ's copy is only a placement, gone once its delivery ends.
      removeOnComplete: true,
      removeOnFail: true,
    };
    const job = await this.queue(className).add('run', data, opts);
    await this.connection.sadd(this.keys.placedClasses(), className);
    return job.id!;
  }

  /**
   * Removes a placement no worker holds: waiting or delayed, or active under a lock that expired (its worker is
   * gone). False when a worker holds it (or it is gone).
   */
  async removeUnheld(className: string, queueJobId: string): Promise<boolean> {
    const job = await this.queue(className).getJob(queueJobId);
    if (!job) return false;
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') return false;
    try {
      // BullMQ refuses to remove a job whose lock is still held.
      await job.remove();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Placements in a class queue not yet finished: waiting, prioritized, delayed, and active (`held` while their
   * worker's lock is alive).
   */
  async placementsIn(className: string, limit: number): Promise<{ jobId: string; placement: number; held: boolean }[]> {
    const queue = this.queue(className);
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'], 0, limit - 1);
    const active = new Set((await queue.getActive(0, limit - 1)).map((j) => j.id));
    return Promise.all(jobs.filter((j) => j?.data).map(async (j) => ({
      jobId: j.data.jobId, placement: j.data.placement,
      held: active.has(j.id) && (await this.connection.exists(queue.toKey(`${j.id}:lock`))) === 1,
    })));
  }

  /** Depth of each class that exists in Redis, for autoscaling and the operators. */
  async depths(): Promise<ClassDepth[]> {
    const names = await this.knownClassNames();
    return Promise.all(
      names.map(async (className) => {
        const queue = this.queue(className);
        const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
        const [oldest] = await queue.getJobs(['prioritized', 'waiting'], 0, 0, true);
        return {
          className,
          waiting: counts.waiting ?? 0,
          prioritized: counts.prioritized ?? 0,
          delayed: counts.delayed ?? 0,
          active: counts.active ?? 0,
          completed: counts.completed ?? 0,
          failed: counts.failed ?? 0,
          oldestWaitMs: oldest ? Date.now() - oldest.timestamp : 0,
        };
      }),
    );
  }

  /** Class queues that were ever given a placement (without scanning the keyspace). */
  async placedClassNames(): Promise<string[]> {
    return (await this.connection.smembers(this.keys.placedClasses())).sort();
  }

  /** Class queues that exist in Redis (BullMQ keeps a `meta` hash per queue). */
  async knownClassNames(): Promise<string[]> {
    const prefix = `${this.keys.bullPrefix()}:`;
    const keys = await scanKeys(this.connection, `${prefix}*:meta`);
    return keys.map((key) => key.slice(prefix.length, -':meta'.length)).sort();
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
