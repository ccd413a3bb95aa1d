import type { ImageFormat } from '#contracts';

const ascii = (bytes: Uint8Array, at: number, text: string) =>
  bytes.length >= at + text.length && [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));

/**
 * The format the bytes say they are, from their signature (never from the file name or the declared
 * content type, which the client controls). `undefined` when no known signature matches.
 */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && ascii(bytes, 1, 'PNG\r\n\x1a\n')) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'WEBP')) return 'webp';
  if (ascii(bytes, 0, 'GIF87a') || ascii(bytes, 0, 'GIF89a')) return 'gif';
  if (ascii(bytes, 0, 'II*\0') || ascii(bytes, 0, 'MM\0*') || ascii(bytes, 0, 'II+\0') || ascii(bytes, 0, 'MM\0+')) return 'tiff';
  if (ascii(bytes, 4, 'ftyp') && isAvifBrand(bytes)) return 'avif';
  if (looksLikeSvg(bytes)) return 'svg';
  return undefined;
}

/** AVIF: an ISO-BMFF `ftyp` box whose major or a compatible brand is `avif`/`avis`. */
function isAvifBrand(bytes: Uint8Array): boolean {
  const size = ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!;
  const end = Math.min(size, bytes.length, 256);
  for (let at = 8; at + 4 <= end; at += 4) {
    if (at === 12) continue; // minor version, not a brand
    if (ascii(bytes, at, 'avif') || ascii(bytes, at, 'avis')) return true;
  }
  return false;
}

/** SVG is text: an `<svg` element near the start, after an optional BOM, XML declaration, comments or doctype. */
function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 4096)).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (!head.startsWith('<')) return false;
  return /<svg[\s>]/i.test(head);
}
