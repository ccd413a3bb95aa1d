import { describe, expect, it } from 'vitest';
import type { ProfilePoint } from '#contracts';
import { VGGT_POINTS } from '../test/profiles.js';
import { fitEnvelope, fitProfile, measuredMargin, predictBytes, withMargin } from './profile-fit.js';

describe('fitProfile', () => {
  it.each<[string, ProfilePoint[], { fixed: number; perItem: number; r2Min: number; maxResidual: number }]>([
    ['exact line', [1, 2, 4].map((b) => ({ batch: b, peakBytes: 1e9 + b * 0.25e9 })), { fixed: 1e9, perItem: 0.25e9, r2Min: 0.999999, maxResidual: 1e-9 }],
    ['VGGT on an H100 (scene model)', VGGT_POINTS, { fixed: 1.68e9, perItem: 0.1947e9, r2Min: 0.9999, maxResidual: 0.02 }],
    [
      'noisy negative slope is clamped to zero: a constant at the mean',
      [
        { batch: 1, peakBytes: 3e9 },
        { batch: 2, peakBytes: 2.9e9 },
      ],
      { fixed: 2.95e9, perItem: 0, r2Min: 0, maxResidual: 0.02 },
    ],
    [
      'repeated sizes are averaged by the fit',
      [
        { batch: 1, peakBytes: 2e9 },
        { batch: 1, peakBytes: 2.2e9 },
        { batch: 3, peakBytes: 4.1e9 },
      ],
      { fixed: 1.1e9, perItem: 1e9, r2Min: 0.98, maxResidual: 0.05 },
    ],
  ])('%s', (_name, points, expected) => {
    const fit = fitProfile(points);
    expect(fit.fixedBytes).toBeCloseTo(expected.fixed, -7); // within 0.05 GB
    expect(fit.perItemBytes).toBeCloseTo(expected.perItem, -6);
    expect(fit.r2).toBeGreaterThanOrEqual(expected.r2Min);
    expect(fit.maxRelativeResidual).toBeLessThanOrEqual(expected.maxResidual);
  });

  it.each<[string, ProfilePoint[], RegExp]>([
    ['no points', [], /at least two different batch sizes/],
    ['one point', [{ batch: 4, peakBytes: 3e9 }], /1 point\(s\) at 1 batch size/],
    [
      'one batch size measured twice',
      [
        { batch: 4, peakBytes: 3e9 },
        { batch: 4, peakBytes: 3.1e9 },
      ],
      /at least two different batch sizes/,
    ],
    [
      'zero batch',
      [
        { batch: 0, peakBytes: 3e9 },
        { batch: 4, peakBytes: 3.1e9 },
      ],
      /invalid profile point/,
    ],
  ])('refuses %s', (_name, points, error) => {
    expect(() => fitProfile(points)).toThrow(error);
  });
});

describe('predictBytes / withMargin', () => {
  const p = { fixedBytes: 2e9, perItemBytes: 0.5e9, referencePixels: 1e6 };
  it.each<[string, Parameters<typeof predictBytes>[0], number, number | undefined, number]>([
    ['per item at the reference size', p, 4, undefined, 4e9],
    ['pixels ignored without a per-pixel cost', p, 4, 4e6, 4e9],
    ['per pixel scales the per-item term', { ...p, perPixelBytes: 500 }, 4, 4e6, 2e9 + 4 * 2e9],
    ['per-pixel profile without pixels uses perItemBytes', { ...p, perPixelBytes: 500 }, 2, undefined, 3e9],
    ['batch 0 is the fixed cost', p, 0, undefined, 2e9],
  ])('%s', (_name, profile, batch, pixels, expected) => {
    expect(predictBytes(profile, batch, pixels)).toBe(expected);
  });

  it.each([
    ['10% margin', 1e9, 0.1, 1.1e9],
    ['no margin', 1e9, 0, 1e9],
    ['rounds up to whole bytes', 3, 0.5, 5],
  ])('%s', (_name, bytes, margin, expected) => {
    expect(withMargin(bytes, margin)).toBe(expected);
  });
});

describe('fitEnvelope', () => {
  const MiB = 2 ** 20;
  // The H100 WebGPU fp16 sweep of PP-OCRv4 detection at 960×960 (docs/h100.md).
  const h100 = [
    [1, 214], [2, 444], [4, 739], [8, 1379], [16, 2604], [32, 4041],
  ].map(([batch, mib]) => ({ batch: batch!, peakBytes: mib! * MiB }));

  it.each([
    { name: 'exact line: nothing to raise', points: [{ batch: 1, peakBytes: 300 }, { batch: 3, peakBytes: 500 }], raised: 0 },
    { name: 'step allocator (H100 fp16 sweep)', points: h100, raised: 352.5 * MiB },
  ])('$name', ({ points, raised }) => {
    const fit = fitEnvelope(points);
    expect(fit.raisedBytes).toBeCloseTo(raised, -5);
    for (const p of points) expect(fit.fixedBytes + fit.perItemBytes * p.batch).toBeGreaterThanOrEqual(p.peakBytes - 1);
  });

  it('keeps the least-squares slope', () => {
    expect(fitEnvelope(h100).perItemBytes).toBeCloseTo(fitProfile(h100).perItemBytes, 0);
  });
});

