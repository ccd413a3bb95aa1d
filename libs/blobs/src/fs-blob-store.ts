import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { assertSafeKey, BlobNotFoundError, type BlobStore } from './blob-store.js';

/** Blobs as files under one folder shared by the API and the workers (a volume in docker-compose). */
export class FsBlobStore implements BlobStore {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(key: string, data: Buffer): Promise<void> {
    await this.writeAtomically(key, (tmp) => writeFile(tmp, data));
  }

  async putFile(key: string, source: string): Promise<void> {
    // Copied, not moved: the upload folder may be on another file system.
    await this.writeAtomically(key, (tmp) => copyFile(source, tmp));
  }

  async ready(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  /** Write then rename: a reader never sees half a file, even if the writer dies. */
  private async writeAtomically(key: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await write(tmp);
    await rename(tmp, path);
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(key);
      throw err;
    }
  }

  async delete(prefix: string): Promise<void> {
    await rm(this.pathOf(prefix), { recursive: true, force: true });
  }

  private pathOf(key: string): string {
    assertSafeKey(key);
    return join(this.root, key);
  }
}
