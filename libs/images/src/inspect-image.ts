import type { ImageFormat } from '#contracts';
import { checkAvif } from './check-avif.js';
import { checkGif } from './check-gif.js';
import { checkJpeg } from './check-jpeg.js';
import { checkPng } from './check-png.js';
import { checkSvg } from './check-svg.js';
import { checkTiff } from './check-tiff.js';
import { checkWebp } from './check-webp.js';
import { sniffFormat } from './sniff-format.js';

const CHECKS: Record<ImageFormat, (bytes: Buffer) => string | undefined> = {
  png: checkPng, jpeg: checkJpeg, webp: checkWebp, gif: checkGif, tiff: checkTiff, avif: checkAvif, svg: checkSvg,
};

/** What the bytes of one upload are: a whole image of an accepted format, or why not. */
export type ImageInspection =
  | { ok: true; format: ImageFormat }
  | { ok: false; problem: 'unsupported-format'; format?: ImageFormat; reason: string }
  | { ok: false; problem: 'corrupt-image'; format: ImageFormat; reason: string };

/**
 * Recognises the format from the bytes, refuses formats not in `accepted`, and checks the file's structure
 * (chunks, markers, boxes, directories) so that truncated or damaged files are caught before anything is
 * stored. Pure and cheap: nothing is decompressed.
 */
export function inspectImage(bytes: Buffer, accepted: readonly ImageFormat[]): ImageInspection {
  const format = sniffFormat(bytes);
  if (!format) return { ok: false, problem: 'unsupported-format', reason: `not a recognised image format (accepted: ${accepted.join(', ')})` };
  if (!accepted.includes(format)) {
    return { ok: false, problem: 'unsupported-format', format, reason: `${format} is not accepted here (accepted: ${accepted.join(', ')}; see ACCEPTED_FORMATS)` };
  }
  const broken = CHECKS[format](bytes);
  return broken ? { ok: false, problem: 'corrupt-image', format, reason: `${format}: ${broken}` } : { ok: true, format };
}
