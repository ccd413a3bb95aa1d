import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlobNotFoundError } from './blob-store.js';
import { FsBlobStore } from './fs-blob-store.js';

describe('FsBlobStore', () => {
  const store = new FsBlobStore(mkdtempSync(join(tmpdir(), 'gpuq-blobs-')));

  it('round-trips and deletes by prefix', async () => {
    await store.put('jobs/a/0.png', Buffer.from('hello'));
    expect((await store.get('jobs/a/0.png')).toString()).toBe('hello');
    await store.delete('jobs/a');
    await expect(store.get('jobs/a/0.png')).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it.each(['../etc/passwd', '/abs', 'a/../../b', 'a//b', 'a/./b'])('refuses unsafe key %s', async (key) => {
    await expect(store.put(key, Buffer.from('x'))).rejects.toThrow(/unsafe blob key/);
  });
});
