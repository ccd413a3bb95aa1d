/**
 * Walks an AVIF's top-level ISO-BMFF boxes: each must fit in the file and together they must fill it, `ftyp`
 * must come first, and both the metadata (`meta`) and the coded image (`mdat`) must be there.
 *
 * @returns why the file is broken, or undefined when its structure is whole.
 */
export function checkAvif(bytes: Buffer): string | undefined {
  const boxes: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 8 > bytes.length) return `truncated: a box header at byte ${at} runs past the end`;
    let size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (size === 1) {
      if (at + 16 > bytes.length) return `truncated: box ${JSON.stringify(type)} at byte ${at} has no 64-bit size`;
      size = Number(bytes.readBigUInt64BE(at + 8));
    } else if (size === 0) {
      size = bytes.length - at; // to the end of the file
    }
    if (size < 8) return `box ${JSON.stringify(type)} at byte ${at} has size ${size}`;
    if (at + size > bytes.length) return `truncated: box ${JSON.stringify(type)} at byte ${at} declares ${size} bytes, ${bytes.length - at} remain`;
    boxes.push(type);
    at += size;
  }
  if (boxes[0] !== 'ftyp') return 'the first box is not ftyp';
  if (!boxes.includes('meta')) return 'no meta box';
  if (!boxes.includes('mdat')) return 'no mdat box (no image data)';
  return undefined;
}
