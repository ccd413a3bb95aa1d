import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** Who is calling: the API key's id and tenant, and the limits that apply to it. */
export interface Caller {
  keyId: string;
  tenant: string;
  limits: { ratePerMin: number; burst: number; maxConcurrentJobs: number; maxImagesPerDay: number };
}

export interface RequestWithCaller {
  caller?: Caller;
}

/** The authenticated caller, set by ApiKeyGuard (routes without `@Public()` always have one). */
export const CallerOf = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const caller = ctx.switchToHttp().getRequest<RequestWithCaller>().caller;
  if (!caller) throw new Error('no caller on an authenticated route: is ApiKeyGuard installed?');
  return caller;
});
