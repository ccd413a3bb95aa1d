import type { Redis } from 'ioredis';
import type { ImageResult, JobEvent, JobRecord, JobState, Placement } from '#contracts';
import { BEGIN_DELIVERY, CANCEL, FENCED_UPDATE, WRITE_RESULTS } from './job-scripts.js';
import type { Keys } from './keys.js';

/** Fields of the job hash that hold JSON. Every other field is a plain string or number. */
const JSON_FIELDS = ['doc', 'precision', 'error', 'delivery', 'timings'] as const;
/** The parts of a record that never change after submit, stored as one JSON document. */
type JobDoc = Pick<JobRecord, 'id' | 'model' | 'priority' | 'allowCpu' | 'waitForCapacity' | 'idempotencyKey' | 'images' | 'requirement' | 'createdAt'>;

/** The immutable part of a record (rewritten only when a reroute raises the requirement's minimum tier). */
export function jobDoc(record: JobRecord): JobDoc {
  const { id, model, priority, allowCpu, waitForCapacity, idempotencyKey, images, requirement, createdAt } = record;
  return { id, model, priority, allowCpu, waitForCapacity, idempotencyKey, images, requirement, createdAt };
}

export type DeliveryOutcome = { outcome: 'ok' | 'terminal' | 'poison' | 'missing'; deliveries: number; crashes: number };

/**
 * The user's job record in Redis: a hash of independently updated fields (so the API's cancel and a
 * worker's progress never overwrite each other), lists of events and placements, and a hash of results.
 */
