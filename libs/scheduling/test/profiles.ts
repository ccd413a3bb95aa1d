import type { MemoryProfile } from '#contracts';

/** VGGT on an H100, GB by frames (DESIGN.md): a scene model's memory grows linearly with its frames. */
export const VGGT_POINTS = [
  [1, 1.88],
  [2, 2.07],
  [4, 2.45],
  [8, 3.23],
  [10, 3.63],
  [20, 5.58],
  [50, 11.41],
  [100, 21.15],
  [200, 40.63],
].map(([batch, gb]) => ({ batch: batch!, peakBytes: gb! * 1e9 }));

/** A simple separable profile: 2 GB fixed, 0.5 GB per image, 10% margin. */
export function profile(overrides: Partial<MemoryProfile> = {}): MemoryProfile {
  return {
    model: 'ocr-det',
    precision: 'fp16',
    provider: 'cuda',
    device: 'NVIDIA A10',
    fixedBytes: 2e9,
    perItemBytes: 0.5e9,
    referencePixels: 960 * 960,
    marginFraction: 0.1,
    source: 'calibrated',
    points: [],
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}
