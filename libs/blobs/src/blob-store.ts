/** Where images and large results live: a folder (FsBlobStore) or any S3-compatible store (S3BlobStore). */
export interface BlobStore {
  put(key: string, data: Buffer): Promise<void>;
  /** Stores a local file without reading it into memory (uploads arrive on disk). */
  putFile(key: string, path: string): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** Removes `prefix` and every key under `prefix/`. */
  delete(prefix: string): Promise<void>;
  /** Resolves when the store can be written; rejects with what is wrong (missing bucket, bad credentials). */
  ready(): Promise<void>;
}

/** Thrown when a key does not exist, so callers can tell "missing" from "broken". */
export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`blob not found: ${key}`);
    this.name = this.constructor.name;
  }
}

const SAFE_KEY = /^[a-zA-Z0-9_-]+(\/[a-zA-Z0-9_.-]+)*$/;

/** Rejects keys that could escape the store's root ("..", absolute paths, odd characters). */
export function assertSafeKey(key: string): void {
  if (!SAFE_KEY.test(key) || key.split('/').some((part) => part === '..' || part === '.')) {
    throw new Error(`unsafe blob key: ${JSON.stringify(key)}`);
  }
}
