import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { LOCAL_KEY_FILE, readLocalKey, type Config } from '#config';
import { ApiKeyRepository, createRedis, Keys, waitForRedis } from '#queue';

const LOCAL_TENANT = 'local';

/** Reuses the key in .data/api-key while it is live; otherwise creates one for tenant `local` and writes it there (mode 600). */
export async function ensureLocalKey(config: Config): Promise<{ tenant: string; created: boolean }> {
  const redis = createRedis(config.REDIS_URL);
  try {
    await waitForRedis(redis, 5000);
    const keys = new ApiKeyRepository(redis, new Keys(config.GPUQ_PREFIX));
    const existing = readLocalKey();
    const live = existing ? await keys.verify(existing) : undefined;
    if (live) return { tenant: live.tenant, created: false };
    const { key } = await keys.create(LOCAL_TENANT, { name: 'npm start' });
    mkdirSync(dirname(LOCAL_KEY_FILE), { recursive: true });
    writeFileSync(LOCAL_KEY_FILE, `${key}\n`, { mode: 0o600 });
    return { tenant: LOCAL_TENANT, created: true };
  } finally {
    redis.disconnect();
  }
}
