import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

export interface WebhookDelivery {
  jobId: string;
}

export interface WebhookQueueOptions {
  attempts: number;
  /** First wait after a failed attempt; it doubles each time. */
  backoffMs: number;
}

const QUEUE = 'webhooks';

/**
 * Webhook deliveries as a BullMQ queue of their own (outside the class queues' prefix, so fleet views never
 * count it): one delivery per finished job (its id is derived from the job's, so queueing twice is a no-op),
 * retried with exponential backoff by whichever API replica is free.
 */
export class WebhookQueue {
  private readonly queue: Queue<WebhookDelivery>;
  private worker?: Worker<WebhookDelivery>;

  constructor(private readonly connection: Redis, private readonly keys: Keys, private readonly options: WebhookQueueOptions) {
    this.queue = new Queue<WebhookDelivery>(QUEUE, { connection, prefix: keys.webhookBullPrefix() });
  }

  async enqueue(jobId: string): Promise<void> {
    await this.queue.add('deliver', { jobId }, {
      jobId: `webhook-${jobId}`,
      attempts: this.options.attempts,
      backoff: { type: 'exponential', delay: this.options.backoffMs },
      removeOnComplete: { age: 86_400 },
      removeOnFail: { age: 7 * 86_400 },
    });
  }

  /** Drops a job's delivery, whatever its state (the job itself was deleted). */
  async forget(jobId: string): Promise<void> {
    await (await this.queue.getJob(`webhook-${jobId}`))?.remove().catch(() => undefined);
  }

  /**
   * Starts delivering: `deliver` throws to have the attempt retried; `onGiveUp` runs once the last attempt
   * failed. `attempt` counts from 1.
   */
  start(deliver: (delivery: WebhookDelivery, attempt: number) => Promise<void>, onGiveUp: (delivery: WebhookDelivery, error: Error, attempts: number) => Promise<void>, concurrency = 4): void {
    this.worker = new Worker<WebhookDelivery>(QUEUE, (job: Job<WebhookDelivery>) => deliver(job.data, job.attemptsMade + 1), {
      connection: this.connection, prefix: this.keys.webhookBullPrefix(), concurrency,
    });
    this.worker.on('failed', (job, error) => {
      if (job && job.attemptsMade >= this.options.attempts) void onGiveUp(job.data, error, job.attemptsMade).catch(() => undefined);
    });
    // Errors of the worker itself (Redis gone) are retried by BullMQ; without a listener they would be thrown.
    this.worker.on('error', () => undefined);
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
