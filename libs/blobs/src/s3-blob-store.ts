import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { assertSafeKey, BlobNotFoundError, type BlobStore } from './blob-store.js';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Prefix of every object key (`""` or folder names ending in `/`), so deployments can share a bucket. */
  keyPrefix?: string;
  client: S3ClientConfig;
}

/** DeleteObjects takes at most this many keys a call. */
const DELETE_BATCH = 1000;

/**
 * Blobs as objects in an S3-compatible store (AWS S3, MinIO, Ceph, R2): API and workers on different hosts
 * share only Redis and the bucket. A PUT is atomic, so a reader never sees half an object.
 */
export class S3BlobStore implements BlobStore {
  private readonly s3: S3Client;
  private readonly prefix: string;

  constructor(private readonly options: S3BlobStoreOptions) {
    this.s3 = new S3Client(options.client);
    this.prefix = options.keyPrefix ?? '';
  }

  async put(key: string, data: Buffer): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key), Body: data, ContentLength: data.length }));
  }

  async putFile(key: string, path: string): Promise<void> {
    const { size } = await stat(path);
    await this.s3.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key), Body: createReadStream(path), ContentLength: size }));
  }

  async get(key: string): Promise<Buffer> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
      return Buffer.from(await object.Body!.transformToByteArray());
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') throw new BlobNotFoundError(key);
      throw err;
    }
  }

  async delete(prefix: string): Promise<void> {
    const exact = this.objectKey(prefix);
    const keys = [exact];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: `${exact}/`, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!).filter(Boolean));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH).map((Key) => ({ Key }));
      await this.s3.send(new DeleteObjectsCommand({ Bucket: this.options.bucket, Delete: { Objects: batch, Quiet: true } }));
    }
  }

  async ready(): Promise<void> {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const why = status === 404 ? 'does not exist' : status === 403 ? 'refuses these credentials' : `cannot be reached (${(err as Error).name}: ${(err as Error).message})`;
      throw new Error(`S3 bucket ${JSON.stringify(this.options.bucket)} at ${this.options.client.endpoint ?? 'AWS'} ${why}`);
    }
  }

  /** Closes the client's sockets. */
  close(): void {
    this.s3.destroy();
  }

  private objectKey(key: string): string {
    assertSafeKey(key);
    return `${this.prefix}${key}`;
  }
}
