import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { renderTextImage } from './fixtures/text-images.js';
import { TestS3 } from './support/s3-server.js';
import { client, startApi, testEnv } from './support/stack.js';

describe('the API with BLOB_STORE=s3 (a real s3rver)', () => {
  let s3: TestS3;
  let api: Awaited<ReturnType<typeof startApi>>;
  let objects: () => Promise<string[]>;

  beforeAll(async () => {
    s3 = await TestS3.start();
    api = await startApi(testEnv(inject('redisUrl'), { ...s3.env(), S3_KEY_PREFIX: 'gpuq/' }));
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
});
