import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { renderTextImage } from './fixtures/text-images.js';
import { TestS3 } from './support/s3-server.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, startApi, testEnv, WorkerProcess } from './support/stack.js';

describe('the API and a worker with BLOB_STORE=s3 (a real s3rver)', () => {
  let s3: TestS3;
  let api: Awaited<ReturnType<typeof startApi>>;
  let env: Record<string, string>;
  let objects: () => Promise<string[]>;

  beforeAll(async () => {
    s3 = await TestS3.start();
    env = testEnv(inject('redisUrl'), { ...s3.env(), S3_KEY_PREFIX: 'gpuq/' });
    api = await startApi(env);
    const raw = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    objects = async () => ((await raw.send(new ListObjectsV2Command({ Bucket: s3.bucket }))).Contents ?? []).map((o) => o.Key!).sort();
  });
  afterAll(async () => {
    await api?.app.close();
    await s3?.stop();
  });

  it('stores an accepted job in the bucket, and a refused one nowhere', async () => {
    const page = (await renderTextImage({ width: 300, height: 100, lines: [{ text: 's3', x: 10, y: 60, fontSize: 30 }] })).png;
    const as = client(api.url);
    const refused = await as.submit([{ name: 'a.png', data: page }, { name: 'b.png', data: page.subarray(0, 100) }], { waitForCapacity: 'true' });
    expect(refused.body.code).toBe('corrupt-image');
    expect(await objects()).toEqual([]);

    const accepted = await as.submit([{ name: 'a.png', data: page }, { name: 'b.png', data: page }], { waitForCapacity: 'true' });
    expect(accepted.status).toBe(202);
    const id = accepted.body.id as string;
    expect(await objects()).toEqual([`gpuq/jobs/${id}/in/0`, `gpuq/jobs/${id}/in/1`]);
    const job = await as.job(id);
    expect(job.images.map((i) => ({ key: i.blobKey, format: i.format, bytes: i.bytes }))).toEqual([
      { key: `jobs/${id}/in/0`, format: 'png', bytes: page.length }, { key: `jobs/${id}/in/1`, format: 'png', bytes: page.length },
    ]);
  });

  it('a worker that shares only Redis and the bucket with the API reads the images from it and completes the job', async () => {
    // Its own empty folder: were it reading the filesystem store, it would find nothing.
    const worker = await WorkerProcess.start({ ...env, WORKER_DEVICE: 'cpu', BLOB_DIR: mkdtempSync(join(tmpdir(), 'gpuq-not-shared-')) });
    try {
      const page = (await renderTextImage({ width: 400, height: 120, lines: [{ text: 'from the bucket', x: 20, y: 70, fontSize: 34 }] })).png;
      const as = client(api.url);
      const accepted = await as.submit([{ name: 'page.png', data: page }], { allowCpu: 'true', model: 'ppocr-v4-det-640' });
      expect(accepted.status).toBe(202);
      const job = await as.waitForJob(accepted.body.id as string, 60_000);
      expect(job.state).toBe('completed');
      const { results } = await as.results(job.id);
      expect(results[0]).toMatchObject({ boxes: [expect.anything()] });
    } finally {
      await worker.stop();
    }
  });
});
