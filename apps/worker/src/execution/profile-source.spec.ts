import { describe, expect, it } from 'vitest';
import type { MemoryProfile } from '#contracts';
import { getManifest, runtimeLabel } from '#inference';
import type { ProfileRepository } from '#queue';
import { loadProfile } from './profile-source.js';

const manifest = getManifest('ppocr-v4-det')!;
const NOW = Date.parse('2026-05-01T12:00:00.000Z');
const HOUR = 3_600_000;
const stored = (over: Partial<MemoryProfile>): MemoryProfile => ({
  model: manifest.id, precision: 'fp32', provider: 'webgpu', device: 'GPU', deviceId: 'host-a/GPU-1', fixedBytes: 1e9, perItemBytes: 1e8,
  referencePixels: 1, marginFraction: 0.04, source: 'calibrated', points: [], updatedAt: new Date(NOW - HOUR).toISOString(), ...over,
});
// Only `get` is read: the rule under test is which stored profile counts, not how Redis stores it.
const repo = (p?: MemoryProfile) => ({ get: async () => p }) as unknown as ProfileRepository;
const load = (p: MemoryProfile | undefined, provider: 'webgpu' | 'cpu' = 'webgpu') =>
  loadProfile(repo(p), { manifest, precision: 'fp32', provider, device: 'GPU', deviceId: 'host-a/GPU-1', marginFraction: 0.1, nowMs: NOW, learnedTtlMs: 6 * HOUR });

describe('loadProfile', () => {
  it('uses a profile calibrated under this runtime', async () => {
    expect(await load(stored({ runtime: runtimeLabel('webgpu') }))).toMatchObject({ stored: true, profile: { source: 'calibrated' } });
  });

  it.each<[string, Partial<MemoryProfile>]>([
    ['another buffer cache mode', { runtime: 'webgpu storageBufferCacheMode=bucket; peak=in-run' }],
    ['peaks read in the worker\'s blocked event loop (after each run)', { runtime: 'webgpu storageBufferCacheMode=lazyRelease' }],
    ['no runtime recorded (calibrated before gpuq set the mode)', {}],
    ['learned from a profile of another mode', { source: 'learned', runtime: 'webgpu storageBufferCacheMode=bucket' }],
    ['learned after an OOM more than LEARNED_PROFILE_TTL_S ago', { source: 'learned', capBatch: 2, updatedAt: new Date(NOW - 7 * HOUR).toISOString() }],
    ['a prior kept after a failed calibration, more than LEARNED_PROFILE_TTL_S ago', { source: 'manifest', calibrationError: 'out of memory at 1', updatedAt: new Date(NOW - 7 * HOUR).toISOString() }],
  ])('falls back to the manifest prior (so the worker measures again) for %s', async (_name, over) => {
    const { profile, stored: kept } = await load(stored(over));
    expect(kept).toBe(false);
    expect(profile).toMatchObject({ source: 'manifest', marginFraction: 0.1, deviceId: 'host-a/GPU-1' });
    expect(profile.capBatch).toBeUndefined();
  });

  it('keeps a learned cap while it is fresh', async () => {
    expect(await load(stored({ source: 'learned', capBatch: 2 }))).toMatchObject({ stored: true, profile: { source: 'learned', capBatch: 2 } });
  });

  it('keeps a prior stored after a failed calibration while it is fresh: no calibration on every job', async () => {
    expect(await load(stored({ source: 'manifest', calibrationError: 'out of memory' }))).toMatchObject({ stored: true, profile: { calibrationError: 'out of memory' } });
  });

  it('treats CPU profiles alike: measured by the resident high-water mark, or calibrated again', async () => {
    expect((await load(stored({ provider: 'cpu', runtime: runtimeLabel('cpu') }), 'cpu')).profile.source).toBe('calibrated');
    expect((await load(stored({ provider: 'cpu' }), 'cpu')).profile.source).toBe('manifest');
  });

  it('uses the prior when nothing is stored', async () => {
    expect(await load(undefined)).toMatchObject({ stored: false, profile: { source: 'manifest' } });
  });
});
