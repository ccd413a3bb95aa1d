import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { submitJobFieldsSchema, type ImageRef, type JobRecord, type SubmitJobFields } from '#contracts';
import type { BlobStore } from '#blobs';
import type { Config, Logger } from '#config';
import { getManifest, listManifests } from '#models';
import { JobRecordRepository, PlacementOutbox, ProfileRepository, UsageLimits, WorkerRegistry, type ReserveDecision } from '#queue';
import { route } from '#scheduling';
import type { Caller } from '../auth/caller.js';
import { ApiError } from '../problems/api-error.js';
import { BLOB_STORE, CONFIG, LOGGER } from '../tokens.js';
import { checkWebhookTarget, WebhookTargetError } from '../webhooks/webhook-target.js';
import { checkImages, type CheckedImage, type UploadedFile } from './image-intake.js';
import { jobRequirement } from './job-requirement.js';
import { requestFingerprint } from './request-fingerprint.js';

export interface SubmitResult {
  id: string;
  created: boolean;
  state: JobRecord['state'];
  className: string;
  precision: JobRecord['precision'];
}

/** How soon a client refused for too many unfinished jobs may try again: jobs take seconds, not minutes. */
const CONCURRENT_RETRY_S = 5;

/**
 * Accepting a job: validate everything that can be validated before anything is stored, route it to a
 * capability class (or refuse it with the reasons), count it against the key's quotas, store the images, then
 * record the job in one step (record, first placement, idempotency key) and put the placement in its queue. A
 * refusal at any step leaves nothing behind; a process that dies after the record leaves a placement in the
 * outbox, which the lifecycle sweep places.
 */
