import { crc32 } from 'node:zlib';

const SIGNATURE_BYTES = 8;
/** Bit depths allowed for each PNG colour type (PNG spec, table 11.1). */
const BIT_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/**
 * Walks every chunk of a PNG: each must fit in the file and match its CRC, IHDR must come first and be
 * valid, at least one IDAT must exist, and IEND must close the image. Catches truncation (no IEND, a chunk
 * running past the end) and byte corruption (a CRC mismatch) without decompressing anything.
 *
 * @returns why the file is broken, or undefined when its structure is whole.
 */
export function checkPng(bytes: Buffer): string | undefined {
  let at = SIGNATURE_BYTES;
  let index = 0;
  let sawIdat = false;
  while (at + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (!/^[A-Za-z]{4}$/.test(type)) return `chunk ${index} at byte ${at} has an invalid type`;
    if (length > 0x7fffffff || at + 12 + length > bytes.length) {
      return `truncated: chunk ${type} at byte ${at} declares ${length} bytes, ${Math.max(0, bytes.length - at - 12)} remain`;
    }
    const stored = bytes.readUInt32BE(at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== stored) return `chunk ${type} at byte ${at} fails its CRC`;
    if (index === 0) {
      if (type !== 'IHDR' || length !== 13) return 'the first chunk is not a 13-byte IHDR';
      const problem = checkHeader(bytes.subarray(at + 8, at + 8 + 13));
      if (problem) return problem;
    } else if (type === 'IHDR') {
      return 'a second IHDR chunk';
    }
    if (type === 'IDAT') sawIdat = true;
    if (type === 'IEND') return sawIdat ? undefined : 'IEND before any IDAT (no image data)';
    at += 12 + length;
    index++;
  }
  return `truncated: no IEND chunk (file ends at byte ${bytes.length})`;
}

function checkHeader(ihdr: Buffer): string | undefined {
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const [depth, colourType, compression, filter, interlace] = [ihdr[8]!, ihdr[9]!, ihdr[10]!, ihdr[11]!, ihdr[12]!];
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) return `IHDR has an invalid size ${width}x${height}`;
  if (!BIT_DEPTHS[colourType]?.includes(depth)) return `IHDR has colour type ${colourType} with bit depth ${depth}, which PNG does not allow`;
  if (compression !== 0 || filter !== 0 || interlace > 1) return 'IHDR names an unknown compression, filter or interlace method';
  return undefined;
}
