import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** Limits a key may set for itself; unset ones take the server's defaults. */
export interface ApiKeyLimits {
  ratePerMin?: number;
  burst?: number;
  maxConcurrentJobs?: number;
  maxImagesPerDay?: number;
}

/** An API key as stored: the secret only as a hash. */
export interface ApiKeyRecord {
  id: string;
  tenant: string;
  name?: string;
  /** SHA-256 of the key's secret part, hex. */
  secretHash: string;
  /** Signs this key's webhooks (HMAC-SHA256); shown once, at creation. */
  webhookSecret: string;
  limits: ApiKeyLimits;
  createdAt: string;
  revokedAt?: string;
}

/** What may be shown of a key after its creation: no hash, no webhook secret. */
export type ApiKeyView = Omit<ApiKeyRecord, 'secretHash' | 'webhookSecret'>;

export const TENANT_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$/;
const KEY_PATTERN = /^gpuq_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * API keys, `gpuq_<id>_<secret>`: the id finds the record, the secret is compared by its SHA-256 in constant
 * time. A fast hash is enough because the secret is 256 random bits, not a password anyone could guess.
 */
export class ApiKeyRepository {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}

  /** Creates a key for `tenant`; the returned `key` and `webhookSecret` are never shown again. */
  async create(tenant: string, opts: { name?: string; limits?: ApiKeyLimits } = {}): Promise<{ key: string; webhookSecret: string; record: ApiKeyView }> {
    if (!TENANT_PATTERN.test(tenant)) throw new Error(`tenant must be 1-63 letters, digits, "_" or "-", starting with a letter or digit (got ${JSON.stringify(tenant)})`);
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const record: ApiKeyRecord = {
      id, tenant, name: opts.name, secretHash: sha256(secret), webhookSecret: `whsec_${randomBytes(24).toString('base64url')}`,
      limits: opts.limits ?? {}, createdAt: new Date().toISOString(),
    };
    await this.redis.hset(this.keys.apiKeys(), id, JSON.stringify(record));
    return { key: `gpuq_${id}_${secret}`, webhookSecret: record.webhookSecret, record: view(record) };
  }

  /** The key's record when `key` is a live key; undefined for anything else (unknown, revoked, malformed). */
  async verify(key: string): Promise<ApiKeyRecord | undefined> {
    const match = KEY_PATTERN.exec(key);
    if (!match) return undefined;
    const record = await this.get(match[1]!);
    if (!record || record.revokedAt) return undefined;
    const given = Buffer.from(sha256(match[2]!), 'hex');
    const stored = Buffer.from(record.secretHash, 'hex');
    return given.length === stored.length && timingSafeEqual(given, stored) ? record : undefined;
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const raw = await this.redis.hget(this.keys.apiKeys(), id);
    return raw ? (JSON.parse(raw) as ApiKeyRecord) : undefined;
  }

  /** Revokes a key at once for every API replica; its record stays (its jobs' webhooks are still signed). */
  async revoke(id: string): Promise<ApiKeyView | undefined> {
    const record = await this.get(id);
    if (!record) return undefined;
    if (!record.revokedAt) {
      record.revokedAt = new Date().toISOString();
      await this.redis.hset(this.keys.apiKeys(), id, JSON.stringify(record));
    }
    return view(record);
  }

  async list(): Promise<ApiKeyView[]> {
    const all = await this.redis.hvals(this.keys.apiKeys());
    return all.map((raw) => view(JSON.parse(raw) as ApiKeyRecord)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
}

function view({ secretHash, webhookSecret, ...rest }: ApiKeyRecord): ApiKeyView {
  return rest;
}
