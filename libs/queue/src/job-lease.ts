import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { isImageFailure, type ImageOutcome, type JobError, type JobEvent, type JobRecord, type JobRequirement, type PrecisionDecision } from '#contracts';
import type { PlacementData } from './class-queues.js';
import { CANCELLED_ERROR, jobDoc, outboxMember, queueJobIdOf } from './job-hash.js';
import { ADD_EVENT, FINISH, REQUEUE, REROUTE, RETRACT_CRASH, UPDATE, WRITE_RESULTS } from './job-scripts.js';
import type { Keys } from './keys.js';
import type { PlacementOutbox } from './placement-outbox.js';

/** A write refused because this delivery no longer holds its job: its token or its placement is not the record's now. */
export class LeaseLostError extends Error {
  constructor(readonly jobId: string, readonly operation: string) {
    super(`${operation} refused: this worker no longer holds job ${jobId} (its lock expired and the job moved on); nothing was written`);
    this.name = this.constructor.name;
  }
}

/** What a finished job records besides its state. */
export interface CompletionSummary {
  peakBytes: number;
  predictedPeakBytes: number;
  timings: NonNullable<JobRecord['timings']>;
}

/** The open delivery as the record keeps it: who, since when, and until when its lock holds. */
interface DeliveryField {
  workerId: string;
  token: string;
  since: string;
  expiresAt: string;
}

/**
 * One delivery of one placement of a job to this worker, and everything the worker may do with the job while it
 * holds it. Every transition is one Lua step fenced by the delivery's token and placement: once the lock expired
 * and the job moved on, each of them is refused (`LeaseLostError`) and nothing is written. The lease keeps the
 * BullMQ lock renewed while it is open; BullMQ's `Job` and the record's hash stay behind it.
 */
