import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { createBlobStore } from '#blobs';
import type { Config, Logger } from '#config';
import {
  ApiKeyRepository, ClassQueues, createRedis, JobRecordRepository, JobRetention, Keys, PlacementOutbox, ProfileRepository, StrandedJobs, UsageLimits, WebhookQueue, WorkerRegistry,
} from '#queue';
import { BLOB_STORE, CONFIG, LOGGER, REDIS } from './tokens.js';

/**
 * Every external system the API talks to, each behind one repository. Built from the validated config
 * handed in by `main.ts`, so nothing here reads the environment.
 */
@Global()
@Module({})
export class CoreModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis, private readonly queues: ClassQueues) {}

  static forConfig(config: Config, log: Logger) {
    return {
      module: CoreModule,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: log },
        { provide: REDIS, useFactory: () => createRedis(config.REDIS_URL) },
        { provide: Keys, useValue: new Keys(config.GPUQ_PREFIX) },
        { provide: BLOB_STORE, useFactory: () => createBlobStore(config) },
        { provide: JobRecordRepository, inject: [REDIS, Keys], useFactory: (r: Redis, k: Keys) => new JobRecordRepository(r, k) },
        { provide: ClassQueues, inject: [REDIS, Keys], useFactory: (r: Redis, k: Keys) => new ClassQueues(r, k) },
        { provide: WorkerRegistry, inject: [REDIS, Keys], useFactory: (r: Redis, k: Keys) => new WorkerRegistry(r, k) },
        { provide: PlacementOutbox, inject: [REDIS, Keys, ClassQueues], useFactory: (r: Redis, k: Keys, q: ClassQueues) => new PlacementOutbox(r, k, q) },
        {
          provide: StrandedJobs, inject: [REDIS, Keys, ClassQueues, JobRecordRepository, PlacementOutbox],
          useFactory: (r: Redis, k: Keys, q: ClassQueues, j: JobRecordRepository, o: PlacementOutbox) => new StrandedJobs(r, k, q, j, o),
        },
        { provide: JobRetention, inject: [REDIS, Keys, JobRecordRepository], useFactory: (r: Redis, k: Keys, j: JobRecordRepository) => new JobRetention(r, k, j) },
        { provide: ProfileRepository, inject: [REDIS, Keys], useFactory: (r: Redis, k: Keys) => new ProfileRepository(r, k) },
        { provide: ApiKeyRepository, inject: [REDIS, Keys], useFactory: (r: Redis, k: Keys) => new ApiKeyRepository(r, k) },
        {
          provide: UsageLimits, inject: [REDIS, Keys, JobRecordRepository],
          useFactory: (r: Redis, k: Keys, jobs: JobRecordRepository) => new UsageLimits(r, k, (ids) => jobs.states(ids)),
        },
        {
          provide: WebhookQueue, inject: [REDIS, Keys],
          useFactory: (r: Redis, k: Keys) => new WebhookQueue(r, k, { attempts: config.WEBHOOK_MAX_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF_MS }),
        },
      ],
      exports: [
        CONFIG, LOGGER, REDIS, Keys, BLOB_STORE, JobRecordRepository, ClassQueues, WorkerRegistry, ProfileRepository, ApiKeyRepository, UsageLimits, WebhookQueue,
        PlacementOutbox, StrandedJobs, JobRetention,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queues.close();
    this.redis.disconnect();
  }
}
