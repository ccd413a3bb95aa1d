const TRAILER = 0x3b;
const IMAGE = 0x2c;
const EXTENSION = 0x21;

/**
 * Walks a GIF's blocks: the screen descriptor and colour tables, then images and extensions, each made of
 * length-prefixed sub-blocks that must fit in the file, up to the trailer. At least one image must exist.
 *
 * @returns why the file is broken, or undefined when its structure is whole.
 */
export function checkGif(bytes: Buffer): string | undefined {
  if (bytes.length < 13) return 'truncated: no logical screen descriptor';
  if (bytes.readUInt16LE(6) === 0 || bytes.readUInt16LE(8) === 0) return 'the logical screen is 0 pixels wide or high';
  let at = 13 + colourTableBytes(bytes[10]!);
  let images = 0;
  while (at < bytes.length) {
    const block = bytes[at]!;
    if (block === TRAILER) return images > 0 ? undefined : 'the trailer comes before any image';
    if (block === IMAGE) {
      if (at + 10 > bytes.length) break;
      if (bytes.readUInt16LE(at + 5) === 0 || bytes.readUInt16LE(at + 7) === 0) return `image ${images} at byte ${at} is 0 pixels wide or high`;
      at += 10 + colourTableBytes(bytes[at + 9]!);
      if (at >= bytes.length) break;
      const codeSize = bytes[at]!;
      if (codeSize < 2 || codeSize > 11) return `image ${images} has LZW code size ${codeSize}`;
      const end = skipSubBlocks(bytes, at + 1);
      if (end === undefined) break;
      at = end;
      images++;
    } else if (block === EXTENSION) {
      const end = skipSubBlocks(bytes, at + 2);
      if (end === undefined) break;
      at = end;
    } else {
      return `unknown block 0x${block.toString(16)} at byte ${at}`;
    }
  }
  return `truncated: no trailer (file ends at byte ${bytes.length})`;
}

/** A colour table's size from a packed flags byte: present when bit 7 is set, 3 × 2^(n+1) bytes. */
function colourTableBytes(flags: number): number {
  return flags & 0x80 ? 3 * 2 ** ((flags & 0x07) + 1) : 0;
}

/** The offset after a chain of sub-blocks ending in a zero-length block, or undefined when it runs past the end. */
function skipSubBlocks(bytes: Buffer, from: number): number | undefined {
  let at = from;
  while (at < bytes.length) {
    const size = bytes[at]!;
    if (size === 0) return at + 1;
    at += 1 + size;
  }
  return undefined;
}
