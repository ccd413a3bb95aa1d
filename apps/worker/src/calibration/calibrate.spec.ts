import { describe, expect, it } from 'vitest';
import { OutOfMemoryError } from '#scheduling';
import type { DeviceMemory } from '../memory/device-memory.js';
import { calibrate } from './calibrate.js';

/** A device whose memory follows a known law; the "run" records the batch so track() can report its peak. */
function fakeDevice(fixed: number, perItem: number, capacity: number) {
  let last = 0;
  const memory: DeviceMemory = {
    availableBytes: async () => capacity,
    track: async (fn) => ({ result: await fn(), peakBytes: fixed + perItem * last }),
  };
  const runBatch = async (n: number) => {
    if (fixed + perItem * n > capacity) throw new OutOfMemoryError(`Failed to allocate memory for requested buffer of size ${perItem * n}`);
    last = n;
  };
  return { memory, runBatch };
}

const base = { model: 'm', precision: 'fp16' as const, provider: 'webgpu' as const, device: 'GPU', marginFraction: 0.1, referencePixels: 1 };

describe('calibrate', () => {
  it('recovers a linear law, keeps the points and stops at the budget', async () => {
    const { memory, runBatch } = fakeDevice(1000, 100, 1e9);
    const report = await calibrate({ ...base, memory, runBatch, maxBatch: 1024, budgetBytes: 10_000 });
    expect(report.profile).toMatchObject({ source: 'calibrated', fixedBytes: 1000, perItemBytes: 100 });
    expect(report.points.map((p) => p.batch)).toEqual([1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]);
  });

  it('caps the profile below a size that ran out of memory', async () => {
    const { memory, runBatch } = fakeDevice(1000, 100, 3000);
    const report = await calibrate({ ...base, memory, runBatch, maxBatch: 64, budgetBytes: 1e9 });
    expect(report.oomAt).toBe(24);
    expect(report.profile.capBatch).toBe(23);
  });

  it('needs two sizes', async () => {
    const { memory, runBatch } = fakeDevice(1000, 100, 1150);
    await expect(calibrate({ ...base, memory, runBatch, maxBatch: 64, budgetBytes: 1e9 })).rejects.toThrow(/need two/);
  });
});
