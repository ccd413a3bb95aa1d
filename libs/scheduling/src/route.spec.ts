import { describe, expect, it } from 'vitest';
import type { DeviceCapability, InsufficientResource, JobRequirement } from '#contracts';
import { A10, A100_40, A100_80, A4000, CPU_NODE, DECLARED_T4, FULL_FLEET, H100, L4, RTX4090, T4, V100, WEBGPU_H100 } from '../test/fleet.js';
import { requirement } from '../test/requirement.js';
import { route } from './route.js';

interface Routed {
  className: string;
  precision: string;
  waiting?: boolean;
  reason?: string[];
}
interface Refused {
  resources: InsufficientResource['resource'][];
  reasons?: string[];
  message: string[];
}

describe('route', () => {
  const routed: [string, JobRequirement, DeviceCapability[], boolean, Routed][] = [
    [
      'auto with bf16 cards live: bf16 on the smallest tier that holds it',
      requirement(),
      FULL_FLEET,
      false,
      {
        className: 'gpu-bf16-8g',
        precision: 'bf16',
        reason: ['auto: bf16 proven on 6 live worker(s) with compute capability >= 8.0'],
      },
    ],
    [
      'auto with only T4/V100: fp16, saying why not bf16',
      requirement(),
      [T4, V100],
      false,
      {
        className: 'gpu-fp16-8g',
        precision: 'fp16',
        reason: ['auto: no live worker can run bf16', 'compute capability 7.5 < 8.0', 'compute capability 7.0 < 8.0', 'fp16 chosen: fp16 proven on 2 live worker(s)'],
      },
    ],
    [
      'auto on a declared pre-Ampere card: fp16, and the reason says declared, not proven',
      requirement(),
      [DECLARED_T4],
      false,
      { className: 'gpu-fp16-8g', precision: 'fp16', reason: ['compute capability 7.5 < 8.0', 'fp16 chosen: fp16 declared (not measured) on 1 live worker(s)'] },
    ],
    [
      'auto on the webgpu Hopper alone: never bf16, fp16 instead',
      requirement(),
      [WEBGPU_H100],
      false,
      { className: 'gpu-fp16-8g', precision: 'fp16', reason: ['bf16 not proven on webgpu (self-test: Unsupported data type: bfloat16)'] },
    ],
    [
      'auto 21.2 GB job: 24 GB bf16 tier',
      requirement({ oneImage: 21.2e9 }),
      FULL_FLEET,
      false,
      { className: 'gpu-bf16-24g', precision: 'bf16', reason: ['bf16 proven on 6 live worker(s)'] },
    ],
    [
      'auto 21.2 GB job on T4s and a 16 GB bf16 card: fp16 on the V100',
      requirement({ oneImage: 21.2e9 }),
      [T4, A4000, V100],
      false,
      { className: 'gpu-fp16-24g', precision: 'fp16', reason: ['needs 21.20 GB in bf16; the largest bf16 card has 17.17 GB'] },
    ],
    [
      'fp16 explicitly on the full fleet: smallest fp16 tier',
      requirement({ policy: 'fp16' }),
      FULL_FLEET,
      false,
      { className: 'gpu-fp16-8g', precision: 'fp16', reason: ['fp16: fp16 proven on 9 live worker(s)'] },
    ],
    [
      'fp32 with cpu allowed on a cpu-only fleet: cpu-fp32',
      requirement({ policy: 'fp32', allowCpu: true }),
      [CPU_NODE],
      false,
      { className: 'cpu-fp32', precision: 'fp32', reason: ['no live gpu worker', 'fp32 on cpu chosen'] },
    ],
    [
      'auto with cpu allowed on a cpu-only fleet: cpu-fp32 as the last resort',
      requirement({ allowCpu: true }),
      [CPU_NODE],
      false,
      { className: 'cpu-fp32', precision: 'fp32' },
    ],
    [
      'auto with cpu allowed still prefers gpu fp32 over cpu',
      { ...requirement({ allowCpu: true }), needs: requirement().needs.filter((n) => n.precision === 'fp32') },
      [CPU_NODE, T4],
      false,
      { className: 'gpu-fp32-8g', precision: 'fp32', reason: ['mistral has no bf16 variant'] },
    ],
    [
      'scene job that must fit whole: 45 GB for all images goes to the 80 GB tier',
      requirement({ separable: false, imageCount: 100, oneImage: 1.9e9, wholeJob: 45e9 }),
      [A10, A100_40, H100],
      false,
      { className: 'gpu-bf16-80g', precision: 'bf16', reason: ['bf16 proven on 1 live worker(s)'] },
    ],
    [
      'minTierGb 40 skips the 24 GB cards',
      requirement({ minTierGb: 40 }),
      FULL_FLEET,
      false,
      { className: 'gpu-bf16-40g', precision: 'bf16', reason: ['bf16 proven on 3 live worker(s)'] },
    ],
    [
      'minTierGb that is not a tier rounds up to the next tier',
      requirement({ minTierGb: 30 }),
      FULL_FLEET,
      false,
      { className: 'gpu-bf16-40g', precision: 'bf16' },
    ],
    [
      'waitForCapacity: bf16 on a T4-only fleet waits on the bf16 class',
      requirement({ policy: 'bf16' }),
      [T4],
      true,
      { className: 'gpu-bf16-8g', precision: 'bf16', waiting: true, reason: ['waiting for capacity on gpu-bf16-8g', 'compute capability 7.5 < 8.0'] },
    ],
    [
      'waitForCapacity with an empty fleet: waits on the most preferred class',
      requirement({ oneImage: 30e9 }),
      [],
      true,
      { className: 'gpu-bf16-40g', precision: 'bf16', waiting: true, reason: ['no live workers are registered'] },
    ],
    [
      'waitForCapacity for a job beyond the 24 GB cards',
      requirement({ oneImage: 60e9, policy: 'fp16' }),
      [T4, A10],
      true,
      { className: 'gpu-fp16-80g', precision: 'fp16', waiting: true, reason: ['needs 60.00 GB in fp16; the largest fp16 card has 24.15 GB'] },
    ],
  ];

  it.each(routed)('%s', (_name, req, fleet, waitForCapacity, expected) => {
    const decision = route(req, fleet, { waitForCapacity });
    if (!decision.ok) throw new Error(`refused: ${decision.message}`);
    expect(decision.className).toBe(expected.className);
    expect(decision.precision).toBe(expected.precision);
    expect(decision.waiting).toBe(expected.waiting ?? false);
    for (const text of expected.reason ?? []) expect(decision.reason).toContain(text);
  });

  const refused: [string, JobRequirement, DeviceCapability[], Refused][] = [
    [
      'bf16 with only T4: compute capability names the T4 and 7.5',
      requirement({ policy: 'bf16' }),
      [T4],
      {
        resources: ['compute-capability'],
        reasons: ['NVIDIA T4: compute capability 7.5 < 8.0 required for bf16'],
        message: ['no live worker can run mistral in bf16', 'no live gpu worker proved bf16', 'compute capability 7.5 < 8.0'],
      },
    ],
    [
      'bf16 on the webgpu Hopper: its failed self-test is the reason',
      requirement({ policy: 'bf16' }),
      [WEBGPU_H100],
      { resources: ['precision'], reasons: ['bf16 not proven on webgpu (self-test: Unsupported data type: bfloat16)'], message: ['in bf16'] },
    ],
    [
      'fp32 without allowCpu on a cpu-only fleet: device',
      requirement({ policy: 'fp32' }),
      [CPU_NODE],
      {
        resources: ['device', 'device'],
        reasons: ['no live gpu worker (the fleet has only cpu workers)', 'cpu: the job does not allow cpu (allowCpu is false)'],
        message: ['no live worker can run mistral in fp32: no live gpu worker', 'cpu workers are not allowed'],
      },
    ],
    [
      'bf16 job too big for the largest bf16 card, with numbers',
      requirement({ policy: 'bf16', oneImage: 21.2e9 }),
      [T4, A4000],
      {
        resources: ['compute-capability', 'memory', 'memory'],
        reasons: ['needs 21.20 GB in bf16; NVIDIA T4 has 16.11 GB', 'needs 21.20 GB in bf16; NVIDIA RTX A4000 has 17.17 GB'],
        message: ['no live worker can run mistral in bf16: needs 21.20 GB in bf16; the largest bf16 card has 17.17 GB'],
      },
    ],
    [
      'huge job beyond the largest tier',
      requirement({ oneImage: 200e9 }),
      FULL_FLEET,
      {
        resources: ['memory', 'memory', 'device'],
        reasons: ['needs 200.00 GB in bf16; more than the largest tier (141 GB, 133.95 GB usable)', 'cpu: the job does not allow cpu'],
        message: ['no live worker can run mistral (policy auto)', 'bf16: needs 200.00 GB in bf16; more than the largest tier', 'fp16: needs 200.00 GB in fp16'],
      },
    ],
    [
      'scene job that does not fit any live card whole',
      requirement({ policy: 'bf16', separable: false, imageCount: 100, oneImage: 1.9e9, wholeJob: 45e9 }),
      [A10, RTX4090, L4, A100_40],
      {
        resources: ['memory', 'memory', 'memory', 'memory'],
        reasons: ['needs 45.00 GB in bf16 (all 100 images on one card); NVIDIA A100-SXM4-40GB has 42.95 GB'],
        message: ['needs 45.00 GB in bf16 (all 100 images on one card); the largest bf16 card has 42.95 GB'],
      },
    ],
    [
      'minTierGb above every live card',
      requirement({ policy: 'bf16', minTierGb: 80 }),
      [A10, A100_40],
      {
        resources: ['memory', 'memory'],
        reasons: ['NVIDIA A100-SXM4-40GB has 42.95 GB: below the 80 GB tier of gpu-bf16-80g (76.00 GB)'],
        message: ['needs the 80 GB tier (minTierGb 80); the largest bf16 card has 42.95 GB (tier 40)'],
      },
    ],
    [
      'empty fleet: a workers reason',
      requirement(),
      [],
      { resources: ['workers'], reasons: ['no live workers are registered'], message: ['no live worker can run mistral (policy auto): no live workers are registered'] },
    ],
    [
      'fp16 allowing cpu, but the cpu node only proved fp32',
      requirement({ policy: 'fp16', allowCpu: true }),
      [CPU_NODE],
      { resources: ['device', 'precision'], reasons: ['cpu: fp16 not proven on cpu (no self-test)'], message: ['fp16 on cpu: no live cpu worker proved fp16'] },
    ],
  ];

  it.each(refused)('refuses: %s', (_name, req, fleet, expected) => {
    const decision = route(req, fleet, { waitForCapacity: false });
    if (decision.ok) throw new Error(`routed to ${decision.className}: ${decision.reason}`);
    expect(decision.reasons.map((r) => r.resource)).toEqual(expected.resources);
    const texts = decision.reasons.map((r) => r.reason);
    for (const text of expected.reasons ?? []) expect(texts.some((t) => t.includes(text)), `${text} in ${texts.join(' | ')}`).toBe(true);
    for (const text of expected.message) expect(decision.message).toContain(text);
  });

  it.each(['auto', 'bf16', 'fp16', 'fp32'] as const)('the webgpu Hopper never gets bf16 work (policy %s)', (policy) => {
    const decision = route(requirement({ policy, allowCpu: true }), [WEBGPU_H100, CPU_NODE], { waitForCapacity: false });
    if (decision.ok) expect(decision.precision).not.toBe('bf16');
  });

  it.each([
    ['A100 80GB', A100_80],
    ['H100', H100],
  ])('a bf16 job of 45.7 GB routes to the 80 GB tier served by the %s', (_name, device) => {
    const decision = route(requirement({ policy: 'bf16', oneImage: 45.7e9 }), [A10, device], { waitForCapacity: false });
    expect(decision).toMatchObject({ ok: true, className: 'gpu-bf16-80g', waiting: false });
  });
});

describe('route when a model variant failed its check (H100 webgpu, PP-OCRv4 fp16)', () => {
  const h100 = {
    ...WEBGPU_H100,
    variantChecks: [{ model: 'mistral', precision: 'fp16' as const, passed: false, meanAbsError: 0.01036, maxAbsError: 0.99999, tolerance: { meanAbs: 0.005, maxAbs: 0.5 } }],
  };
  it('refuses fp16 and says why in the message, not a memory story', () => {
    const decision = route(requirement({ oneImage: 0.5e9, policy: 'fp16' }), [h100], { waitForCapacity: false });
    expect(decision.ok).toBe(false);
    if (!decision.ok) expect(decision.message).toMatch(/the fp16 variant of mistral failed its check against fp32 on webgpu: mean error 0\.0104/);
  });
  it('auto with allowCpu falls to fp32 on the same card, with the reason', () => {
    const decision = route(requirement({ oneImage: 0.5e9, allowCpu: true }), [h100], { waitForCapacity: false });
    expect(decision).toMatchObject({ ok: true, precision: 'fp32', className: 'gpu-fp32-8g' });
    if (decision.ok) expect(decision.reason).toMatch(/failed its check against fp32/);
  });
});
