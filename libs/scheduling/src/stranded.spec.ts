import { describe, expect, it } from 'vitest';
import type { DeviceCapability } from '#contracts';
import { decideStranded, type StrandedInput } from './stranded.js';
import { A10, H100, T4 } from '../test/fleet.js';
import { requirement } from '../test/requirement.js';

const MIN = 60_000;
const cpu: DeviceCapability = { source: 'probed', kind: 'cpu', provider: 'cpu', totalBytes: 32e9, provenPrecisions: ['fp32'], selfTests: [], availableProviders: ['cpu'] };
const input = (over: Partial<StrandedInput>): StrandedInput => ({
  className: 'gpu-fp16-8g', requirement: requirement({ oneImage: 2e9, imageCount: 4, policy: 'auto' }), promised: 'fp16', waitForCapacity: false,
  unservedForMs: 10 * MIN, strandedAfterMs: 5 * MIN, capacityWaitMs: 24 * 60 * MIN, fleet: [], ...over,
});

describe('decideStranded', () => {
  it('keeps a job within the bound: a restarted worker may take it', () => {
    expect(decideStranded(input({ unservedForMs: 4 * MIN, fleet: [H100] }))).toEqual({ action: 'keep' });
  });

  it('moves it to a class a live worker serves in the precision it was promised (the cpu, when the job allows it)', () => {
    const fp32 = input({ className: 'gpu-fp32-8g', promised: 'fp32', requirement: requirement({ oneImage: 1e9, imageCount: 4, policy: 'auto', allowCpu: true }), fleet: [cpu] });
    expect(decideStranded(fp32)).toMatchObject({ action: 'move', toClassName: 'cpu-fp32', why: expect.stringMatching(/^no live worker has served gpu-fp32-8g for 600 s; moved to cpu-fp32: fp32: /) });
    // Without allowCpu the cpu is no place for it.
    expect(decideStranded({ ...fp32, requirement: { ...fp32.requirement, allowCpu: false } })).toMatchObject({ action: 'fail' });
  });

  it('never changes the precision it was promised: a bf16 job does not go to an fp16 card', () => {
    const decision = decideStranded(input({ className: 'gpu-bf16-24g', promised: 'bf16', fleet: [T4] }));
    expect(decision).toMatchObject({ action: 'fail', why: expect.stringMatching(/no other class can take it in bf16/) });
    expect(decision.action === 'fail' && decision.reasons.length).toBeGreaterThan(0);
  });

  it('fails it with the reasons when no live worker could take it', () => {
    expect(decideStranded(input({ fleet: [] }))).toMatchObject({ action: 'fail', why: expect.stringMatching(/no live workers are registered/) });
  });

  it('keeps a job that asked to wait for capacity, up to its own bound', () => {
    expect(decideStranded(input({ waitForCapacity: true }))).toEqual({ action: 'keep' });
    expect(decideStranded(input({ waitForCapacity: true, unservedForMs: 25 * 60 * MIN }))).toMatchObject({ action: 'fail', why: expect.stringMatching(/^waited for capacity 90000 s \(CAPACITY_WAIT_S=86400\)/) });
  });

  it('keeps it when its own class turns out to be served', () => {
    expect(decideStranded(input({ fleet: [T4, A10, H100] }))).toEqual({ action: 'keep' });
  });
});
