import { describe, expect, it } from 'vitest';
import type { MemoryProfile } from '#contracts';
import { profile } from '../test/profiles.js';
import { decideAfterOom, lowerProfileAfterOom, MEMORY_WAIT_MS, type OomDecision, type OomInput } from './oom-decision.js';
import { predictBytes } from './profile-fit.js';

const base: OomInput = { className: 'gpu-fp16-24g', batchSize: 32, remainingImages: 100, separable: true };

describe('decideAfterOom', () => {
  it.each<[string, Partial<OomInput>, Partial<OomDecision>, string[]]>([
    ['halves a separable batch', {}, { action: 'retry', batchSize: 16, capBatch: 31 }, ['out of memory at batch 32', 'halved from 32']],
    ['halves 3 to 1', { batchSize: 3 }, { action: 'retry', batchSize: 1, capBatch: 2 }, []],
    ['halves 2 to 1', { batchSize: 2 }, { action: 'retry', batchSize: 1, capBatch: 1 }, []],
    ['never more than the images left', { remainingImages: 5 }, { action: 'retry', batchSize: 5, capBatch: 31 }, []],
    [
      're-fits from the profile when that is smaller than half',
      // 1.1 × (2 + 0.5n) <= 6 GB → n <= 6.9
      { profile: profile(), availableBytes: 6e9 },
      { action: 'retry', batchSize: 6, capBatch: 31 },
      ['re-fitted to 6.00 GB available allows 6'],
    ],
    ['half wins when the profile allows more', { profile: profile(), availableBytes: 80e9 }, { action: 'retry', batchSize: 16 }, []],
    ['re-fit to nothing still retries at 1', { profile: profile(), availableBytes: 1e9 }, { action: 'retry', batchSize: 1 }, []],
    ['reroutes at one image', { batchSize: 1 }, { action: 'reroute', toClassName: 'gpu-fp16-40g' }, ['with one image', 'moving to gpu-fp16-40g']],
    [
      'reroutes a scene job at once, whatever its size',
      { separable: false, batchSize: 50, remainingImages: 50, className: 'gpu-bf16-24g' },
      { action: 'reroute', toClassName: 'gpu-bf16-40g' },
      ['the whole scene (50 images, not separable)'],
    ],
    [
      'fails at the largest tier, with numbers',
      { batchSize: 1, className: 'gpu-bf16-141g', profile: profile({ fixedBytes: 140e9 }), availableBytes: 139e9 },
      { action: 'fail' },
      ['141 GB is the largest tier', 'predicted 140.50 GB in fp16', '139.00 GB available'],
    ],
    ['fails on the cpu', { batchSize: 1, className: 'cpu-fp32', availableBytes: 60e9 }, { action: 'fail' }, ['cpu is the last resort', '60.00 GB available']],
    ['fails on the cpu for a scene job too', { separable: false, className: 'cpu-fp32' }, { action: 'fail' }, ['not separable']],
  ])('%s', (_name, overrides, expected, why) => {
    const decision = decideAfterOom({ ...base, ...overrides });
    expect(decision).toMatchObject(expected);
    for (const text of why) expect(decision.why).toContain(text);
  });
});

describe('lowerProfileAfterOom', () => {
  const now = '2025-06-01T12:00:00.000Z';
  it.each<[string, MemoryProfile, number, number | undefined, { capBatch: number; perItemBytes: number }]>([
    ['caps below the failing batch', profile(), 32, undefined, { capBatch: 31, perItemBytes: 0.5e9 }],
    ['keeps a lower existing cap', profile({ capBatch: 8 }), 16, undefined, { capBatch: 8, perItemBytes: 0.5e9 }],
    ['never caps below 1', profile(), 1, undefined, { capBatch: 1, perItemBytes: 0.5e9 }],
    // predicted 1.1 × 6 GB = 6.6 GB <= 20 GB available, yet it failed: per-item raised to (20 − 2) / 8 = 2.25 GB
    ['raises per-item cost when the prediction said it fit', profile(), 8, 20e9, { capBatch: 7, perItemBytes: 2.25e9 }],
    // predicted 1.1 × 18 GB = 19.8 GB > 10 GB: the OOM was expected, the profile is not raised
    ['leaves per-item cost when the prediction already said it would not fit', profile(), 32, 10e9, { capBatch: 31, perItemBytes: 0.5e9 }],
  ])('%s', (_name, before, failedBatch, available, expected) => {
    const after = lowerProfileAfterOom(before, failedBatch, available, now);
    expect(after).toMatchObject({ source: 'learned', updatedAt: now, ...expected });
    if (available !== undefined) expect(predictBytes(after, failedBatch)).toBeGreaterThanOrEqual(Math.min(available, predictBytes(before, failedBatch)));
    expect(before.source).toBe('calibrated'); // not mutated
  });

  it('keeps the per-pixel cost consistent with the raised per-item cost', () => {
    const before = profile({ perPixelBytes: 0.5e9 / (960 * 960) });
    const after = lowerProfileAfterOom(before, 8, 20e9, now);
    expect(after.perPixelBytes! * after.referencePixels).toBeCloseTo(after.perItemBytes, 0);
  });
});

describe('decideAfterOom when other work holds the memory', () => {
  const GB = 1e9;
  const h100Profile = {
    model: 'm', precision: 'fp16' as const, provider: 'webgpu' as const, device: 'NVIDIA H100 80GB HBM3', fixedBytes: 0.63 * GB,
    perItemBytes: 0.13 * GB, referencePixels: 1, marginFraction: 0.1, source: 'calibrated' as const, points: [], updatedAt: '',
  };
  it.each([
    { name: 'H100 with 0.74 GB free: one image fits the card → wait', capacity: 85.5 * GB, available: 0.74 * GB, action: 'wait' },
    { name: 'one image larger than the whole card → reroute', capacity: 0.8 * GB, available: 0.74 * GB, action: 'reroute' },
    { name: 'no capacity given → reroute (old behaviour)', capacity: undefined, available: 0.74 * GB, action: 'reroute' },
    { name: 'plenty free yet OOM at one image → profile was wrong → reroute', capacity: 85.5 * GB, available: 80 * GB, action: 'reroute' },
  ])('$name', ({ capacity, available, action }) => {
    const decision = decideAfterOom({ className: 'gpu-fp16-8g', batchSize: 1, remainingImages: 10, separable: true, profile: h100Profile, availableBytes: available, capacityBytes: capacity });
    expect(decision.action).toBe(action);
    if (decision.action === 'wait') {
      expect(decision.retryAfterMs).toBe(MEMORY_WAIT_MS);
      expect(decision.why).toMatch(/needs 0\.84 GB with margin: it fits this 85\.50 GB card but only 0\.74 GB is free now/);
    }
  });
});
