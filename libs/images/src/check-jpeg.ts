/** Markers that stand alone, without a length: TEM and RST0-7. */
const STANDALONE = new Set([0x01, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7]);
const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
/** Start-of-frame markers: C0-CF except DHT (C4), JPG (C8) and DAC (CC). */
const isFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/**
 * Walks a JPEG's marker segments: each must fit in the file, a frame header (SOF) with a sane size and
 * component count must come before the first scan, every scan's entropy-coded data must end at a marker,
 * and EOI must close the image. Catches truncation and broken segment structure cheaply; damage inside the
 * entropy-coded data is left to the decoder (the worker then fails the job as bad input).
 *
 * @returns why the file is broken, or undefined when its structure is whole.
 */
export function checkJpeg(bytes: Buffer): string | undefined {
  let at = 2;
  let frame = false;
  let scans = 0;
  while (at < bytes.length) {
    if (bytes[at] !== 0xff) return `expected a marker at byte ${at}, found 0x${bytes[at]!.toString(16)}`;
    while (at < bytes.length && bytes[at] === 0xff) at++; // fill bytes
    if (at >= bytes.length) break;
    const marker = bytes[at]!;
    const markerAt = at - 1;
    at++;
    if (marker === EOI) return scans > 0 ? undefined : 'EOI before any scan (no image data)';
    if (marker === SOI) return `a second SOI at byte ${markerAt}`;
    if (STANDALONE.has(marker)) continue;
    if (marker === 0x00) return `a stuffed zero outside entropy-coded data at byte ${markerAt}`;
    if (at + 2 > bytes.length) break;
    const length = bytes.readUInt16BE(at);
    if (length < 2) return `segment 0xff${marker.toString(16)} at byte ${markerAt} has length ${length}`;
    if (at + length > bytes.length) {
      return `truncated: segment 0xff${marker.toString(16)} at byte ${markerAt} declares ${length} bytes, ${bytes.length - at} remain`;
    }
    if (isFrame(marker)) {
      const problem = checkFrame(bytes.subarray(at, at + length), markerAt);
      if (problem) return problem;
      frame = true;
    }
    at += length;
    if (marker === SOS) {
      if (!frame) return `a scan at byte ${markerAt} before any frame header`;
      scans++;
      at = endOfEntropyData(bytes, at);
    }
  }
  return `truncated: no EOI marker (file ends at byte ${bytes.length})`;
}

/** SOF: precision, height, width, component count, then three bytes per component. */
function checkFrame(segment: Buffer, markerAt: number): string | undefined {
  if (segment.length < 8) return `frame header at byte ${markerAt} is too short`;
  const height = segment.readUInt16BE(3);
  const width = segment.readUInt16BE(5);
  const components = segment[7]!;
  if (width === 0) return `frame header at byte ${markerAt} has width 0`;
  if (height === 0) return `frame header at byte ${markerAt} has height 0 (a DNL-defined height is not accepted)`;
  if (components < 1 || components > 4) return `frame header at byte ${markerAt} has ${components} components`;
  if (segment.length !== 8 + 3 * components) return `frame header at byte ${markerAt} has length ${segment.length} for ${components} components`;
  return undefined;
}

/** Skips entropy-coded data: stuffed 0xff00 and RSTn belong to it; any other marker ends it. */
function endOfEntropyData(bytes: Buffer, from: number): number {
  for (let at = from; at + 1 < bytes.length; at++) {
    if (bytes[at] !== 0xff) continue;
    const next = bytes[at + 1]!;
    if (next === 0x00 || next === 0xff || (next >= 0xd0 && next <= 0xd7)) continue;
    return at;
  }
  return bytes.length;
}
