import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ClassQueues, JobRecordRepository, ProfileRepository, WorkerRegistry } from '#queue';
import { CallerOf, type Caller } from '../auth/caller.js';

@ApiTags('fleet')
@Controller('v1')
export class FleetController {
  constructor(
    private readonly registry: WorkerRegistry,
    private readonly queues: ClassQueues,
    private readonly profiles: ProfileRepository,
    private readonly jobs: JobRecordRepository,
  ) {}

  @Get('workers')
  @ApiOperation({ operationId: 'listWorkers', summary: 'Live workers: device, proven precisions (probed or declared), classes, free VRAM, your running jobs' })
  async workers(@CallerOf() caller: Caller) {
    const workers = await this.registry.list();
    // Workers are shared; the jobs on them are not: each tenant sees only its own ids.
    const running = [...new Set(workers.flatMap((w) => w.runningJobs))];
    const owners = await Promise.all(running.map((id) => this.jobs.ownerOf(id)));
    const own = new Set(running.filter((_, i) => owners[i] === caller.tenant));
    return workers.map((w) => ({ ...w, runningJobs: w.runningJobs.filter((id) => own.has(id)) }));
  }

  @Get('classes')
  @ApiOperation({ operationId: 'listClasses', summary: 'Depth of every capability-class queue' })
  classes() {
    return this.queues.depths();
  }

  @Get('profiles')
  @ApiOperation({ operationId: 'listProfiles', summary: 'Every memory profile, as JSON (export)' })
  memoryProfiles() {
    return this.profiles.list();
  }
}