@Injectable()
export class SubmitJobService {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    private readonly jobs: JobRecordRepository,
    private readonly outbox: PlacementOutbox,
    private readonly registry: WorkerRegistry,
    private readonly profiles: ProfileRepository,
    private readonly usage: UsageLimits,
  ) {}

  async execute(caller: Caller, rawFields: Record<string, unknown>, files: UploadedFile[], idempotencyKey?: string): Promise<SubmitResult> {
    const fields = this.parseFields(rawFields);
    const manifest = getManifest(fields.model);
    if (!manifest) {
      throw new ApiError('unknown-model', `unknown model ${JSON.stringify(fields.model)}`, { models: listManifests().map((m) => m.id) });
    }
    if (idempotencyKey !== undefined && !/^[\w.:-]{1,200}$/.test(idempotencyKey)) {
      throw new ApiError('invalid-idempotency-key', 'Idempotency-Key must be 1-200 characters of letters, digits, "_", "-", ".", ":"');
    }
    const webhookUrl = fields.webhookUrl ? await this.checkWebhook(fields.webhookUrl) : undefined;
    const images = await checkImages(files, this.config);
    const allowCpu = fields.allowCpu ?? this.config.CPU_FALLBACK;
    // What the request asks for, images by content: a key reused for another request is a 409, not the first job.
    const fingerprint = await requestFingerprint({ ...fields, allowCpu, webhookUrl }, images);
    if (idempotencyKey !== undefined) {
      const earlier = await this.jobs.findByIdempotencyKey(caller.tenant, idempotencyKey);
      if (earlier) return this.existing(earlier.id, earlier.fingerprint === fingerprint, idempotencyKey);
    }

    const [fleet, profiles] = await Promise.all([this.registry.list(), this.profiles.list()]);
    const requirement = jobRequirement({
      model: manifest, imageCount: images.length, policy: fields.precision, allowCpu, profiles, marginFraction: this.config.MEMORY_MARGIN,
    });
    const live = fleet.filter((w) => w.status === 'ready').map((w) => w.device);
    const decision = route(requirement, live, { waitForCapacity: fields.waitForCapacity });
    if (!decision.ok) {
      throw new ApiError('no-capacity', decision.message, {
        reasons: decision.reasons, hint: 'resubmit with waitForCapacity=true to queue it until such a worker joins',
      });
    }

    const id = randomUUID();
    const now = new Date();
    const reserved = await this.usage.reserveJob(caller.keyId, id, images.length, caller.limits, now);
    if (!reserved.ok) throw quotaRefusal(reserved, caller.keyId);
    let stored;
    let record: JobRecord;
    try {
      const refs = await this.storeImages(id, images);
      const at = now.toISOString();
      record = {
        id, model: manifest.id, state: decision.waiting ? 'waiting-for-capacity' : 'queued', priority: fields.priority,
        allowCpu, waitForCapacity: fields.waitForCapacity, idempotencyKey, tenant: caller.tenant, keyId: caller.keyId, webhookUrl,
        images: refs, requirement, precision: { policy: fields.precision, promised: decision.precision, reason: decision.reason },
        className: decision.className, placement: 0, placements: [{ className: decision.className, queueJobId: '', at, reason: decision.reason }],
        progress: { done: 0, total: refs.length }, events: [{ at, kind: 'info', message: `routed to ${decision.className}: ${decision.reason}` }],
        deliveries: 0, crashes: 0, createdAt: at,
      };
      stored = await this.jobs.create(record, fingerprint);
    } catch (err) {
      await this.undo(caller, id, images.length, now).catch((cleanup) => this.log.error({ jobId: id, err: String(cleanup) }, 'could not undo a failed submit'));
      throw err;
    }
    if (!stored.created) {
      // Another request with the same idempotency key won the race: its job stands, ours leaves nothing behind.
      await this.undo(caller, id, images.length, now);
      return this.existing(stored.id, stored.sameRequest, idempotencyKey!);
    }
    // Recorded: the job is accepted. Should placing it fail (or this process die), the outbox sweep places it.
    await this.outbox.place(id, decision.className, 0, fields.priority)
      .catch((err) => this.log.warn({ jobId: id, err: String(err) }, 'placement left to the outbox sweep'));
    this.log.info({ jobId: id, tenant: caller.tenant, className: decision.className, images: images.length, precision: decision.precision }, 'job accepted');
    return { id, created: true, state: record.state, className: decision.className, precision: record.precision };
  }

  private async storeImages(id: string, images: CheckedImage[]): Promise<ImageRef[]> {
    const refs: ImageRef[] = [];
    for (const [index, image] of images.entries()) {
      const blobKey = `jobs/${id}/in/${index}`;
      await this.blobs.putFile(blobKey, image.file.path);
      refs.push({ index, blobKey, filename: image.file.originalname, width: image.width, height: image.height, bytes: image.file.size, format: image.format });
    }
    return refs;
  }

  private async undo(caller: Caller, id: string, images: number, reservedAt: Date): Promise<void> {
    await this.blobs.delete(`jobs/${id}`);
    await this.usage.release(caller.keyId, id, images, reservedAt);
  }

  /** The job an idempotency key created, when this request is the one that created it; a 409 when it is another. */
  private async existing(id: string, sameRequest: boolean, idempotencyKey: string): Promise<SubmitResult> {
    if (!sameRequest) {
      throw new ApiError('idempotency-key-reused', `Idempotency-Key ${JSON.stringify(idempotencyKey)} was used for job ${id}, submitted with other fields or images; `
        + 'use a new key for a new request', { jobId: id });
    }
    const job = (await this.jobs.get(id))!;
    return { id: job.id, created: false, state: job.state, className: job.className, precision: job.precision };
  }

  private async checkWebhook(url: string): Promise<string> {
    try {
      return (await checkWebhookTarget(url, this.config.WEBHOOK_ALLOW_PRIVATE)).href;
    } catch (err) {
      if (err instanceof WebhookTargetError) throw new ApiError('invalid-webhook-url', err.message);
      throw err;
    }
  }

  private parseFields(raw: Record<string, unknown>): SubmitJobFields {
    const parsed = submitJobFieldsSchema.safeParse(raw);
    if (parsed.success) return parsed.data;
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
    throw new ApiError('invalid-field', `invalid fields: ${problems.join('; ')}`, { problems });
  }
}

function quotaRefusal(refused: Exclude<ReserveDecision, { ok: true }>, keyId: string): ApiError {
  if (refused.quota === 'concurrent-jobs') {
    return new ApiError('too-many-concurrent-jobs',
      `key ${keyId} has ${refused.active} unfinished jobs, its limit is ${refused.limit}; retry when one finishes`,
      { active: refused.active, limit: refused.limit, retryAfterS: CONCURRENT_RETRY_S }, { 'Retry-After': String(CONCURRENT_RETRY_S) });
  }
  if (refused.requested > refused.limit) {
    return new ApiError('daily-image-quota', `a job of ${refused.requested} images is more than key ${keyId}'s ${refused.limit} images a day; split it`,
      { used: refused.used, requested: refused.requested, limit: refused.limit });
  }
  return new ApiError('daily-image-quota',
    `key ${keyId} submitted ${refused.used} of its ${refused.limit} images today (UTC); ${refused.requested} more would pass it; retry in ${refused.retryAfterS} s`,
    { used: refused.used, requested: refused.requested, limit: refused.limit, retryAfterS: refused.retryAfterS }, { 'Retry-After': String(refused.retryAfterS) });
}
