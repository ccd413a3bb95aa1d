import sharp, { type Sharp } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_FORMATS, type ImageFormat } from '#contracts';
import { inspectImage } from './inspect-image.js';
import { sniffFormat } from './sniff-format.js';

const ALL = [...IMAGE_FORMATS];
const SVG = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#fff"/><text x="2" y="15">hi</text></svg>\n');

/** A small picture with some structure in every format sharp writes. */
async function samples(): Promise<Record<Exclude<ImageFormat, 'svg'>, Buffer>> {
  const base = sharp({ create: { width: 64, height: 48, channels: 3, background: '#ffffff' } })
    .composite([{ input: { create: { width: 30, height: 10, channels: 3, background: '#000000' } }, left: 8, top: 20 }]);
  const raw = await base.png().toBuffer();
  const make = (f: (s: Sharp) => Sharp) => f(sharp(raw)).toBuffer();
  return {
    png: raw,
    jpeg: await make((s) => s.jpeg()),
    webp: await make((s) => s.webp()),
    gif: await make((s) => s.gif()),
    tiff: await make((s) => s.tiff()),
    avif: await make((s) => s.avif()),
  };
}

describe('inspectImage', () => {
  let images: Awaited<ReturnType<typeof samples>>;
  beforeAll(async () => {
    images = await samples();
  });

  it('recognises each format from its bytes and passes whole files', async () => {
    for (const [format, bytes] of Object.entries(images)) {
      expect(sniffFormat(bytes), format).toBe(format);
      expect(inspectImage(bytes, ALL), format).toEqual({ ok: true, format });
    }
    expect(inspectImage(SVG, ALL)).toEqual({ ok: true, format: 'svg' });
  });

  it('refuses a format not in the accepted list, and bytes of no known format', () => {
    expect(inspectImage(SVG, ['png', 'jpeg'])).toMatchObject({ ok: false, problem: 'unsupported-format', format: 'svg', reason: expect.stringMatching(/svg is not accepted here \(accepted: png, jpeg/) });
    expect(inspectImage(Buffer.from('hello, not an image'), ALL)).toMatchObject({ ok: false, problem: 'unsupported-format' });
    expect(inspectImage(Buffer.alloc(0), ALL)).toMatchObject({ ok: false, problem: 'unsupported-format' });
  });

  it('refuses every truncation of every format', async () => {
    for (const [format, bytes] of Object.entries(images)) {
      // Every cut point past the signature, sampled so each file gets ~60 cuts.
      const step = Math.max(1, Math.floor(bytes.length / 60));
      for (let cut = 16; cut < bytes.length - 1; cut += step) {
        const result = inspectImage(bytes.subarray(0, cut), ALL);
        expect(result.ok, `${format} cut at ${cut} of ${bytes.length}`).toBe(false);
      }
      // The last byte alone: PNG's IEND CRC, JPEG's EOI, GIF's trailer, the RIFF size, the last box or strip.
      expect(inspectImage(bytes.subarray(0, bytes.length - 1), ALL).ok, `${format} without its last byte`).toBe(false);
    }
    expect(inspectImage(SVG.subarray(0, SVG.length - 10), ALL)).toMatchObject({ ok: false, problem: 'corrupt-image' });
  });

  it('catches any flipped byte in a PNG by its chunk CRCs', () => {
    const png = images.png;
    for (let at = 8; at < png.length; at += 7) {
      const damaged = Buffer.from(png);
      damaged[at] = damaged[at]! ^ 0x5a;
      expect(inspectImage(damaged, ALL).ok, `byte ${at}`).toBe(false);
    }
  });

  it('says where a PNG is broken', () => {
    const png = Buffer.from(images.png);
    expect(inspectImage(png.subarray(0, png.length - 12), ALL)).toMatchObject({ problem: 'corrupt-image', reason: expect.stringMatching(/^png: truncated: no IEND chunk/) });
    png[40] = png[40]! ^ 1;
    expect(inspectImage(png, ALL)).toMatchObject({ reason: expect.stringMatching(/fails its CRC/) });
  });

  it('refuses JPEG segment damage: a missing EOI, a broken length, a zero-sized frame', () => {
    const jpeg = images.jpeg;
    expect(inspectImage(jpeg.subarray(0, jpeg.length - 2), ALL)).toMatchObject({ reason: expect.stringMatching(/no EOI marker/) });
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    const zeroWidth = Buffer.from(jpeg);
    zeroWidth.writeUInt16BE(0, sof + 7);
    expect(inspectImage(zeroWidth, ALL)).toMatchObject({ reason: expect.stringMatching(/width 0/) });
    const longSegment = Buffer.from(jpeg);
    longSegment.writeUInt16BE(0xfff0, 4); // the first segment's length now runs past the end
    expect(inspectImage(longSegment, ALL)).toMatchObject({ reason: expect.stringMatching(/truncated: segment 0xff[0-9a-f]{2} at byte 2 declares 65520 bytes/) });
  });

  it('refuses SVG that declares entities', () => {
    const bomb = Buffer.from('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>');
    expect(inspectImage(bomb, ALL)).toMatchObject({ ok: false, reason: expect.stringMatching(/entities/) });
  });

  it('a file that passes decodes (sharp agrees on every sample)', async () => {
    for (const [format, bytes] of Object.entries(images)) {
      const { info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
      expect(info.width, format).toBe(64);
    }
  });
});
