import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { UsageLimits } from '#queue';
import { CallerOf, type Caller } from '../auth/caller.js';

@ApiTags('usage')
@Controller('v1/usage')
export class UsageController {
  constructor(private readonly usage: UsageLimits) {}

  @Get()
  @ApiOperation({ operationId: 'getUsage', summary: "Your key's limits and what is used of them now: unfinished jobs, images today (UTC)" })
  async get(@CallerOf() caller: Caller) {
    const now = new Date();
    const [activeJobs, imagesToday] = await Promise.all([this.usage.activeJobs(caller.keyId, now.getTime()), this.usage.imagesToday(caller.keyId, now)]);
    return { keyId: caller.keyId, tenant: caller.tenant, limits: caller.limits, activeJobs, imagesToday };
  }
}
