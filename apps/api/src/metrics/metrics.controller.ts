import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/public.decorator.js';
import { ApiMetrics } from './api-metrics.js';

/** Prometheus scrapes without a key, as it does everywhere: keep /metrics on the cluster network, off the public ingress. */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: ApiMetrics) {}

  @Get()
  async scrape(@Res() res: Response) {
    const { contentType, body } = await this.metrics.exposition();
    res.type(contentType).send(body);
  }
}
