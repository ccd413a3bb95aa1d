import type { Redis } from 'ioredis';
import type { MemoryProfile } from '#contracts';
import type { Keys } from './keys.js';
import { scanKeys } from './redis-connection.js';

/** Memory profiles per (model, precision, provider, device), shared by every worker of the same card. */
export class ProfileRepository {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}

  private keyOf(p: Pick<MemoryProfile, 'model' | 'precision' | 'provider' | 'device'>): string {
    return this.keys.profile(p.model, p.precision, p.provider, p.device);
  }

  async get(model: string, precision: string, provider: string, device: string): Promise<MemoryProfile | undefined> {
    const raw = await this.redis.get(this.keys.profile(model, precision, provider, device));
    return raw ? (JSON.parse(raw) as MemoryProfile) : undefined;
  }

  async put(profile: MemoryProfile): Promise<void> {
    await this.redis.set(this.keyOf(profile), JSON.stringify(profile));
  }

  /** Every stored profile, for export as JSON. */
  async list(): Promise<MemoryProfile[]> {
    const keys = await scanKeys(this.redis, this.keys.profilePattern());
    if (keys.length === 0) return [];
    return (await this.redis.mget(...keys)).filter((v): v is string => !!v).map((v) => JSON.parse(v) as MemoryProfile);
  }
}
