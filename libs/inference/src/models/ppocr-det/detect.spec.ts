import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadInputError, type TextBox } from '#contracts';
import { renderTextImage, sampleImages, type PixelRect, type RenderedTextImage } from '../../../../../test/fixtures/text-images.js';
import { getManifest, withInputSize, type ModelManifest } from '../manifest.js';
import { dbPostprocess, sliceMap } from './db-postprocess.js';
import { packBatch, preprocessImage, probeImage } from './preprocess.js';

/** The whole detection path as the worker runs it: letterbox, batch, one run, slice, post-process. */
async function detectBatch(session: ort.InferenceSession, manifest: ModelManifest, images: Buffer[]): Promise<TextBox[][]> {
  const S = manifest.input.size;
  const items = await Promise.all(images.map((png) => preprocessImage(png, manifest)));
  const x = new ort.Tensor('float32', packBatch(items, S), [items.length, 3, S, S]);
  const outputs = await session.run({ [manifest.input.name]: x });
  const maps = outputs[manifest.output.name]!.data as Float32Array;
  return items.map((item, i) => dbPostprocess(sliceMap(maps, i, S), S, item.meta, manifest.postprocess));
}

function area(r: PixelRect): number {
  return Math.max(0, r.width) * Math.max(0, r.height);
}

function intersection(a: PixelRect, b: PixelRect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** A drawn line counts as found when a box overlaps it well, or holds most of it without being much bigger. */
function covers(detected: PixelRect, expected: PixelRect): boolean {
  const shared = intersection(detected, expected);
  const iou = shared / (area(detected) + area(expected) - shared);
  const containment = shared / area(expected);
  return iou >= 0.5 || (containment >= 0.8 && area(detected) <= 2 * area(expected));
}

describe.each([
  { name: 'S=640', manifest: withInputSize(getManifest('ppocr-v4-det')!, 640) },
  { name: 'S=960 (default)', manifest: getManifest('ppocr-v4-det')! },
])('PP-OCRv4 detection on CPU, letterboxed batch, $name', ({ manifest }) => {
  let session: ort.InferenceSession;
  let samples: RenderedTextImage[];
  let results: TextBox[][];

  beforeAll(async () => {
    session = await ort.InferenceSession.create(manifest.files.fp32);
    samples = await Promise.all(sampleImages().map(renderTextImage));
    results = await detectBatch(
      session,
      manifest,
      samples.map((s) => s.png),
    );
  });
  afterAll(async () => session?.release());

  it.each([0, 1, 2])('finds every drawn line of sample %i, and nothing else', (index) => {
    const expected = samples[index]!.boxes;
    const detected = results[index]!;

    for (const line of expected) expect(detected.some((d) => covers(d.box, line))).toBe(true);
    // Nothing on blank paper: every box sits mostly on some drawn line.
    for (const d of detected) {
      const onInk = Math.max(...expected.map((line) => intersection(d.box, line))) / area(d.box);
      expect(onInk).toBeGreaterThan(0.5);
    }
    expect(detected).toHaveLength(expected.length);
    for (const d of detected) expect(d.score).toBeGreaterThanOrEqual(manifest.postprocess.boxThresh);
  });

  it('returns boxes in reading order', () => {
    for (const boxes of results) {
      const tops = boxes.map((b) => b.box.y);
      expect(tops).toEqual([...tops].sort((a, b) => a - b));
    }
  });

  it('gives an image the same boxes alone as in a batch (the model is separable)', async () => {
    const [alone] = await detectBatch(session, manifest, [samples[2]!.png]);
    const inBatch = results[2]!;
    expect(alone).toHaveLength(inBatch.length);
    alone!.forEach((box, i) => {
      expect(Math.abs(box.box.x - inBatch[i]!.box.x)).toBeLessThanOrEqual(1);
      expect(Math.abs(box.box.y - inBatch[i]!.box.y)).toBeLessThanOrEqual(1);
      expect(Math.abs(box.box.width - inBatch[i]!.box.width)).toBeLessThanOrEqual(1);
      expect(Math.abs(box.box.height - inBatch[i]!.box.height)).toBeLessThanOrEqual(1);
    });
  });
});

describe('bad input', () => {
  const notAnImage = Buffer.from('this is a text file, not a picture\n'.repeat(20));
  const manifest = getManifest('ppocr-v4-det')!;

  it('probeImage throws a BadInputError with libvips\'s words', async () => {
    const err = await probeImage(notAnImage).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect(err).toMatchObject({ name: 'BadInputError', code: 'bad-input', message: expect.stringMatching(/^not a decodable image: .*unsupported image format/) });
  });

  it('preprocessImage throws a BadInputError', async () => {
    await expect(preprocessImage(notAnImage, manifest)).rejects.toBeInstanceOf(BadInputError);
  });

  it('a truncated PNG throws a BadInputError', async () => {
    const { png } = await renderTextImage(sampleImages()[0]!);
    const truncated = png.subarray(0, Math.floor(png.length / 2));
    await expect(preprocessImage(truncated, manifest)).rejects.toBeInstanceOf(BadInputError);
  });
});