export class JobRecordRepository {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}

  /** Stores a new job. With an idempotency key already used, returns the earlier job's id instead. */
  async create(record: JobRecord, idempotencyTtlS = 86_400): Promise<{ id: string; created: boolean }> {
    if (record.idempotencyKey) {
      const key = this.idempotencyKeyOf(record.tenant, record.idempotencyKey);
      const claimed = await this.redis.set(key, record.id, 'EX', idempotencyTtlS, 'NX');
      if (claimed !== 'OK') {
        const existing = await this.redis.get(key);
        if (existing) return { id: existing, created: false };
      }
    }
    const doc = jobDoc(record);
    const owner = {
      ...(record.tenant ? { tenant: record.tenant } : {}),
      ...(record.keyId ? { keyId: record.keyId } : {}),
      ...(record.webhookUrl ? { webhook: record.webhookUrl } : {}),
    };
    const write = this.redis.multi();
    if (record.tenant) write.zadd(this.keys.tenantJobs(record.tenant), Date.parse(record.createdAt), record.id);
    if (record.webhookUrl) write.sadd(this.keys.webhooksPending(), record.id);
    await write
      .hset(this.keys.job(record.id), {
        ...owner,
        doc: JSON.stringify(doc),
        state: record.state,
        className: record.className,
        precision: JSON.stringify(record.precision),
        done: 0,
        total: record.progress.total,
        deliveries: 0,
        crashes: 0,
      })
      .zadd(this.keys.jobsIndex(), Date.parse(record.createdAt), record.id)
      .exec();
    for (const event of record.events) await this.addEvent(record.id, event);
    return { id: record.id, created: true };
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const [hash, events, placements] = await Promise.all([
      this.redis.hgetall(this.keys.job(id)),
      this.redis.lrange(this.keys.jobEvents(id), 0, -1),
      this.redis.lrange(this.keys.jobPlacements(id), 0, -1),
    ]);
    if (!hash.doc) return undefined;
    const json = Object.fromEntries(JSON_FIELDS.filter((f) => hash[f]).map((f) => [f, JSON.parse(hash[f]!)]));
    const doc = json.doc as JobDoc;
    return {
      ...doc,
      state: hash.state as JobState,
      className: hash.className!,
      precision: json.precision,
      placements: placements.map((p) => JSON.parse(p) as Placement),
      progress: { done: Number(hash.done ?? 0), total: Number(hash.total ?? doc.images.length) },
      events: events.map((e) => JSON.parse(e) as JobEvent),
      error: json.error,
      tenant: hash.tenant,
      keyId: hash.keyId,
      webhookUrl: hash.webhook,
      deliveries: Number(hash.deliveries ?? 0),
      crashes: Number(hash.crashes ?? 0),
      activeDelivery: json.delivery,
      cancelRequested: hash.cancel === '1',
      peakBytes: hash.peakBytes ? Number(hash.peakBytes) : undefined,
      predictedPeakBytes: hash.predictedPeakBytes ? Number(hash.predictedPeakBytes) : undefined,
      driftFlagged: hash.drift === '1' ? true : undefined,
      startedAt: hash.startedAt,
      finishedAt: hash.finishedAt,
      timings: json.timings,
    };
  }

  /** Newest first; with `tenant`, only that tenant's jobs. */
  async listIds(limit = 50, offset = 0, tenant?: string): Promise<string[]> {
    return this.redis.zrevrange(tenant ? this.keys.tenantJobs(tenant) : this.keys.jobsIndex(), offset, offset + limit - 1);
  }

  /** The job an idempotency key (of a tenant: keys of different tenants never collide) already created. */
  async findByIdempotencyKey(tenant: string | undefined, idempotencyKey: string): Promise<string | undefined> {
    return (await this.redis.get(this.idempotencyKeyOf(tenant, idempotencyKey))) ?? undefined;
  }

  private idempotencyKeyOf(tenant: string | undefined, idempotencyKey: string): string {
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

  /** Unfenced update, for the API and the router (before any worker holds the job). */
  async update(id: string, fields: Partial<Record<string, string | number>>): Promise<void> {
    await this.redis.hset(this.keys.job(id), fields as Record<string, string | number>);
  }

  async addEvent(id: string, event: JobEvent): Promise<void> {
    await this.redis.rpush(this.keys.jobEvents(id), JSON.stringify(event));
  }

  async addPlacement(id: string, placement: Placement): Promise<void> {
    await this.redis.multi().rpush(this.keys.jobPlacements(id), JSON.stringify(placement)).hset(this.keys.job(id), 'className', placement.className).exec();
  }

  /**
   * Starts a delivery: takes the fencing token, counts deliveries, and counts a crash when the previous
   * delivery never ended cleanly. A job that has crashed its workers `maxCrashes` times is failed as poison.
   */
  async beginDelivery(id: string, workerId: string, token: string, maxCrashes: number): Promise<DeliveryOutcome> {
    const now = new Date().toISOString();
    const delivery = JSON.stringify({ workerId, token, since: now });
    const [outcome, deliveries, crashes] = (await this.redis.eval(BEGIN_DELIVERY, 2, this.keys.job(id), this.keys.jobEvents(id),
      workerId, token, now, maxCrashes, delivery)) as [DeliveryOutcome['outcome'], number, number];
    return { outcome, deliveries, crashes };
  }

  /** Writes results only while `token` is current; each image index is written once (HSETNX). Returns the done count or -1. */
  async writeResults(id: string, token: string, results: ImageResult[]): Promise<number> {
    const args = results.flatMap((r) => [String(r.index), JSON.stringify(r)]);
    return (await this.redis.eval(WRITE_RESULTS, 2, this.keys.job(id), this.keys.jobResults(id), token, ...args)) as number;
  }

  /** Updates fields only while `token` is current; `endDelivery` also releases the token. Returns false when fenced off. */
  async fencedUpdate(id: string, token: string, fields: Record<string, string | number>, endDelivery = false): Promise<boolean> {
    const args = Object.entries(fields).flatMap(([k, v]) => [k, String(v)]);
    return (await this.redis.eval(FENCED_UPDATE, 1, this.keys.job(id), token, endDelivery ? '1' : '0', ...args)) === 1;
  }

  /** Marks a job cancelled (if not running) or asks its worker to stop at the next batch boundary. */
  async requestCancel(id: string): Promise<JobState | undefined> {
    const error = JSON.stringify({ code: 'cancelled', message: 'cancelled by the client' });
    const state = (await this.redis.eval(CANCEL, 1, this.keys.job(id), new Date().toISOString(), error)) as JobState | null;
    return state ?? undefined;
  }

  async isCancelRequested(id: string): Promise<boolean> {
    return (await this.redis.hget(this.keys.job(id), 'cancel')) === '1';
  }

  async doneIndexes(id: string): Promise<Set<number>> {
    return new Set((await this.redis.hkeys(this.keys.jobResults(id))).map(Number));
  }

  async getResults(id: string): Promise<ImageResult[]> {
    const values = await this.redis.hvals(this.keys.jobResults(id));
    return values.map((v) => JSON.parse(v) as ImageResult).sort((a, b) => a.index - b.index);
  }
}
