import { describe, expect, it } from 'vitest';
import type { MemoryProfile } from '#contracts';
import { getManifest, runtimeLabel } from '#inference';
import type { ProfileRepository } from '#queue';
import { loadProfile } from './profile-source.js';

const manifest = getManifest('ppocr-v4-det')!;
const stored = (over: Partial<MemoryProfile>): MemoryProfile => ({
  model: manifest.id, precision: 'fp32', provider: 'webgpu', device: 'GPU', fixedBytes: 1e9, perItemBytes: 1e8,
  referencePixels: 1, marginFraction: 0.04, source: 'calibrated', points: [], updatedAt: '', ...over,
});
// Only `get` is read: the rule under test is which stored profile counts, not how Redis stores it.
const repo = (p?: MemoryProfile) => ({ get: async () => p }) as unknown as ProfileRepository;
const load = (p: MemoryProfile | undefined, provider: 'webgpu' | 'cpu' = 'webgpu') => loadProfile(repo(p), manifest, 'fp32', provider, 'GPU', 0.1);

describe('loadProfile', () => {
  it('uses a profile calibrated under this runtime', async () => {
    expect((await load(stored({ runtime: runtimeLabel('webgpu') }))).source).toBe('calibrated');
  });

  it.each<[string, Partial<MemoryProfile>]>([
    ['another buffer cache mode', { runtime: 'webgpu storageBufferCacheMode=bucket; peak=in-run' }],
    ['peaks read in the worker\'s blocked event loop (after each run)', { runtime: 'webgpu storageBufferCacheMode=lazyRelease' }],
    ['no runtime recorded (calibrated before gpuq set the mode)', {}],
    ['learned from a profile of another mode', { source: 'learned', runtime: 'webgpu storageBufferCacheMode=bucket' }],
  ])('falls back to the manifest prior (so the worker calibrates again) for %s', async (_name, over) => {
    const profile = await load(stored(over));
    expect(profile.source).toBe('manifest');
    expect(profile.marginFraction).toBe(0.1);
  });

  it('keeps a profile learned from the prior (never a measurement)', async () => {
    expect((await load(stored({ source: 'learned' }))).source).toBe('learned');
  });

  it('treats CPU profiles alike: measured by the resident high-water mark, or calibrated again', async () => {
    expect((await load(stored({ provider: 'cpu', runtime: runtimeLabel('cpu') }), 'cpu')).source).toBe('calibrated');
    expect((await load(stored({ provider: 'cpu' }), 'cpu')).source).toBe('manifest');
  });

  it('uses the prior when nothing is stored', async () => {
    expect((await load(undefined)).source).toBe('manifest');
  });
});
