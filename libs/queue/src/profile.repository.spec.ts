import { afterAll, describe, expect, inject, it } from 'vitest';
import type { MemoryProfile } from '#contracts';
import { Keys } from './keys.js';
import { ProfileRepository } from './profile.repository.js';
import { createRedis } from './redis-connection.js';

const profile = (deviceId: string | undefined, over: Partial<MemoryProfile> = {}): MemoryProfile => ({
  model: 'ppocr-v4-det', precision: 'fp16', provider: 'cuda', device: 'NVIDIA H200', deviceId, fixedBytes: 5e8, perItemBytes: 1e8,
  referencePixels: 921_600, marginFraction: 0.04, source: 'calibrated', points: [], updatedAt: new Date().toISOString(), ...over,
});

describe('memory profiles belong to one device instance (real Redis)', () => {
  const redis = createRedis(inject('redisUrl'));
  const profiles = new ProfileRepository(redis, new Keys(`t${Date.now().toString(36)}p`));
  afterAll(() => redis.disconnect());

  it('an OOM learned on one card never caps another card of the same name', async () => {
    await profiles.put(profile('gpu-host-1/GPU-aaaa'));
    await profiles.put(profile('gpu-host-1/GPU-bbbb'));
    await profiles.put(profile('gpu-host-1/GPU-aaaa', { source: 'learned', capBatch: 3 }));
    expect(await profiles.get('ppocr-v4-det', 'fp16', 'cuda', 'gpu-host-1/GPU-aaaa')).toMatchObject({ source: 'learned', capBatch: 3 });
    expect(await profiles.get('ppocr-v4-det', 'fp16', 'cuda', 'gpu-host-1/GPU-bbbb')).toMatchObject({ source: 'calibrated' });
    expect(await profiles.get('ppocr-v4-det', 'fp16', 'cuda', 'gpu-host-2/GPU-aaaa')).toBeUndefined();
    expect((await profiles.list()).map((p) => p.deviceId).sort()).toEqual(['gpu-host-1/GPU-aaaa', 'gpu-host-1/GPU-bbbb']);
  });

  it('refuses a profile that does not say which card it belongs to', async () => {
    await expect(profiles.put(profile(undefined))).rejects.toThrow(/has no deviceId/);
  });
});
