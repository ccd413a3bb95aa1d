import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
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

/** One BullMQ queue per capability class, created on first use. */
export class ClassQueues {
  private readonly queues = new Map<string, Queue<PlacementData>>();
  constructor(private readonly connection: Redis, private readonly keys: Keys) {}

  queue(className: string): Queue<PlacementData> {
    let queue = this.queues.get(className);
    if (!queue) {
      queue = new Queue<PlacementData>(className, { connection: this.connection, prefix: this.keys.bullPrefix() });
      this.queues.set(className, queue);
    }
    return queue;
  }

  /** Adds a placement. Its BullMQ id is derived from the job id, so adding the same placement twice is a no-op. */
  async place(className: string, data: PlacementData, priority: number): Promise<string> {
    const opts: JobsOptions = {
      jobId: `${data.jobId}-p${data.placement}`,
      priority: bullPriority(priority),
      // The job record keeps the history; BullMQ's copies are only placements.
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 86_400 },
    };
    const job = await this.queue(className).add('run', data, opts);
    return job.id!;
  }

  /** Removes a placement that no worker holds yet; false when it is running (or gone). */
  async removeIfWaiting(className: string, queueJobId: string): Promise<boolean> {
    const job = await this.queue(className).getJob(queueJobId);
    if (!job) return false;
    const state = await job.getState();
    if (state === 'active' || state === 'completed' || state === 'failed') return false;
    try {
      await job.remove();
      return true;
    } catch {
      return false;
    }
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
