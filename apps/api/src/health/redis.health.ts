import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { REDIS } from '../tokens.js';

/** A second without an answer counts as down: readiness must answer quickly, not hang with Redis. */
const PING_TIMEOUT_MS = 1000;

/** Redis answers a PING in time: without it the API can neither accept nor show a job. */
@Injectable()
export class RedisHealthIndicator {
  constructor(@Inject(REDIS) private readonly redis: Redis, private readonly health: HealthIndicatorService) {}

  async isHealthy(key = 'redis') {
    const check = this.health.check(key);
    const started = Date.now();
    try {
      await Promise.race([this.redis.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS))]);
      return check.up({ ms: Date.now() - started });
    } catch (err) {
      return check.down({ message: (err as Error).message });
    }
  }
}
