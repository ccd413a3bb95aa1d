import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '#config';
import { ApiKeyRepository, type ApiKeyLimits } from '#queue';
import { UsageError } from '../api-client.js';
import { withRedis } from '../with-redis.js';

interface CreateOptions {
  tenant: string;
  name?: string;
  ratePerMin?: number;
  burst?: number;
  maxConcurrentJobs?: number;
  imagesPerDay?: number;
  json?: boolean;
}

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a whole number above 0');
  return n;
};

/** `gpuq keys create | revoke | list`: operator commands, straight against Redis (REDIS_URL, GPUQ_PREFIX). */
export function keysCommand(program: Command, config: Config): void {
  const keys = program.command('keys').description('API keys (operators: talks to Redis at REDIS_URL)');

  keys
    .command('create')
    .description('create a key for a tenant; the key and its webhook secret are shown once')
    .requiredOption('--tenant <name>', 'the tenant whose jobs this key submits and sees')
    .option('--name <text>', 'what the key is for')
    .option('--rate-per-min <n>', 'requests a minute (default RATE_LIMIT_PER_MIN)', positive)
    .option('--burst <n>', 'requests at once (default RATE_LIMIT_BURST)', positive)
    .option('--max-concurrent-jobs <n>', 'unfinished jobs at once (default MAX_CONCURRENT_JOBS)', positive)
    .option('--images-per-day <n>', 'images a UTC day (default MAX_IMAGES_PER_DAY)', positive)
    .option('--json', 'as JSON')
    .action(async (options: CreateOptions) => {
      const limits: ApiKeyLimits = {
        ratePerMin: options.ratePerMin, burst: options.burst, maxConcurrentJobs: options.maxConcurrentJobs, maxImagesPerDay: options.imagesPerDay,
      };
      const created = await withRedis(config, (redis, k) => new ApiKeyRepository(redis, k).create(options.tenant, {
        name: options.name, limits: Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)),
      })).catch((err: Error) => {
        throw /tenant must be/.test(err.message) ? new UsageError(err.message) : err;
      });
      if (options.json) return console.log(JSON.stringify(created, null, 2));
      console.log(created.key);
      console.error(`key ${created.record.id} for tenant ${created.record.tenant} (shown once; only its hash is stored)`);
      console.error(`webhook signing secret: ${created.webhookSecret}`);
    });

  keys
    .command('revoke')
    .description('revoke a key at once, on every API replica')
    .argument('<id>', 'the key id (the 12 characters after gpuq_)')
    .action(async (id: string) => {
      const revoked = await withRedis(config, (redis, k) => new ApiKeyRepository(redis, k).revoke(id));
      if (!revoked) throw new UsageError(`no key with id ${id} (gpuq keys list shows them)`);
      console.log(`key ${revoked.id} of tenant ${revoked.tenant} revoked at ${revoked.revokedAt}`);
    });

  keys
    .command('list')
    .description('every key: id, tenant, limits, created, revoked (never the secrets)')
    .option('--json', 'as JSON')
    .action(async (options: { json?: boolean }) => {
      const all = await withRedis(config, (redis, k) => new ApiKeyRepository(redis, k).list());
      if (options.json) return console.log(JSON.stringify(all, null, 2));
      for (const key of all) {
        console.log(`${key.id}  ${key.tenant.padEnd(16)} ${key.revokedAt ? `revoked ${key.revokedAt}` : 'live'}  ${JSON.stringify(key.limits)}  ${key.name ?? ''}`);
      }
    });
}
