import type { Redis } from 'ioredis';
import type { MemoryProfile } from '#contracts';
import type { Keys } from './keys.js';
import { scanKeys } from './redis-connection.js';

/**
 * Memory profiles per (model, precision, provider, device instance): every worker process on one card (a
 * restarted one too) shares it, a second card of the same name has its own.
 */
export class ProfileRepository {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}

  async get(model: string, precision: string, provider: string, deviceId: string): Promise<MemoryProfile | undefined> {
    const raw = await this.redis.get(this.keys.profile(model, precision, provider, deviceId));
    return raw ? (JSON.parse(raw) as MemoryProfile) : undefined;
  }

  /** Stores a profile under its device instance (`deviceId` must be set). */
  async put(profile: MemoryProfile): Promise<void> {
    if (!profile.deviceId) throw new Error(`profile of ${profile.model} in ${profile.precision} on ${profile.device} has no deviceId: cannot tell which card it belongs to`);
    await this.redis.set(this.keys.profile(profile.model, profile.precision, profile.provider, profile.deviceId), JSON.stringify(profile));
  }

  /** Every stored profile, for export as JSON. */
  async list(): Promise<MemoryProfile[]> {
    const keys = await scanKeys(this.redis, this.keys.profilePattern());
    if (keys.length === 0) return [];
    return (await this.redis.mget(...keys)).filter((v): v is string => !!v).map((v) => JSON.parse(v) as MemoryProfile);
  }
}
