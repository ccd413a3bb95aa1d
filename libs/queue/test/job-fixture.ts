import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { JobRecord } from '#contracts';
import { ClassQueues } from '../src/class-queues.js';
import { JobDeliveries } from '../src/job-deliveries.js';
import { JobRecordRepository } from '../src/job-record.repository.js';
import { Keys } from '../src/keys.js';
import { PlacementOutbox } from '../src/placement-outbox.js';

/** A job of `images` images of 100×100 pixels, queued on `className`, as the API records it. */
export function jobRecord(className: string, over: Partial<JobRecord> = {}): JobRecord {
  const id = randomUUID();
  const at = new Date().toISOString();
  const images = Array.from({ length: over.progress?.total ?? 4 }, (_, index) => ({ index, blobKey: `jobs/${id}/in/${index}`, width: 100, height: 100, bytes: 1000 }));
  return {
    id, model: 'ppocr-v4-det-640', state: 'queued', priority: 5, allowCpu: true, waitForCapacity: false, tenant: 'test', images,
    requirement: { model: 'ppocr-v4-det-640', policy: 'fp32', imageCount: images.length, separable: true, allowCpu: true, needs: [{ precision: 'fp32', bytesOneImage: 1e8, bytesWholeJob: 4e8 }] },
    precision: { policy: 'fp32', promised: 'fp32', reason: 'test' }, className, placement: 0,
    placements: [{ className, queueJobId: '', at, reason: 'test' }], progress: { done: 0, total: images.length },
    events: [], deliveries: 0, crashes: 0, createdAt: at, ...over,
  };
}

/** The queue side of one deployment (its own prefix) on a real Redis: submit jobs, take them as a worker would. */
export class QueueBench {
  readonly keys = new Keys(`t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`);
  readonly queues: ClassQueues;
  readonly jobs: JobRecordRepository;
  readonly outbox: PlacementOutbox;
  private readonly open: JobDeliveries[] = [];

  constructor(readonly redis: Redis) {
    this.queues = new ClassQueues(redis, this.keys);
    this.jobs = new JobRecordRepository(redis, this.keys);
    this.outbox = new PlacementOutbox(redis, this.keys, this.queues);
  }

  /** Records and places a job, as a submit does. */
  async submit(record: JobRecord): Promise<JobRecord> {
    const created = await this.jobs.create(record, 'fingerprint');
    if (!created.created) throw new Error('not created');
    await this.outbox.place(record.id, record.className, 0, record.priority);
    return record;
  }

  /** A worker's deliveries of `classes` (short locks: a lock not renewed expires within a second). */
  async worker(workerId: string, classes: string[], opts: { lockMs?: number; maxCrashes?: number } = {}): Promise<JobDeliveries> {
    const deliveries = new JobDeliveries(this.redis, this.keys, classes, this.jobs, this.outbox, {
      workerId, lockMs: opts.lockMs ?? 600, stalledCheckMs: 300, maxCrashes: opts.maxCrashes ?? 3,
    });
    await deliveries.start();
    this.open.push(deliveries);
    return deliveries;
  }

  async close(): Promise<void> {
    await Promise.all(this.open.map((d) => d.close()));
    await this.queues.close();
  }
}
