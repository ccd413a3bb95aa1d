import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public } from '../auth/public.decorator.js';
import { ApiError } from '../problems/api-error.js';
import { RedisHealthIndicator } from './redis.health.js';

/** Liveness and readiness for orchestrators (Kubernetes probes, compose health checks); no key needed. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthCheckService, private readonly redis: RedisHealthIndicator) {}

  @Get('live')
  @ApiOperation({ summary: 'The process answers (restart it when it does not)' })
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @ApiOperation({ summary: 'Redis answers: the API can accept jobs (send it traffic)' })
  @HealthCheck()
  async ready() {
    try {
      return await this.health.check([() => this.redis.isHealthy()]);
    } catch (err) {
      // Terminus answers 503 with what is down; the API's errors are problem documents, with the same details.
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const details = (err.getResponse() as { error?: Record<string, { message?: string }> }).error ?? {};
      const why = Object.entries(details).map(([name, d]) => `${name}: ${d.message ?? 'down'}`).join('; ');
      throw new ApiError('unavailable', `not ready: ${why}`, { checks: details });
    }
  }
}
