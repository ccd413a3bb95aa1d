import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Redis } from 'ioredis';
import { Public } from '../auth/public.decorator.js';
import { ApiError } from '../problems/api-error.js';
import { REDIS } from '../tokens.js';

@ApiTags('health')
@Public()
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
      throw new ApiError('unavailable', `Redis does not answer: ${(err as Error).message}`);
    }
  }
}
