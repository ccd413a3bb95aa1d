import type { Config } from '#config';
import type { BlobStore } from './blob-store.js';
import { FsBlobStore } from './fs-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

/** The blob store the configuration names (`BLOB_STORE`): API and workers must name the same one. */
export function createBlobStore(config: Config): BlobStore {
  if (config.BLOB_STORE === 'fs') return new FsBlobStore(config.BLOB_DIR);
  return new S3BlobStore({
    bucket: config.S3_BUCKET!,
    keyPrefix: config.S3_KEY_PREFIX,
    client: {
      region: config.S3_REGION,
      endpoint: config.S3_ENDPOINT,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      // Checksums only where S3 requires them: the SDK's default streams uploads as aws-chunked with trailing
      // checksums, which many S3-compatible servers store verbatim instead of decoding.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(config.S3_ACCESS_KEY_ID ? { credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY! } } : {}),
    },
  });
}
