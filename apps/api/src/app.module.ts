import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { Config, Logger } from '#config';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { CoreModule } from './core.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { FleetController } from './fleet/fleet.controller.js';
import { HealthModule } from './health/health.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { ModelsController } from './models/models.controller.js';
import { UsageController } from './usage/usage.controller.js';

@Module({})
export class AppModule {
  static forConfig(config: Config, log: Logger): DynamicModule {
    return {
      module: AppModule,
      // The dashboard exists only with an operator password: no password, no route that could show every tenant.
      imports: [CoreModule.forConfig(config, log), JobsModule, HealthModule, MetricsModule, ...(config.DASHBOARD_PASSWORD ? [DashboardModule] : [])],
      controllers: [FleetController, ModelsController, UsageController],
      // Every route needs an API key unless marked @Public().
      providers: [{ provide: APP_GUARD, useClass: ApiKeyGuard }],
    };
  }
}
