import { describe, expect, it } from 'vitest';
import type { DeviceCapability, JobRequirement, Precision } from '#contracts';
import { A10, CPU_NODE, H100, T4, WEBGPU_H100 } from '../test/fleet.js';
import { requirement } from '../test/requirement.js';
import { fits } from './fits.js';

describe('fits', () => {
  it.each<[string, JobRequirement, Precision, DeviceCapability, number | undefined, { resource: string; text: string }[]]>([
    ['small job on H100 in bf16 fits', requirement(), 'bf16', H100, undefined, []],
    [
      'bf16 on a T4: compute capability too low (no self-test to mention)',
      requirement(),
      'bf16',
      T4,
      undefined,
      [{ resource: 'compute-capability', text: 'NVIDIA T4: compute capability 7.5 < 8.0 required for bf16' }],
    ],
    [
      'bf16 on a Turing card whose provider tried and failed bf16: both reasons',
      requirement(),
      'bf16',
      { ...T4, selfTests: [{ provider: 'cuda', precision: 'bf16', passed: false, maxAbsError: 0.5, tolerance: 0.01 }] },
      undefined,
      [
        { resource: 'precision', text: 'NVIDIA T4: bf16 not proven on cuda (self-test: max error 0.5 > tolerance 0.01)' },
        { resource: 'compute-capability', text: 'compute capability 7.5 < 8.0 required for bf16' },
      ],
    ],
    [
      'fp16 never run on this provider',
      requirement(),
      'fp16',
      { ...A10, provenPrecisions: ['bf16'], selfTests: [] },
      undefined,
      [{ resource: 'precision', text: 'NVIDIA A10: fp16 not proven on cuda (no self-test)' }],
    ],
    [
      'bf16 on a webgpu Hopper: the failed self-test is quoted',
      requirement(),
      'bf16',
      WEBGPU_H100,
      undefined,
      [{ resource: 'precision', text: 'bf16 not proven on webgpu (self-test: Unsupported data type: bfloat16)' }],
    ],
    [
      'too big for the T4, with numbers',
      requirement({ oneImage: 21.2e9 }),
      'fp16',
      T4,
      undefined,
      [{ resource: 'memory', text: 'needs 21.20 GB in fp16; NVIDIA T4 has 16.11 GB' }],
    ],
    [
      'scene job counts every image together',
      requirement({ separable: false, imageCount: 200, oneImage: 1.9e9, wholeJob: 40.6e9 }),
      'bf16',
      A10,
      undefined,
      [{ resource: 'memory', text: 'needs 40.60 GB in bf16 (all 200 images on one card); NVIDIA A10 has 24.15 GB' }],
    ],
    [
      'fits the card but not the free memory now',
      requirement(),
      'bf16',
      A10,
      2e9,
      [{ resource: 'memory', text: 'needs 3.60 GB in bf16; NVIDIA A10 has 2.00 GB free now' }],
    ],
    [
      'cpu when the job does not allow it',
      requirement({ allowCpu: false }),
      'fp32',
      CPU_NODE,
      undefined,
      [{ resource: 'device', text: 'cpu: the job does not allow cpu' }],
    ],
    ['cpu when allowed', requirement({ allowCpu: true }), 'fp32', CPU_NODE, undefined, []],
    [
      'a precision the model has no variant for',
      { ...requirement(), needs: requirement().needs.filter((n) => n.precision !== 'fp32') },
      'fp32',
      H100,
      undefined,
      [{ resource: 'precision', text: 'mistral has no fp32 variant' }],
    ],
  ])('%s', (_name, req, precision, device, free, expected) => {
    const reasons = fits(req, precision, device, 'target-x', free);
    expect(reasons.map((r) => r.resource)).toEqual(expected.map((e) => e.resource));
    reasons.forEach((r, i) => {
      expect(r.reason).toContain(expected[i]!.text);
      expect(r.target).toBe('target-x');
    });
  });

  it('memory reasons carry requested and available bytes', () => {
    const [reason] = fits(requirement({ oneImage: 21.2e9 }), 'fp16', T4, 'x');
    expect(reason).toMatchObject({ requested: 21.2e9, available: T4.totalBytes });
  });
});

describe('fits with per-model variant checks', () => {
  // Measured on the H100 (docs/h100.md): PP-OCRv4's fp16 variant on webgpu, mean error 0.0104 > 0.005.
  const checked: DeviceCapability = {
    ...WEBGPU_H100,
    variantChecks: [
      { model: 'ppocr-v4-det', precision: 'fp16', passed: false, meanAbsError: 0.01036, maxAbsError: 0.99999, tolerance: { meanAbs: 0.005, maxAbs: 0.5 } },
      { model: 'other-model', precision: 'fp16', passed: true, meanAbsError: 0.0003, maxAbsError: 0.2, tolerance: { meanAbs: 0.005, maxAbs: 0.5 } },
    ],
  };
  it.each([
    { name: 'failed check refuses that model in that precision', model: 'ppocr-v4-det', precision: 'fp16' as Precision, refused: true },
    { name: 'the same model in fp32 is untouched', model: 'ppocr-v4-det', precision: 'fp32' as Precision, refused: false },
    { name: 'a model whose check passed runs in fp16', model: 'other-model', precision: 'fp16' as Precision, refused: false },
    { name: 'a model never checked is not refused by the check', model: 'unchecked', precision: 'fp16' as Precision, refused: false },
  ])('$name', ({ model, precision, refused }) => {
    const reasons = fits({ ...requirement(), model }, precision, checked, 'gpu-fp16-8g');
    expect(reasons.some((r) => /failed its check against fp32/.test(r.reason))).toBe(refused);
    if (refused) expect(reasons[0]!.reason).toMatch(/mean error 0\.0104 \(tolerance 0\.005\), max 1\.00 \(tolerance 0\.5\)/);
  });
});
