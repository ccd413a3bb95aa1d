import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { SubmitJobFields } from '#contracts';
import type { CheckedImage } from './image-intake.js';

/**
 * What a submit asks for, as one SHA-256: its fields (as parsed, defaults filled in) and each image's name and
 * content, in order. Two requests under one Idempotency-Key are the same request only when this is equal.
 */
export async function requestFingerprint(fields: SubmitJobFields & { allowCpu: boolean; webhookUrl?: string }, images: readonly CheckedImage[]): Promise<string> {
  const contents = await Promise.all(images.map((i) => sha256Of(i.file.path)));
  const request = {
    model: fields.model, precision: fields.precision, priority: fields.priority, allowCpu: fields.allowCpu, waitForCapacity: fields.waitForCapacity,
    webhookUrl: fields.webhookUrl ?? null, images: images.map((image, n) => [image.file.originalname ?? null, contents[n]]),
  };
  return createHash('sha256').update(JSON.stringify(request)).digest('hex');
}

function sha256Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path).on('data', (chunk) => hash.update(chunk)).on('error', reject).on('end', () => resolve(hash.digest('hex')));
  });
}
