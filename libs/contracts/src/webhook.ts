import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ImageOutcome, JobRecord } from './job.js';

/** What a webhook POSTs when a job finishes. */
export interface WebhookPayload {
  type: 'job.completed' | 'job.failed' | 'job.cancelled';
  jobId: string;
  state: JobRecord['state'];
  progress: JobRecord['progress'];
  precision: JobRecord['precision'];
  error?: JobRecord['error'];
  finishedAt?: string;
  results: ImageOutcome[];
}

export const WEBHOOK_SIGNATURE_HEADER = 'gpuq-signature';

/**
 * The `Gpuq-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with the API key's
 * webhook secret. The timestamp is signed too, so a captured delivery cannot be replayed later.
 */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

/** Verifies a delivery (for receivers): the signature matches and is at most `toleranceS` old. */
export function verifyWebhook(secret: string, body: string, header: string, nowUnixSeconds: number, toleranceS = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=') as [string, string]));
  const t = Number(parts.t);
  if (!Number.isFinite(t) || !parts.v1 || Math.abs(nowUnixSeconds - t) > toleranceS) return false;
  const expected = Buffer.from(signWebhook(secret, body, t).split('v1=')[1]!, 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
