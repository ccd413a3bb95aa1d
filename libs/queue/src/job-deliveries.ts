import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ClassConsumer } from './class-consumer.js';
import type { PlacementData } from './class-queues.js';
import { CANCELLED_ERROR } from './job-hash.js';
import { JobLease } from './job-lease.js';
import type { JobRecordRepository } from './job-record.repository.js';
import { BEGIN_DELIVERY } from './job-scripts.js';
import type { Keys } from './keys.js';
import type { PlacementOutbox } from './placement-outbox.js';

export interface DeliveryOptions {
  workerId: string;
  lockMs: number;
  stalledCheckMs: number;
  maxCrashes: number;
}

/**
 * A placement taken that is not to be run, and why: its job is gone, finished, cancelled, moved on, poison, or
 * (`contended`) its open delivery kept changing while this one began, and it went back to its queue.
 */
export interface Skipped {
  jobId: string;
  outcome: 'missing' | 'terminal' | 'superseded' | 'cancelled' | 'poison' | 'contended';
  detail: string;
  deliveries: number;
  crashes: number;
}

export type Delivery = { lease: JobLease } | { skipped: Skipped };

/** How often a delivery is begun again when the open delivery it read changed before its script ran. */
const BEGIN_ATTEMPTS = 5;

/**
 * Takes placements from the worker's class queues, most specific first, and begins their deliveries: a fencing
 * token each, crashes counted, placements the job has moved on from skipped. What it hands out is a lease.
 */
export class JobDeliveries {
  private readonly consumers: ClassConsumer[];

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    classNames: string[],
    private readonly jobs: JobRecordRepository,
    private readonly outbox: PlacementOutbox,
    private readonly options: DeliveryOptions,
  ) {
    this.consumers = classNames.map((name) => new ClassConsumer(name, redis, keys, { lockMs: options.lockMs, stalledCheckMs: options.stalledCheckMs }));
  }

  async start(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.start()));
  }

  async close(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.close()));
  }

  /** The next placement of the most specific class that has one: a lease to run it, or what was skipped; undefined when every queue is empty. */
  async next(): Promise<Delivery | undefined> {
    for (const consumer of this.consumers) {
      const token = `${this.options.workerId}:${randomUUID()}`;
      const placed = await consumer.next(token);
      if (placed) return this.begin(placed, token);
    }
    return undefined;
  }

  private async begin(placed: Job<PlacementData>, token: string): Promise<Delivery> {
    const { jobId, placement } = placed.data;
    const now = new Date();
    const delivery = JobLease.deliveryField(this.options.workerId, token, now.toISOString(), this.options.lockMs);
    for (let attempt = 1; ; attempt++) {
      // The open delivery, if any, tells whose heartbeat to look at: the script checks it did not change meanwhile.
      const open = await this.redis.hget(this.keys.job(jobId), 'delivery');
      const previous = open ? (JSON.parse(open) as { workerId: string; token: string }) : undefined;
      const [outcome, deliveries, crashes, detail] = (await this.redis.eval(BEGIN_DELIVERY, 4,
        this.keys.job(jobId), this.keys.jobEvents(jobId), this.keys.jobsFinished(), previous ? this.keys.worker(previous.workerId) : this.keys.job(jobId),
        this.options.workerId, token, now.toISOString(), this.options.maxCrashes, JSON.stringify(delivery), String(placement), previous?.token ?? '',
        now.getTime(), jobId, JSON.stringify(CANCELLED_ERROR))) as [string, number, number, string];
      if (outcome === 'retry' && attempt < BEGIN_ATTEMPTS) continue;
      if (outcome === 'ok') {
        const record = (await this.jobs.get(jobId))!;
        const lease = new JobLease(this.redis, this.keys, placed, token, record, this.outbox, { workerId: this.options.workerId, lockMs: this.options.lockMs });
        lease.keepAlive();
        return { lease };
      }
      // Nothing to run: the placement ends here (a `retry` that kept changing goes back to its queue instead).
      if (outcome === 'retry') {
        await placed.moveToWait(token).catch(() => undefined);
      } else {
        await placed.moveToCompleted({ outcome }, token, false).catch(() => undefined);
      }
      return { skipped: { jobId, outcome: outcome === 'retry' ? 'contended' : (outcome as Skipped['outcome']), detail, deliveries, crashes } };
    }
  }
}
