import { Controller, Get, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Redis } from 'ioredis';
import { REDIS } from '../tokens.js';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up' })
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Redis answers: the API can accept jobs' })
  async ready() {
    try {
      const started = Date.now();
      await Promise.race([this.redis.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000))]);
      return { status: 'ok', redisMs: Date.now() - started };
    } catch (err) {
      throw new HttpException({ status: 'unavailable', redis: (err as Error).message }, HttpStatus.SERVICE_UNAVAILABLE);
    }
  }
}
