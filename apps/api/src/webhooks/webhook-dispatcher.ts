import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { signWebhook, TERMINAL_STATES, WEBHOOK_SIGNATURE_HEADER, type JobEvent, type WebhookPayload } from '#contracts';
import type { Config, Logger } from '#config';
import { ApiKeyRepository, JobRecordRepository, WebhookQueue, type WebhookDelivery } from '#queue';
import { Periodic } from '../periodic.js';
import { CONFIG, LOGGER } from '../tokens.js';
import { postWebhook } from './post-webhook.js';

/** How often finished jobs with a webhook are looked for. */
const SWEEP_MS = 500;

/**
 * Delivers webhooks. Workers know nothing of them: every API replica looks for finished jobs among those with a
 * pending webhook and queues one delivery each (deduplicated by job id), then any replica delivers it, signed,
 * retrying with backoff. The outcome lands in the job's events.
 */
@Injectable()
export class WebhookDispatcher implements OnModuleInit, OnApplicationShutdown {
  private readonly periodic = new Periodic(SWEEP_MS, () => this.sweep(), (err) => this.log.warn({ err: String(err) }, 'webhook sweep failed'));

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly jobs: JobRecordRepository,
    private readonly keys: ApiKeyRepository,
    private readonly queue: WebhookQueue,
  ) {}

  onModuleInit(): void {
    this.queue.start((delivery, attempt) => this.deliver(delivery, attempt), (delivery, error, attempts) => this.giveUp(delivery, error, attempts));
    this.periodic.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.periodic.stop();
    await this.queue.close();
  }

  /** Queues a delivery for each finished job; a job leaves the pending set only once its delivery is queued. */
  async sweep(): Promise<void> {
    const ids = await this.jobs.webhooksPending();
    const states = await this.jobs.states(ids);
    for (const [i, id] of ids.entries()) {
      const state = states[i];
      if (state && !TERMINAL_STATES.has(state)) continue;
      if (state) await this.queue.enqueue(id);
      await this.jobs.clearWebhookPending(id);
    }
  }

  private async deliver({ jobId }: WebhookDelivery, attempt: number): Promise<void> {
    const record = await this.jobs.get(jobId);
    if (!record?.webhookUrl) return;
    const key = record.keyId ? await this.keys.get(record.keyId) : undefined;
    if (!key) throw new Error(`the key ${record.keyId} that submitted the job is gone; cannot sign`);
    const payload: WebhookPayload = {
      type: `job.${record.state as 'completed' | 'failed' | 'cancelled'}`, jobId, state: record.state, progress: record.progress,
      precision: record.precision, error: record.error, finishedAt: record.finishedAt, results: await this.jobs.getResults(jobId),
    };
    const body = JSON.stringify(payload);
    const { status, answer } = await postWebhook(new URL(record.webhookUrl), body, {
      [WEBHOOK_SIGNATURE_HEADER]: signWebhook(key.webhookSecret, body, Math.floor(Date.now() / 1000)),
      'gpuq-event': payload.type, 'gpuq-delivery': `webhook-${jobId}`, 'gpuq-attempt': String(attempt),
    }, { timeoutMs: this.config.WEBHOOK_TIMEOUT_MS, allowPrivate: this.config.WEBHOOK_ALLOW_PRIVATE });
    if (status < 200 || status >= 300) throw new Error(`answered ${status}${answer ? `: ${answer}` : ''}`);
    await this.jobs.addEvent(jobId, event(`webhook delivered to ${record.webhookUrl} (${status}) on attempt ${attempt}`, { status, attempt }));
  }

  private async giveUp({ jobId }: WebhookDelivery, error: Error, attempts: number): Promise<void> {
    this.log.warn({ jobId, attempts, err: error.message }, 'webhook given up');
    await this.jobs.addEvent(jobId, event(`webhook given up after ${attempts} attempts: ${error.message}`, { attempts, error: error.message }));
  }
}

const event = (message: string, data: Record<string, unknown>): JobEvent => ({ at: new Date().toISOString(), kind: 'webhook', message, data });
