/** Tags whose values locate the image data: strips or tiles, with their byte counts. */
const TAG = { width: 256, height: 257, stripOffsets: 273, stripByteCounts: 279, tileOffsets: 324, tileByteCounts: 325 } as const;
/** Bytes per value of each TIFF field type (1 BYTE … 18 IFD8). */
const TYPE_BYTES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };
const MAX_IFDS = 256;

interface Layout {
  little: boolean;
  big: boolean;
}

/**
 * Walks a TIFF's chain of image file directories (classic and BigTIFF): every directory, every out-of-line
 * value and every strip or tile the first image names must lie inside the file; directories may not loop.
 *
 * @returns why the file is broken, or undefined when its structure is whole.
 */
export function checkTiff(bytes: Buffer): string | undefined {
  if (bytes.length < 8) return 'truncated: no TIFF header';
  const layout: Layout = { little: bytes[0] === 0x49, big: (bytes[0] === 0x49 ? bytes.readUInt16LE(2) : bytes.readUInt16BE(2)) === 43 };
  if (layout.big && (bytes.length < 16 || u16(bytes, 4, layout) !== 8)) return 'truncated or invalid BigTIFF header';
  let offset = layout.big ? u64(bytes, 8, layout) : u32(bytes, 4, layout);
  const seen = new Set<number>();
  for (let ifd = 0; offset !== 0; ifd++) {
    if (ifd >= MAX_IFDS) return `more than ${MAX_IFDS} image directories`;
    if (seen.has(offset)) return `image directory ${ifd} loops back to byte ${offset}`;
    seen.add(offset);
    const read = readDirectory(bytes, offset, layout, ifd === 0);
    if (typeof read === 'string') return read;
    offset = read.next;
  }
  return seen.size === 0 ? 'no image directory' : undefined;
}

function readDirectory(bytes: Buffer, offset: number, layout: Layout, first: boolean): { next: number } | string {
  const [countBytes, entryBytes, inlineBytes] = layout.big ? [8, 20, 8] : [2, 12, 4];
  if (offset + countBytes > bytes.length) return `truncated: image directory at byte ${offset} lies past the end (${bytes.length} bytes)`;
  const count = layout.big ? u64(bytes, offset, layout) : u16(bytes, offset, layout);
  const entries = offset + countBytes;
  const end = entries + count * entryBytes;
  if (end + inlineBytes > bytes.length) return `truncated: image directory at byte ${offset} has ${count} entries past the end of the file`;
  const values = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const at = entries + i * entryBytes;
    const tag = u16(bytes, at, layout);
    const type = u16(bytes, at + 2, layout);
    const n = layout.big ? u64(bytes, at + 4, layout) : u32(bytes, at + 4, layout);
    const size = (TYPE_BYTES[type] ?? 1) * n;
    const valueAt = size <= inlineBytes ? at + (layout.big ? 12 : 8) : layout.big ? u64(bytes, at + 12, layout) : u32(bytes, at + 8, layout);
    if (valueAt + size > bytes.length) return `truncated: tag ${tag} names ${size} bytes at byte ${valueAt}, past the end (${bytes.length} bytes)`;
    if (Object.values(TAG).includes(tag as never) && (type === 3 || type === 4 || type === 16)) {
      const width = TYPE_BYTES[type]!;
      values.set(tag, Array.from({ length: Math.min(n, 1_000_000) }, (_, k) => readUnsigned(bytes, valueAt + k * width, width, layout)));
    }
  }
  if (first) {
    if (!values.get(TAG.width)?.[0] || !values.get(TAG.height)?.[0]) return 'the first image has no width or height';
    const strips = values.get(TAG.stripOffsets) ? [TAG.stripOffsets, TAG.stripByteCounts] : [TAG.tileOffsets, TAG.tileByteCounts];
    const offsets = values.get(strips[0]!);
    const counts = values.get(strips[1]!);
    if (!offsets || !counts) return 'the first image names no strips or tiles';
    for (const [k, start] of offsets.entries()) {
      const length = counts[k] ?? 0;
      if (start + length > bytes.length) return `truncated: strip or tile ${k} spans bytes ${start}-${start + length}, the file has ${bytes.length}`;
    }
  }
  return { next: layout.big ? u64(bytes, end, layout) : u32(bytes, end, layout) };
}

const u16 = (b: Buffer, at: number, l: Layout) => (l.little ? b.readUInt16LE(at) : b.readUInt16BE(at));
const u32 = (b: Buffer, at: number, l: Layout) => (l.little ? b.readUInt32LE(at) : b.readUInt32BE(at));
/** 64-bit offsets as numbers: anything past 2^53 lies past any file we accept anyway. */
const u64 = (b: Buffer, at: number, l: Layout) => Number(l.little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at));

function readUnsigned(b: Buffer, at: number, width: number, l: Layout): number {
  if (width === 2) return u16(b, at, l);
  if (width === 4) return u32(b, at, l);
  return u64(b, at, l);
}
