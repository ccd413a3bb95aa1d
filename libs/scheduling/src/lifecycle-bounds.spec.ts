import { describe, expect, it } from 'vitest';
import type { MemoryProfile } from '#contracts';
import { deviceInstanceId } from './device-instance.js';
import { needsRemeasure } from './profile-freshness.js';
import { MAX_BACKOFF_MS, transientBackoffMs } from './retry-backoff.js';
import { checkWait } from './wait-limit.js';
import { T4 } from '../test/fleet.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-05-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('transientBackoffMs', () => {
  it.each([
    ['the first retry waits the base', 1, 500],
    ['then it doubles', 2, 1000],
    ['and doubles again', 4, 4000],
  ])('%s', (_name, attempt, ms) => expect(transientBackoffMs(attempt, 4, 500)).toBe(ms));

  it('gives up past the retries allowed', () => expect(transientBackoffMs(5, 4, 500)).toBeUndefined());
  it('never waits more than the cap', () => expect(transientBackoffMs(20, 30, 500)).toBe(MAX_BACKOFF_MS));
  it('with no retries allowed, gives up at once', () => expect(transientBackoffMs(1, 0, 500)).toBeUndefined());
});

describe('checkWait', () => {
  it.each([
    ['a job that starts waiting now', undefined, { exceeded: false, waitedMs: 0 }],
    ['within the limit', iso(NOW - 599_000), { exceeded: false, waitedMs: 599_000 }],
    ['at the limit', iso(NOW - 600_000), { exceeded: true, waitedMs: 600_000 }],
    ['past it', iso(NOW - 3 * HOUR), { exceeded: true, waitedMs: 3 * HOUR }],
  ])('%s', (_name, since, expected) => expect(checkWait(since, NOW, 600_000)).toEqual(expected));
});

describe('needsRemeasure', () => {
  const profile = (over: Partial<MemoryProfile>): MemoryProfile => ({
    model: 'm', precision: 'fp16', provider: 'cuda', device: 'NVIDIA T4', fixedBytes: 1, perItemBytes: 1, referencePixels: 1, marginFraction: 0.04,
    source: 'calibrated', points: [], updatedAt: iso(NOW - 100 * HOUR), ...over,
  });
  it.each<[string, Partial<MemoryProfile>, boolean]>([
    ['a calibrated profile stands', {}, false],
    ['a cap learned an hour ago stands', { source: 'learned', capBatch: 3, updatedAt: iso(NOW - HOUR) }, false],
    ['a cap learned seven hours ago is measured again', { source: 'learned', capBatch: 3, updatedAt: iso(NOW - 7 * HOUR) }, true],
    ['a prior kept after a failed calibration, fresh', { source: 'manifest', calibrationError: 'oom', updatedAt: iso(NOW - HOUR) }, false],
    ['a prior kept after a failed calibration, old', { source: 'manifest', calibrationError: 'oom', updatedAt: iso(NOW - 6 * HOUR) }, true],
    ['a learned profile with no readable time', { source: 'learned', updatedAt: '' }, true],
  ])('%s', (_name, over, expected) => expect(needsRemeasure(profile(over), NOW, 6 * HOUR)).toBe(expected));
});

describe('deviceInstanceId', () => {
  it('is the host and the GPU UUID: two cards of one name are two devices', () => {
    const other = { ...T4, gpu: { ...T4.gpu!, uuid: 'GPU-other' } };
    expect(deviceInstanceId(T4, 'host-a')).toBe('host-a/GPU-NVIDIA T4');
    expect(deviceInstanceId(other, 'host-a')).not.toBe(deviceInstanceId(T4, 'host-a'));
    expect(deviceInstanceId(T4, 'host-b')).not.toBe(deviceInstanceId(T4, 'host-a'));
  });

  it('is the host and cpu for a CPU', () => expect(deviceInstanceId({ gpu: undefined }, 'host-a')).toBe('host-a/cpu'));
});
