import type { Redis } from 'ioredis';
import type { ImageOutcome, JobEvent, JobRecord, JobState } from '#contracts';
import { CANCELLED_ERROR, newJobHash, outboxMember, queueJobIdOf, recordFromHash } from './job-hash.js';
import { CANCEL, CREATE_JOB } from './job-scripts.js';
import type { Keys } from './keys.js';

/** What an idempotency key remembers: the job it created and the request that created it. */
interface IdempotencyEntry {
  id: string;
  fingerprint: string;
}

export type CreateOutcome =
  | { created: true; id: string }
  /** The key was used before: by the same request (`sameRequest`), or by another one (a 409 for the client). */
  | { created: false; id: string; sameRequest: boolean };

/**
 * The user's job records in Redis, for the API and the operators: submit, reads, cancel. A worker changes a job
 * only through its lease (job-lease.ts), fenced by the delivery's token.
 */
export class JobRecordRepository {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}

  /**
   * Stores a new job in one step: record, first placement (in the outbox, so a sweep places it should this
   * process die before it does), indexes, idempotency key. With an idempotency key already used, nothing is
   * written and the earlier job's id comes back, with whether `fingerprint` (the request) is the same.
   */
  async create(record: JobRecord, fingerprint: string): Promise<CreateOutcome> {
    const idempotencyKey = this.idempotencyKeyOf(record.tenant, record.idempotencyKey ?? '');
    const entry: IdempotencyEntry = { id: record.id, fingerprint };
    const placement = record.placements[0]!;
    const [outcome, earlier] = (await this.redis.eval(CREATE_JOB, 8,
      this.keys.job(record.id), this.keys.jobEvents(record.id), this.keys.jobPlacements(record.id), this.keys.jobsIndex(),
      this.keys.tenantJobs(record.tenant ?? ''), idempotencyKey, this.keys.webhooksPending(), this.keys.placementOutbox(),
      record.id, Date.parse(record.createdAt), JSON.stringify(newJobHash(record)), JSON.stringify(record.events.map((e) => JSON.stringify(e))),
      JSON.stringify({ ...placement, queueJobId: queueJobIdOf(record.id, 0) }), record.idempotencyKey ? JSON.stringify(entry) : '',
      record.tenant ? '1' : '0', record.webhookUrl ? '1' : '0', outboxMember(record.id, 0))) as [string, string];
    if (outcome === 'created') return { created: true, id: record.id };
    const found = JSON.parse(earlier) as IdempotencyEntry;
    return { created: false, id: found.id, sameRequest: found.fingerprint === fingerprint };
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const [hash, events, placements] = await Promise.all([
      this.redis.hgetall(this.keys.job(id)),
      this.redis.lrange(this.keys.jobEvents(id), 0, -1),
      this.redis.lrange(this.keys.jobPlacements(id), 0, -1),
    ]);
    return recordFromHash(hash, events, placements);
  }

  /** Newest first; with `tenant`, only that tenant's jobs. */
  async listIds(limit = 50, offset = 0, tenant?: string): Promise<string[]> {
    return this.redis.zrevrange(tenant ? this.keys.tenantJobs(tenant) : this.keys.jobsIndex(), offset, offset + limit - 1);
  }

  /** The job an idempotency key (of a tenant: keys of different tenants never collide) created, and the request's fingerprint. */
  async findByIdempotencyKey(tenant: string | undefined, idempotencyKey: string): Promise<IdempotencyEntry | undefined> {
    const raw = await this.redis.get(this.idempotencyKeyOf(tenant, idempotencyKey));
    return raw ? (JSON.parse(raw) as IdempotencyEntry) : undefined;
  }

  idempotencyKeyOf(tenant: string | undefined, idempotencyKey: string): string {
    return this.keys.idempotency(tenant ? `${tenant}/${idempotencyKey}` : idempotencyKey);
  }

  /** The tenant that owns a job; undefined for an unknown job (or one from before tenants existed). */
  async ownerOf(id: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.job(id), 'tenant')) ?? undefined;
  }

  /** States of many jobs in one round trip (undefined for unknown ids). */
  async states(ids: string[]): Promise<(JobState | undefined)[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.keys.job(id), 'state');
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([, state]) => (state ?? undefined) as JobState | undefined);
  }

  /** What a progress stream needs, in one round trip: state, progress and how many events there are. */
  async progressOf(id: string): Promise<{ state: JobState; done: number; total: number; events: number } | undefined> {
    const [[, fields], [, events]] = (await this.redis.multi().hmget(this.keys.job(id), 'state', 'done', 'total').llen(this.keys.jobEvents(id)).exec())! as [
      [unknown, (string | null)[]], [unknown, number]];
    const [state, done, total] = fields;
    if (!state) return undefined;
    return { state: state as JobState, done: Number(done ?? 0), total: Number(total ?? 0), events };
  }

  /** Events from index `from` on (0 is the first). */
  async eventsSince(id: string, from: number): Promise<JobEvent[]> {
    return (await this.redis.lrange(this.keys.jobEvents(id), from, -1)).map((e) => JSON.parse(e) as JobEvent);
  }

  /** Jobs with a webhook whose delivery is not yet queued. */
  async webhooksPending(): Promise<string[]> {
    return this.redis.smembers(this.keys.webhooksPending());
  }

  async clearWebhookPending(id: string): Promise<void> {
    await this.redis.srem(this.keys.webhooksPending(), id);
  }

  /** An event of the API's own (a webhook's delivery), not of a worker: nothing to fence. */
  async addEvent(id: string, event: JobEvent): Promise<void> {
    await this.redis.rpush(this.keys.jobEvents(id), JSON.stringify(event));
  }

  /** Marks a job cancelled (if not running) or asks its worker to stop; returns the state it had. */
  async requestCancel(id: string): Promise<JobState | undefined> {
    const now = new Date();
    const state = (await this.redis.eval(CANCEL, 2, this.keys.job(id), this.keys.jobsFinished(),
      now.toISOString(), JSON.stringify(CANCELLED_ERROR), now.getTime(), id)) as JobState | null;
    return state ?? undefined;
  }

  /** Every image's outcome, by index: its result, or why it could not be run. */
  async getResults(id: string): Promise<ImageOutcome[]> {
    const values = await this.redis.hvals(this.keys.jobResults(id));
    return values.map((v) => JSON.parse(v) as ImageOutcome).sort((a, b) => a.index - b.index);
  }
}

