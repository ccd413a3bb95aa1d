import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { getManifest, withInputSize } from '../manifest.js';
import { packBatch, preprocessImage, probeImage } from './preprocess.js';

const manifest = withInputSize(getManifest('ppocr-v4-det')!, 64);
const { mean, std } = manifest.input;
const normalized = (byte: number, channel: number) => (byte / 255 - mean[channel]!) / std[channel]!;

function solid(width: number, height: number, rgb: [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}

describe('preprocessImage', () => {
  it('shrinks to fit, places top-left and pads with normalized black', async () => {
    const { data, meta } = await preprocessImage(await solid(128, 32, [255, 255, 255]), manifest);

    expect(meta).toEqual({ width: 128, height: 32, scale: 0.5 });
    expect(data).toHaveLength(3 * 64 * 64);
    for (let c = 0; c < 3; c++) {
      const plane = c * 64 * 64;
      expect(data[plane + 0]).toBeCloseTo(normalized(255, c), 5); // image, row 0
      expect(data[plane + 15 * 64 + 63]).toBeCloseTo(normalized(255, c), 5); // image, last row
      expect(data[plane + 16 * 64 + 0]).toBeCloseTo(normalized(0, c), 5); // padding
    }
  });

  it('never enlarges a small image', async () => {
    const { data, meta } = await preprocessImage(await solid(20, 10, [255, 255, 255]), manifest);
    expect(meta.scale).toBe(1);
    expect(data[19]).toBeCloseTo(normalized(255, 0), 5);
    expect(data[20]).toBeCloseTo(normalized(0, 0), 5);
  });

  it('feeds planes in BGR order, as PaddleOCR (OpenCV) does, each with its own mean and std', async () => {
    const { data } = await preprocessImage(await solid(8, 8, [255, 0, 0]), manifest);
    const plane = 64 * 64;
    expect(data[0]).toBeCloseTo(normalized(0, 0), 5); // blue
    expect(data[plane]).toBeCloseTo(normalized(0, 1), 5); // green
    expect(data[2 * plane]).toBeCloseTo(normalized(255, 2), 5); // red
  });

  it('applies EXIF orientation before measuring and scaling', async () => {
    const rotated = await sharp(await solid(40, 20, [255, 255, 255]))
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(await probeImage(rotated)).toEqual({ width: 20, height: 40, format: 'jpeg' });
    expect((await preprocessImage(rotated, manifest)).meta).toEqual({ width: 20, height: 40, scale: 1 });
  });

  it('flattens transparency onto white so dark text on a transparent layer stays visible', async () => {
    const transparent = await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toBuffer();
    const { data } = await preprocessImage(transparent, manifest);
    expect(data[0]).toBeCloseTo(normalized(255, 0), 5);
  });

  it('reads greyscale images as three channels', async () => {
    const grey = await sharp(await solid(8, 8, [128, 128, 128]))
      .greyscale()
      .png()
      .toBuffer();
    const { data } = await preprocessImage(grey, manifest);
    expect(data[2 * 64 * 64]).toBeCloseTo(normalized(128, 2), 2);
  });
});

describe('packBatch', () => {
  it('concatenates CHW items into NCHW', () => {
    const a = new Float32Array(3 * 4).fill(1);
    const b = new Float32Array(3 * 4).fill(2);
    const batch = packBatch([{ data: a }, { data: b }], 2);
    expect(Array.from(batch)).toEqual([...a, ...b]);
  });

  it('refuses an item of another size', () => {
    expect(() => packBatch([{ data: new Float32Array(5) }], 2)).toThrow(RangeError);
  });
});

describe('probeImage', () => {
  it('reports size and format from the header', async () => {
    expect(await probeImage(await solid(30, 10, [0, 0, 0]))).toEqual({ width: 30, height: 10, format: 'png' });
  });

  it('refuses, before decoding, a header that claims more than MAX_DECODE_PIXELS', async () => {
    // A 10x10 PNG whose IHDR (CRC fixed) now claims 20000x20000 = 400 M pixels.
    const bomb = Buffer.from(await solid(10, 10, [0, 0, 0]));
    bomb.writeUInt32BE(20_000, 16);
    bomb.writeUInt32BE(20_000, 20);
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
    await expect(probeImage(bomb)).rejects.toThrow(/exceeds pixel limit/);
    await expect(preprocessImage(bomb, manifest)).rejects.toThrow(/exceeds pixel limit/);
  });
});
