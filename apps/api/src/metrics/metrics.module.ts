import { Module } from '@nestjs/common';
import { ApiMetrics } from './api-metrics.js';
import { FleetSnapshots } from './fleet-snapshot.js';
import { MetricsController } from './metrics.controller.js';

@Module({
  controllers: [MetricsController],
  providers: [FleetSnapshots, ApiMetrics],
  exports: [FleetSnapshots],
})
export class MetricsModule {}