export class JobLease {
  private renewal?: NodeJS.Timeout;
  private lockLostAt?: string;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly placed: Job<PlacementData>,
    readonly token: string,
    /** The record as it was when the delivery began. */
    readonly record: JobRecord,
    private readonly outbox: PlacementOutbox,
    private readonly options: { workerId: string; lockMs: number },
  ) {}

  get jobId(): string {
    return this.record.id;
  }

  /** The class queue this placement was delivered from. */
  get className(): string {
    return this.placed.queueName;
  }

  get placement(): number {
    return this.record.placement;
  }

  /** When renewing the lock failed (it expired, another worker may hold the job now); undefined while held. */
  get lockLost(): string | undefined {
    return this.lockLostAt;
  }

  /** The record's delivery field for a lock that holds until `lockMs` from now. */
  static deliveryField(workerId: string, token: string, since: string, lockMs: number): DeliveryField {
    return { workerId, token, since, expiresAt: new Date(Date.now() + lockMs).toISOString() };
  }

  /** Renews the BullMQ lock (and the record's note of it, which tells a takeover whether this worker was alive) every third of its life. */
  keepAlive(): void {
    const since = this.record.activeDelivery?.since ?? new Date().toISOString();
    this.renewal = setInterval(() => void this.renew(since), Math.max(500, this.options.lockMs / 3));
  }

  private async renew(since: string): Promise<void> {
    try {
      const extended = await this.placed.extendLock(this.token, this.options.lockMs);
      if (!extended) return this.loseLock();
      await this.fenced('renew the lock', UPDATE, [this.keys.job(this.jobId)],
        ['delivery', JSON.stringify(JobLease.deliveryField(this.options.workerId, this.token, since, this.options.lockMs))]);
    } catch (err) {
      if (err instanceof LeaseLostError) this.loseLock();
      // Otherwise Redis is out of reach: the lock may expire meanwhile; the next renewal or write will tell.
    }
  }

  private loseLock(): void {
    this.lockLostAt ??= new Date().toISOString();
    this.close();
  }

  /** Stops renewing the lock (the delivery ended, or was lost). */
  close(): void {
    clearInterval(this.renewal);
    this.renewal = undefined;
  }

  /** Records what runs the job: the precision decision with what was measured. */
  async recordRun(precision: PrecisionDecision): Promise<void> {
    await this.fenced('record the precision', UPDATE, [this.keys.job(this.jobId)], ['precision', JSON.stringify(precision)]);
  }

  async addEvent(event: JobEvent): Promise<void> {
    await this.fenced(`add a ${event.kind} event`, ADD_EVENT, [this.keys.job(this.jobId), this.keys.jobEvents(this.jobId)], [JSON.stringify(event)]);
  }

  /** Flags the job as drifted (memory far above its profile), with the event that says by how much. */
  async flagDrift(event: JobEvent): Promise<void> {
    await this.fenced('flag drift', ADD_EVENT, [this.keys.job(this.jobId), this.keys.jobEvents(this.jobId)], [JSON.stringify(event), 'drift', '1']);
  }

  /** Images already ended (by any delivery): their results are kept, never run again. */
  async doneIndexes(): Promise<Set<number>> {
    return new Set((await this.redis.hkeys(this.keys.jobResults(this.jobId))).map(Number));
  }

  async isCancelRequested(): Promise<boolean> {
    return (await this.redis.hget(this.keys.job(this.jobId), 'cancel')) === '1';
  }

  /**
   * Writes each image's outcome once. `cancelled` when the client cancelled meanwhile: nothing is written, and
   * the caller ends the job (`cancel`).
   */
  async writeResults(outcomes: ImageOutcome[]): Promise<{ done: number } | { cancelled: true }> {
    const args = outcomes.flatMap((o) => [String(o.index), JSON.stringify(o), isImageFailure(o) ? '1' : '0']);
    const done = (await this.fenced(`write ${outcomes.length} result(s)`, WRITE_RESULTS, [this.keys.job(this.jobId), this.keys.jobResults(this.jobId)], args)) as number;
    return done === -2 ? { cancelled: true } : { done };
  }

  /** Ends the job completed, or cancelled when a cancel came meanwhile. */
  async complete(summary: CompletionSummary): Promise<'completed' | 'cancelled'> {
    return (await this.finish('completed', undefined, undefined, [
      'peakBytes', String(Math.round(summary.peakBytes)), 'predictedPeakBytes', String(Math.round(summary.predictedPeakBytes)), 'timings', JSON.stringify(summary.timings),
    ])) as 'completed' | 'cancelled';
  }

  /** Ends the job failed with `error`, and an event saying why, after the batches and OOMs before it. */
  async fail(error: JobError): Promise<void> {
    await this.finish('failed', error, this.event('failed', `${error.code}: ${error.message}`));
  }

  /** Ends the job cancelled (finished images kept). */
  async cancel(): Promise<void> {
    await this.finish('cancelled', { code: 'cancelled', message: 'cancelled by the client; finished images are kept' }, undefined);
  }

  /**
   * Hands the placement back to its queue, after `delayMs`: the delivery ends cleanly (not a crash), for this or
   * any worker to take. `waiting` marks the job as waiting (for memory, or for a worker that may run it), which
   * MAX_WAIT_S bounds from the first such hand-back. `cancelled` when a cancel came meanwhile: the job ended.
   */
  async requeue(opts: { delayMs: number; waiting: boolean; event?: JobEvent }): Promise<'queued' | 'cancelled'> {
    const now = new Date();
    const outcome = (await this.fenced('hand the job back', REQUEUE, [this.keys.job(this.jobId), this.keys.jobEvents(this.jobId), this.keys.jobsFinished()], [
      now.toISOString(), String(now.getTime()), this.jobId, opts.waiting ? '1' : '0', opts.event ? JSON.stringify(opts.event) : '', JSON.stringify(CANCELLED_ERROR),
    ])) as 'queued' | 'cancelled';
    this.close();
    // The record is final: a failure below leaves the placement active, and its re-delivery finds it requeued or ended.
    if (outcome === 'cancelled') await this.placed.moveToCompleted({ outcome }, this.token, false).catch(() => undefined);
    else if (opts.delayMs > 0) await this.placed.moveToDelayed(Date.now() + opts.delayMs, this.token).catch(() => undefined);
    else await this.placed.moveToWait(this.token).catch(() => undefined);
    return outcome;
  }

  /**
   * Moves the job to `toClassName` with `requirement` (its raised minimum tier): a new placement recorded with
   * the record in one step, then put in its queue; the finished images are kept, the user's job id stays.
   */
  async reroute(toClassName: string, requirement: JobRequirement, reason: string, event: JobEvent): Promise<void> {
    const next = this.record.placement + 1;
    const placement = { className: toClassName, queueJobId: queueJobIdOf(this.jobId, next), at: new Date().toISOString(), reason, workerId: this.options.workerId };
    await this.fenced(`move the job to ${toClassName}`, REROUTE, [this.keys.job(this.jobId), this.keys.jobEvents(this.jobId), this.keys.jobPlacements(this.jobId), this.keys.placementOutbox()], [
      String(next), toClassName, JSON.stringify(jobDoc({ ...this.record, requirement })), JSON.stringify(placement), JSON.stringify(event),
      String(Date.now()), outboxMember(this.jobId, next),
    ]);
    this.close();
    // Recorded: from here a sweep would place it if this process died.
    await this.outbox.place(this.jobId, toClassName, next, this.record.priority);
    await this.placed.moveToCompleted({ outcome: 'rerouted' }, this.token, false).catch(() => undefined);
  }

  /**
   * After a write was refused: this worker is alive, so its delivery, if the takeover counted it as a crash,
   * was not one. Returns whether a crash was taken back.
   */
  async retractCrash(): Promise<boolean> {
    const event = this.event('takeover', `worker ${this.options.workerId} was alive: it lost the job when its lock expired (paused or cut off from Redis) `
      + `and could not write to it after; its crash is not counted`);
    return (await this.redis.eval(RETRACT_CRASH, 2, this.keys.job(this.jobId), this.keys.jobEvents(this.jobId), this.token, JSON.stringify(event))) === 1;
  }

  /** An event of this worker. */
  event(kind: JobEvent['kind'], message: string, data?: Record<string, unknown>): JobEvent {
    return { at: new Date().toISOString(), kind, message, workerId: this.options.workerId, ...(data ? { data } : {}) };
  }

  private async finish(state: 'completed' | 'failed' | 'cancelled', error: JobError | undefined, event: JobEvent | undefined, pairs: string[] = []): Promise<string> {
    const now = new Date();
    const ended = (await this.fenced(`end the job ${state}`, FINISH, [this.keys.job(this.jobId), this.keys.jobEvents(this.jobId), this.keys.jobsFinished()], [
      state, now.toISOString(), String(now.getTime()), this.jobId, error ? JSON.stringify(error) : '', event ? JSON.stringify(event) : '', JSON.stringify(CANCELLED_ERROR), ...pairs,
    ])) as string;
    this.close();
    // The record is final; should this fail, the placement's re-delivery finds the job finished and ends it.
    await this.placed.moveToCompleted({ outcome: ended }, this.token, false).catch(() => undefined);
    return ended;
  }

  /** Runs a fenced script: KEYS as given, ARGV the token, the placement, then `args`. */
  private async fenced(operation: string, script: string, keys: string[], args: string[]): Promise<unknown> {
    const reply = await this.redis.eval(script, keys.length, ...keys, this.token, String(this.record.placement), ...args);
    if (reply === null) throw new LeaseLostError(this.jobId, operation);
    return reply;
  }
}
