import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import type { PlacementData } from './class-queues.js';

export interface ConsumerOptions {
  lockMs: number;
  stalledCheckMs: number;
}

/**
 * Pulls placements from one class queue by hand (`getNextJob`), so the worker decides when it has room
 * (the VRAM ledger) instead of BullMQ's fixed concurrency. Stalled-job recovery still runs: a placement
 * whose worker died goes back to waiting and another worker takes it over.
 */
export class ClassConsumer {
  private readonly worker: Worker<PlacementData>;

  constructor(readonly className: string, connection: Redis, keys: Keys, opts: ConsumerOptions) {
    this.worker = new Worker<PlacementData>(className, null, {
      connection,
      prefix: keys.bullPrefix(),
      autorun: false,
      lockDuration: opts.lockMs,
      stalledInterval: opts.stalledCheckMs,
      // Crashes are counted on the job record (see BEGIN_DELIVERY) with a clear reason;
      // BullMQ must keep re-delivering until that count decides.
      maxStalledCount: 1_000_000,
    });
  }

  async start(): Promise<void> {
    await this.worker.startStalledCheckTimer();
  }

  async next(token: string): Promise<Job<PlacementData> | undefined> {
    return (await this.worker.getNextJob(token, { block: false })) ?? undefined;
  }

  async close(): Promise<void> {
    await this.worker.close(true);
  }
}
