import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { UsageError } from './api-client.js';

/** File name endings taken from a folder; files named one by one are sent whatever their name (the API reads the bytes). */
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif', '.svg']);

/**
 * The files to upload for `paths`: files as given, folders' images (not recursive, hidden files skipped) in
 * natural order, so page-2 comes before page-10.
 */
export async function collectImages(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new UsageError(`${path}: no such file or folder`);
    if (info.isFile()) {
      files.push(path);
      continue;
    }
    const names = (await readdir(path)).filter((n) => !n.startsWith('.') && IMAGE_EXTENSIONS.has(extname(n).toLowerCase()));
    names.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    if (names.length === 0) throw new UsageError(`${path}: no images in this folder (looked for ${[...IMAGE_EXTENSIONS].join(', ')})`);
    files.push(...names.map((n) => join(path, n)));
  }
  return files;
}

export const uploadName = (path: string) => basename(path);
