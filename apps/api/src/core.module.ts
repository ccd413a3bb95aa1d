import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { FsBlobStore } from '#blobs';
import { createLogger, type Config } from '#config';
import { ClassQueues, createRedis, JobRecordRepository, Keys, ProfileRepository, WorkerRegistry } from '#queue';
import { BLOB_STORE, CONFIG, LOGGER, REDIS } from './tokens.js';

/**
 * Every external system the API talks to, each behind one repository. Built from the validated config
 * handed in by `main.ts`, so nothing here reads the environment.
 */
@Global()
@Module({})
export class CoreModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis, private readonly queues: ClassQueues) {}

  static forConfig(config: Config) {
    return {
      module: CoreModule,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: createLogger('api', config.LOG_LEVEL) },
        { provide: REDIS, useFactory: () => createRedis(config.REDIS_URL) },
        { provide: Keys, useValue: new Keys(config.GPUQ_PREFIX) },
        { provide: BLOB_STORE, useValue: new FsBlobStore(config.BLOB_DIR) },
        { provide: JobRecordRepository, inject: [REDIS, Keys], useFactory: (r: Redis, k: Keys) => new JobRecordRepository(r, k) },
        { provide: ClassQueues, inject: [REDIS, Keys], useFactory: (r: Redis, k: Keys) => new ClassQueues(r, k) },
        { provide: WorkerRegistry, inject: [REDIS, Keys], useFactory: (r: Redis, k: Keys) => new WorkerRegistry(r, k) },
        { provide: ProfileRepository, inject: [REDIS, Keys], useFactory: (r: Redis, k: Keys) => new ProfileRepository(r, k) },
      ],
      exports: [CONFIG, LOGGER, REDIS, Keys, BLOB_STORE, JobRecordRepository, ClassQueues, WorkerRegistry, ProfileRepository],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queues.close();
    this.redis.disconnect();
  }
}
