/**
 * Checks a WebP's RIFF container: the RIFF size must match the file, every chunk must fit inside it, and the
 * image must hold a VP8 (lossy) or VP8L (lossless) bitstream whose signature is intact.
 *
 * @returns why the file is broken, or undefined when its structure is whole.
 */
export function checkWebp(bytes: Buffer): string | undefined {
  if (bytes.length < 12) return 'truncated: no RIFF header';
  const riffEnd = 8 + bytes.readUInt32LE(4);
  if (riffEnd > bytes.length) return `truncated: the RIFF container declares ${riffEnd} bytes, the file has ${bytes.length}`;
  let at = 12;
  let bitstream = false;
  while (at + 8 <= riffEnd) {
    const fourcc = bytes.toString('latin1', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const data = at + 8;
    if (data + size > riffEnd) return `truncated: chunk ${JSON.stringify(fourcc)} at byte ${at} declares ${size} bytes, ${riffEnd - data} remain`;
    if (fourcc === 'VP8 ') {
      // Frame tag (3 bytes), then the start code 9d 01 2a of a key frame.
      if (size < 10 || bytes[data + 3] !== 0x9d || bytes[data + 4] !== 0x01 || bytes[data + 5] !== 0x2a) return 'the VP8 bitstream has no key-frame start code';
      bitstream = true;
    } else if (fourcc === 'VP8L') {
      if (size < 5 || bytes[data] !== 0x2f) return 'the VP8L bitstream has no signature';
      bitstream = true;
    } else if (fourcc === 'ANMF') {
      bitstream = true;
    }
    at = data + size + (size % 2); // chunks are padded to even sizes
  }
  if (at !== riffEnd && at !== riffEnd + 1) return `the RIFF container ends inside a chunk header at byte ${at}`;
  return bitstream ? undefined : 'no VP8 or VP8L image data';
}
