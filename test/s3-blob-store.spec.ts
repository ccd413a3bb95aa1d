import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobNotFoundError, createBlobStore, S3BlobStore } from '#blobs';
import { loadConfig } from '#config';
import { TestS3 } from './support/s3-server.js';

describe('S3BlobStore against a real S3-protocol server (s3rver)', () => {
  let s3: TestS3;
  let store: S3BlobStore;

  beforeAll(async () => {
    s3 = await TestS3.start();
    store = createBlobStore(loadConfig({ ...s3.env(), S3_KEY_PREFIX: 'deploy-a/' })) as S3BlobStore;
  });
  afterAll(async () => {
    store?.close();
    await s3?.stop();
  });

  it('is the store BLOB_STORE=s3 names, and finds its bucket', async () => {
    expect(store).toBeInstanceOf(S3BlobStore);
    await expect(store.ready()).resolves.toBeUndefined();
  });

  it('round-trips bytes and files, and deletes a prefix with everything under it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gpuq-s3-file-')), 'page.png');
    writeFileSync(file, Buffer.alloc(300_000, 7));
    await store.put('jobs/a/in/0', Buffer.from('hello'));
    await store.putFile('jobs/a/in/1', file);
    await store.put('jobs/ab/in/0', Buffer.from('a neighbour with a longer name'));
    expect((await store.get('jobs/a/in/0')).toString()).toBe('hello');
    expect((await store.get('jobs/a/in/1')).equals(Buffer.alloc(300_000, 7))).toBe(true);
    await store.delete('jobs/a');
    await expect(store.get('jobs/a/in/0')).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.get('jobs/a/in/1')).rejects.toBeInstanceOf(BlobNotFoundError);
    // `jobs/a` is a folder, not a string prefix: jobs/ab survives.
    expect((await store.get('jobs/ab/in/0')).toString()).toMatch(/neighbour/);
  });

  it('refuses unsafe keys, and says what is wrong with a missing bucket', async () => {
    await expect(store.put('../x', Buffer.from('x'))).rejects.toThrow(/unsafe blob key/);
    const missing = createBlobStore(loadConfig({ ...s3.env(), S3_BUCKET: 'no-such-bucket' })) as S3BlobStore;
    await expect(missing.ready()).rejects.toThrow(/S3 bucket "no-such-bucket" at http:\/\/127\.0\.0\.1:\d+ does not exist/);
    missing.close();
  });
});
