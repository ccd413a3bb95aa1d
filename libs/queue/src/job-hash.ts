import type { JobError, JobEvent, JobRecord, JobState, Placement } from '#contracts';

/**
 * How a job record is laid out in Redis: a hash of independently updated fields (so the API's cancel and a
 * worker's progress never overwrite each other), lists of events and placements, and a hash of results. Only
 * libs/queue reads or writes these shapes.
 */

/** Fields of the job hash that hold JSON. Every other field is a plain string or number. */
const JSON_FIELDS = ['doc', 'precision', 'error', 'delivery', 'timings'] as const;

/** The parts of a record that never change after submit, stored as one JSON document. */
export type JobDoc = Pick<JobRecord, 'id' | 'model' | 'priority' | 'allowCpu' | 'waitForCapacity' | 'idempotencyKey' | 'images' | 'requirement' | 'createdAt'>;

/** The immutable part of a record (rewritten only when a reroute raises the requirement's minimum tier). */
export function jobDoc(record: Pick<JobRecord, keyof JobDoc>): JobDoc {
  const { id, model, priority, allowCpu, waitForCapacity, idempotencyKey, images, requirement, createdAt } = record;
  return { id, model, priority, allowCpu, waitForCapacity, idempotencyKey, images, requirement, createdAt };
}

/** The hash of a new record, every value a string. */
export function newJobHash(record: JobRecord): Record<string, string> {
  return {
    ...(record.tenant ? { tenant: record.tenant } : {}),
    ...(record.keyId ? { keyId: record.keyId } : {}),
    ...(record.webhookUrl ? { webhook: record.webhookUrl } : {}),
    doc: JSON.stringify(jobDoc(record)),
    state: record.state,
    className: record.className,
    placement: String(record.placement),
    precision: JSON.stringify(record.precision),
    done: '0',
    failed: '0',
    total: String(record.progress.total),
    deliveries: '0',
    crashes: '0',
  };
}

/** A record from its hash and lists; undefined when the hash is gone. */
export function recordFromHash(hash: Record<string, string>, events: string[], placements: string[]): JobRecord | undefined {
  if (!hash.doc) return undefined;
  const json = Object.fromEntries(JSON_FIELDS.filter((f) => hash[f]).map((f) => [f, JSON.parse(hash[f]!)]));
  const doc = json.doc as JobDoc;
  const failed = Number(hash.failed ?? 0);
  return {
    ...doc,
    state: hash.state as JobState,
    className: hash.className!,
    placement: Number(hash.placement ?? 0),
    precision: json.precision,
    placements: placements.map((p) => JSON.parse(p) as Placement),
    progress: { done: Number(hash.done ?? 0), total: Number(hash.total ?? doc.images.length), ...(failed > 0 ? { failed } : {}) },
    events: events.map((e) => JSON.parse(e) as JobEvent),
    error: json.error as JobError | undefined,
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
    waitingSince: hash.waitingSince,
    timings: json.timings,
  };
}

/** The outbox entry of one placement of a job. */
export const outboxMember = (jobId: string, placement: number) => `${jobId}:${placement}`;

/** The BullMQ id of one placement: derived from the job's, so placing it twice is a no-op. */
export const queueJobIdOf = (jobId: string, placement: number) => `${jobId}-p${placement}`;

export const CANCELLED_ERROR: JobError = { code: 'cancelled', message: 'cancelled by the client' };
