import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PixelRect } from '../test/fixtures/text-images.js';
import { writeSampleImages } from '../test/fixtures/write-samples.js';

/** The sample documents as PNGs with the box of each drawn line, and `n` pages cycling through them for a job. */
export interface SamplePages {
  lines: Array<{ file: string; boxes: PixelRect[] }>;
  pages(n: number): Array<{ name: string; data: Buffer }>;
}

/**
 * Reads the samples from `dir` (as `node dist/scripts/write-samples.js` writes them, lines.json included), writing
 * them first when missing. A GPU machine may have no fonts to render text with: write them where you can and carry them.
 */
export async function samplePages(dir = 'samples'): Promise<SamplePages> {
  if (!existsSync(join(dir, 'lines.json'))) await writeSampleImages(dir);
  const lines = JSON.parse(await readFile(join(dir, 'lines.json'), 'utf8')) as SamplePages['lines'];
  const pngs = await Promise.all(lines.map((l) => readFile(join(dir, l.file))));
  return { lines, pages: (n) => Array.from({ length: n }, (_, i) => ({ name: `p${i}.png`, data: pngs[i % pngs.length]! })) };
}