describe('measuredMargin', () => {
  const line = (sizes: number[], fixed: number, perItem: number): ProfilePoint[] => sizes.map((b) => ({ batch: b, peakBytes: fixed + perItem * b }));

  it.each<[string, ProfilePoint[], number, { margin: number; under: number; at?: number }]>([
    ['a clean line earns the floor', line([1, 2, 4, 8, 16], 1e9, 1e8), 0.04, { margin: 0.04, under: 0 }],
    [
      // WebGPU bucket rounding as measured on the H100: a size that jumps to the next bucket is under-predicted
      // by a line through the others, and the margin grows to cover it.
      'a step at the largest size raises the margin to the held-out miss',
      [...line([1, 2, 4, 8], 1e9, 1e8), { batch: 16, peakBytes: 1e9 + 1e8 * 16 * 1.5 }],
      0.04,
      { margin: 0.235, under: 0.235, at: 16 },
    ],
    // Left out, batch 1 is predicted below zero by the steep line through the others: a miss of 100 %.
    ['the ceiling bounds it', [...line([1, 2, 4], 1e8, 1e7), { batch: 8, peakBytes: 5e9 }], 0.04, { margin: 0.5, under: 1, at: 1 }],
    ['two sizes: nothing to hold out, the floor', line([1, 2], 1e9, 1e8), 0.1, { margin: 0.1, under: 0 }],
  ])('%s', (_name, points, floor, expected) => {
    const m = measuredMargin(points, floor);
    expect(m.marginFraction).toBeCloseTo(expected.margin, 2);
    expect(m.worstHeldOutUnder).toBeCloseTo(expected.under, 2);
    expect(m.worstAt).toBe(expected.at);
  });
});

describe('predictBytes within and beyond a calibrated profile', () => {
  // Shaped like the H100's WebGPU (lazyRelease) synthetic sweep: flat while buffers share pooled heaps, then a
  // jump onto the line that every larger size follows.
  const MiB = 2 ** 20;
  const points: ProfilePoint[] = [
    [1, 58], [2, 58], [4, 58], [8, 58], [64, 58], [1024, 82], [4096, 178], [8192, 318], [12288, 568], [16384, 1082], [24576, 1343], [32768, 1603],
  ].map(([batch, mib]) => ({ batch: batch!, peakBytes: mib! * MiB }));
  const fit = fitEnvelope(points);
  const profile = { fixedBytes: fit.fixedBytes, perItemBytes: fit.perItemBytes, referencePixels: 1, source: 'calibrated' as const, points };

  it.each<[number, number]>([
    [5, 58], // flat region: the next measured size (8) says 58 MiB; the raised line says ~540
    [1000, 82],
    [10240, 568],
    [12288, 568], // a measured size predicts its own peak
  ])('batch %i: the measured step, %i MiB', (batch, mib) => {
    expect(predictBytes(profile, batch) / MiB).toBeCloseTo(mib, 0);
    expect(predictBytes(profile, batch)).toBeLessThan(fit.fixedBytes + fit.perItemBytes * batch);
  });

  it('takes the line where it is lower, and beyond the largest measured size', () => {
    const line = (n: number) => fit.fixedBytes + fit.perItemBytes * n;
    expect(predictBytes(profile, 20480)).toBeCloseTo(Math.min(line(20480), 1343 * MiB), -3);
    expect(predictBytes(profile, 100_000)).toBe(line(100_000));
  });

  it('uses the line only for priors, learned profiles and other input sizes', () => {
    const line = fit.fixedBytes + fit.perItemBytes * 5;
    expect(predictBytes({ ...profile, source: 'manifest' }, 5)).toBe(line);
    expect(predictBytes({ ...profile, source: 'learned' }, 5)).toBe(line);
    expect(predictBytes({ ...profile, perPixelBytes: fit.perItemBytes }, 5, 2)).toBe(fit.fixedBytes + fit.perItemBytes * 2 * 5);
  });

  it('is monotone in the batch (batch fitting bisects on it)', () => {
    let last = 0;
    for (let n = 1; n <= 40_000; n += 97) {
      const p = predictBytes(profile, n);
      expect(p).toBeGreaterThanOrEqual(last);
      last = p;
    }
  });
});
