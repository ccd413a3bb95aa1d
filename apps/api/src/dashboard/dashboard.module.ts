import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { DashboardApiController } from './dashboard-api.controller.js';
import { DashboardAuthModule } from './dashboard-auth.module.js';
import { DashboardController } from './dashboard.controller.js';
import { QueueBoardModule } from './queue-board.module.js';

/** The operators' dashboard: gpuq's fleet view and job pages, and bull-board for the queues, behind one login. */
@Module({
  imports: [DashboardAuthModule, MetricsModule, QueueBoardModule],
  controllers: [DashboardController, DashboardApiController],
})
export class DashboardModule {}
