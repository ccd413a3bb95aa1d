import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { submitJobFieldsSchema, type ImageRef, type JobRecord, type SubmitJobFields } from '#contracts';
import type { BlobStore } from '#blobs';
import type { Config, Logger } from '#config';
import { getManifest, listManifests, probeImage } from '#models';
import { ClassQueues, JobRecordRepository, ProfileRepository, WorkerRegistry } from '#queue';
import { route } from '#scheduling';
import { BLOB_STORE, CONFIG, LOGGER } from '../tokens.js';
import { badInput, noCapacity } from './api-errors.js';
import { jobRequirement } from './job-requirement.js';

export interface UploadedImage {
  originalname?: string;
  buffer: Buffer;
  size: number;
}

export interface SubmitResult {
  id: string;
  created: boolean;
  state: JobRecord['state'];
  className: string;
  precision: JobRecord['precision'];
}

/**
 * Accepting a job: validate everything that can be validated before anything is stored, route it to a
 * capability class (or refuse it with the reasons), then store images, record and placement.
 */
@Injectable()
export class SubmitJobService {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    private readonly jobs: JobRecordRepository,
    private readonly queues: ClassQueues,
    private readonly registry: WorkerRegistry,
    private readonly profiles: ProfileRepository,
  ) {}

  async execute(rawFields: Record<string, unknown>, files: UploadedImage[], idempotencyKey?: string): Promise<SubmitResult> {
    const fields = this.parseFields(rawFields);
    const manifest = getManifest(fields.model);
    if (!manifest) {
      throw badInput(`unknown model ${JSON.stringify(fields.model)}`, { models: listManifests().map((m) => m.id) });
    }
    if (idempotencyKey !== undefined && !/^[\w.:-]{1,200}$/.test(idempotencyKey)) {
      throw badInput('Idempotency-Key must be 1-200 characters of letters, digits, "_", "-", ".", ":"');
    }
    const images = await this.validateImages(files);

    const [fleet, profiles] = await Promise.all([this.registry.list(), this.profiles.list()]);
    const requirement = jobRequirement({
      model: manifest, imageCount: images.length, policy: fields.precision, allowCpu: fields.allowCpu, profiles,
      marginFraction: this.config.MEMORY_MARGIN,
    });
    const live = fleet.filter((w) => w.status === 'ready').map((w) => w.device);
    const decision = route(requirement, live, { waitForCapacity: fields.waitForCapacity });
    if (!decision.ok) throw noCapacity(decision.message, decision.reasons);

    const id = randomUUID();
    const refs: ImageRef[] = [];
    for (const [index, image] of images.entries()) {
      const blobKey = `jobs/${id}/in/${index}`;
      await this.blobs.put(blobKey, image.file.buffer);
      refs.push({ index, blobKey, filename: image.file.originalname, width: image.width, height: image.height, bytes: image.file.size });
    }
    const now = new Date().toISOString();
    const record: JobRecord = {
      id, model: manifest.id, state: decision.waiting ? 'waiting-for-capacity' : 'queued', priority: fields.priority,
      allowCpu: fields.allowCpu, waitForCapacity: fields.waitForCapacity, idempotencyKey, images: refs, requirement,
      precision: { policy: fields.precision, promised: decision.precision, reason: decision.reason },
      className: decision.className, placements: [], progress: { done: 0, total: refs.length },
      events: [{ at: now, kind: 'info', message: `routed to ${decision.className}: ${decision.reason}` }],
      deliveries: 0, crashes: 0, createdAt: now,
    };
    const stored = await this.jobs.create(record);
    if (!stored.created) {
      // Same idempotency key: the earlier job stands; drop the images we just stored.
      await this.blobs.delete(`jobs/${id}`);
      const existing = (await this.jobs.get(stored.id))!;
      return { id: existing.id, created: false, state: existing.state, className: existing.className, precision: existing.precision };
    }
    const queueJobId = await this.queues.place(decision.className, { jobId: id, placement: 0 }, fields.priority);
    await this.jobs.addPlacement(id, { className: decision.className, queueJobId, at: now, reason: decision.reason });
    this.log.info({ jobId: id, className: decision.className, images: refs.length, precision: decision.precision }, 'job accepted');
    return { id, created: true, state: record.state, className: decision.className, precision: record.precision };
  }

  private parseFields(raw: Record<string, unknown>): SubmitJobFields {
    const parsed = submitJobFieldsSchema.safeParse(raw);
    if (parsed.success) return parsed.data;
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
    throw badInput(`invalid fields: ${problems.join('; ')}`, { problems });
  }

  /** Reads every image's header (no full decode) and checks the limits; any failure refuses the whole job. */
  private async validateImages(files: UploadedImage[]) {
    if (files.length === 0) throw badInput('no images: send one or more files in the multipart field "images"');
    if (files.length > this.config.MAX_IMAGES_PER_JOB) {
      throw badInput(`too many images: ${files.length} > MAX_IMAGES_PER_JOB=${this.config.MAX_IMAGES_PER_JOB}`);
    }
    const checked = [];
    for (const [index, file] of files.entries()) {
      const name = `image ${index}${file.originalname ? ` (${file.originalname})` : ''}`;
      if (file.size > this.config.MAX_IMAGE_BYTES) throw badInput(`${name} is ${file.size} bytes > MAX_IMAGE_BYTES=${this.config.MAX_IMAGE_BYTES}`);
      let info;
      try {
        info = await probeImage(file.buffer);
      } catch (err) {
        throw badInput(`${name} is not a decodable image: ${(err as Error).message}`);
      }
      if (info.width * info.height > this.config.MAX_IMAGE_PIXELS) {
        throw badInput(`${name} has ${info.width}x${info.height} pixels > MAX_IMAGE_PIXELS=${this.config.MAX_IMAGE_PIXELS}`);
      }
      checked.push({ file, width: info.width, height: info.height });
    }
    return checked;
  }
}
