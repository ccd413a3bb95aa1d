import { describe, expect, it } from 'vitest';
import type { ProfilePoint } from '#contracts';
import { VGGT_POINTS } from '../test/profiles.js';
import { fitEnvelope, fitProfile, predictBytes, withMargin } from './profile-fit.js';

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
