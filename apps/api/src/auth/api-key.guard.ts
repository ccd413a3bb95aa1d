import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { Config } from '#config';
import { ApiKeyRepository, UsageLimits, type ApiKeyRecord } from '#queue';
import { ApiError } from '../problems/api-error.js';
import { CONFIG } from '../tokens.js';
import type { Caller, RequestWithCaller } from './caller.js';
import { IS_PUBLIC } from './public.decorator.js';

const HOW_TO_GET_A_KEY = 'create one with `gpuq keys create --tenant <name>` and send it as `Authorization: Bearer <key>`';

/**
 * Every route but `@Public()` ones needs a live API key (`Authorization: Bearer …` or `X-API-Key`), and takes
 * one request from that key's rate limit, shared by all API replicas through Redis.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyRepository,
    private readonly usage: UsageLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const req = context.switchToHttp().getRequest<Request & RequestWithCaller>();
    const res = context.switchToHttp().getResponse<Response>();
    const presented = keyOf(req);
    const challenge = { 'WWW-Authenticate': 'Bearer realm="gpuq"' };
    if (!presented) throw new ApiError('unauthorized', `no API key: ${HOW_TO_GET_A_KEY}`, {}, challenge);
    const record = await this.keys.verify(presented);
    if (!record) throw new ApiError('unauthorized', 'the API key is unknown or revoked', {}, challenge);

    const caller = this.callerOf(record);
    const { ratePerMin, burst } = caller.limits;
    const rate = await this.usage.takeRequest(record.id, ratePerMin, burst, Date.now());
    res.setHeader('RateLimit-Limit', String(ratePerMin));
    res.setHeader('RateLimit-Remaining', String(rate.remaining));
    if (!rate.allowed) {
      const retryAfterS = Math.max(1, Math.ceil(rate.retryAfterMs / 1000));
      throw new ApiError('rate-limited', `key ${record.id} is limited to ${ratePerMin} requests a minute (bursts of ${burst}); retry in ${retryAfterS} s`,
        { retryAfterS, limit: ratePerMin, burst }, { 'Retry-After': String(retryAfterS) });
    }
    req.caller = caller;
    return true;
  }

  private callerOf(record: ApiKeyRecord): Caller {
    const own = record.limits;
    return {
      keyId: record.id,
      tenant: record.tenant,
      limits: {
        ratePerMin: own.ratePerMin ?? this.config.RATE_LIMIT_PER_MIN,
        burst: own.burst ?? this.config.RATE_LIMIT_BURST,
        maxConcurrentJobs: own.maxConcurrentJobs ?? this.config.MAX_CONCURRENT_JOBS,
        maxImagesPerDay: own.maxImagesPerDay ?? this.config.MAX_IMAGES_PER_DAY,
      },
    };
  }
}

function keyOf(req: Request): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (bearer) return bearer[1];
  const header = req.headers['x-api-key'];
  return typeof header === 'string' && header.trim() ? header.trim() : undefined;
}
