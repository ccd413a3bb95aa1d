import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { Config } from '#config';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { CoreModule } from './core.module.js';
import { FleetController } from './fleet/fleet.controller.js';
import { HealthController } from './health/health.controller.js';
import { JobsModule } from './jobs/jobs.module.js';
import { ModelsController } from './models/models.controller.js';
import { UsageController } from './usage/usage.controller.js';

@Module({})
export class AppModule {
  static forConfig(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forConfig(config), JobsModule],
      controllers: [FleetController, ModelsController, UsageController, HealthController],
      // Every route needs an API key unless marked @Public().
      providers: [{ provide: APP_GUARD, useClass: ApiKeyGuard }],
    };
  }
}
