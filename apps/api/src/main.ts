import { createLogger, loadConfig } from '#config';
import { createRedis, waitForRedis } from '#queue';
import type { BlobStore } from '#blobs';
import { createApi } from './bootstrap.js';
import { warnUnlessNoEviction } from './redis-policy.js';
import { BLOB_STORE } from './tokens.js';

const log = createLogger('api');
try {
  const config = loadConfig();
  const probe = createRedis(config.REDIS_URL, { lazyConnect: true, retryStrategy: () => null });
  await probe.connect().catch(() => undefined);
  await waitForRedis(probe, 5000);
  await warnUnlessNoEviction(probe, log);
  probe.disconnect();
  const app = await createApi(config);
  // A store that cannot be written (no bucket, bad credentials) fails start-up, not the first submit.
  await app.get<BlobStore>(BLOB_STORE).ready();
  await app.listen(config.API_PORT, config.API_HOST);
  log.info({ url: `http://${config.API_HOST}:${config.API_PORT}`, docs: '/docs' }, 'api listening');
} catch (err) {
  log.fatal({ err: (err as Error).message }, 'api failed to start');
  process.exit(1);
}
