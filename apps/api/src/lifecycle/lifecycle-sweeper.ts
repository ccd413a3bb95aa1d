import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { BlobStore } from '#blobs';
import type { JobEvent } from '#contracts';
import type { Config, Logger } from '#config';
import { JobRetention, PlacementOutbox, StrandedJobs, WebhookQueue, WorkerRegistry } from '#queue';
import { decideStranded } from '#scheduling';
import { Periodic } from '../periodic.js';
import { BLOB_STORE, CONFIG, LOGGER } from '../tokens.js';

/** A placement recorded this recently is still its recorder's to place: the sweep leaves it alone. */
const OUTBOX_GRACE_MS = 5000;
/** Finished jobs deleted per batch, and batches per sweep: a backlog is worked off over a few sweeps. */
const RETENTION_BATCH = 200;
const RETENTION_BATCHES = 10;

/**
 * What makes every job end and every finished job go, swept by each API replica every SWEEP_S (each step is
 * safe to run twice at once): placements left in the outbox by a process that died before placing them;
 * jobs stranded in a class that lost every worker (moved to one that serves their precision, or failed with
 * the reasons); finished jobs past JOB_TTL_S (record, events, results, images, webhook delivery).
 */
@Injectable()
export class LifecycleSweeper implements OnModuleInit, OnApplicationShutdown {
  private readonly periodic: Periodic;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    private readonly outbox: PlacementOutbox,
    private readonly stranded: StrandedJobs,
    private readonly retention: JobRetention,
    private readonly registry: WorkerRegistry,
    private readonly webhooks: WebhookQueue,
  ) {
    this.periodic = new Periodic(config.SWEEP_S * 1000, () => this.sweep(), (err) => log.warn({ err: String(err) }, 'lifecycle sweep failed'));
  }

  onModuleInit(): void {
    this.periodic.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.periodic.stop();
  }

  async sweep(nowMs = Date.now()): Promise<void> {
    const placed = await this.outbox.drain(nowMs, OUTBOX_GRACE_MS);
    if (placed.length > 0) this.log.warn({ jobIds: placed }, 'placed jobs their submitter recorded but did not place (it died or lost Redis in between)');
    await this.endStranded(nowMs);
    await this.forgetFinished(nowMs);
  }

  private async endStranded(nowMs: number): Promise<void> {
    const live = (await this.registry.list()).filter((w) => w.status === 'ready');
    const unserved = await this.stranded.unserved(new Set(live.flatMap((w) => w.classes)), nowMs);
    for (const [className, since] of unserved) {
      if (nowMs - since < Math.min(this.config.STRANDED_AFTER_S, this.config.CAPACITY_WAIT_S) * 1000) continue;
      for (const job of await this.stranded.jobsIn(className)) {
        const { record } = job;
        const decision = decideStranded({
          className, requirement: record.requirement, promised: record.precision.promised, waitForCapacity: record.waitForCapacity,
          unservedForMs: nowMs - since, strandedAfterMs: this.config.STRANDED_AFTER_S * 1000, capacityWaitMs: this.config.CAPACITY_WAIT_S * 1000,
          fleet: live.map((w) => w.device),
        });
        if (decision.action === 'keep') continue;
        const at = new Date(nowMs).toISOString();
        const done = decision.action === 'move'
          ? await this.stranded.move(job, decision.toClassName, { ...record.requirement }, event(at, 'reroute', decision.why))
          : await this.stranded.fail(job, { code: 'no-capacity', message: decision.why, reasons: decision.reasons }, event(at, 'failed', `no-capacity: ${decision.why}`));
        if (done) this.log.warn({ jobId: record.id, className, action: decision.action, why: decision.why }, 'stranded job');
      }
    }
  }

  /** Deletes finished jobs past JOB_TTL_S, a batch at a time, at most RETENTION_BATCHES batches a sweep (the next sweep goes on). */
  private async forgetFinished(nowMs: number): Promise<void> {
    for (let batch = 0; batch < RETENTION_BATCHES; batch++) {
      const expired = await this.retention.expired(nowMs - this.config.JOB_TTL_S * 1000, RETENTION_BATCH);
      for (const id of expired) {
        if (!(await this.retention.delete(id))) continue;
        await this.blobs.delete(`jobs/${id}`);
        await this.webhooks.forget(id);
      }
      if (expired.length < RETENTION_BATCH) return;
    }
  }
}

const event = (at: string, kind: JobEvent['kind'], message: string): JobEvent => ({ at, kind, message });
