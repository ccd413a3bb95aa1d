import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ClassQueues, ProfileRepository, WorkerRegistry } from '#queue';

@ApiTags('fleet')
@Controller('v1')
export class FleetController {
  constructor(
    private readonly registry: WorkerRegistry,
    private readonly queues: ClassQueues,
    private readonly profiles: ProfileRepository,
  ) {}

  @Get('workers')
  @ApiOperation({ summary: 'Live workers: device, proven precisions (probed or declared), classes, free VRAM, running jobs' })
  workers() {
    return this.registry.list();
  }

  @Get('classes')
  @ApiOperation({ summary: 'Depth of every capability-class queue' })
  classes() {
    return this.queues.depths();
  }

  @Get('profiles')
  @ApiOperation({ summary: 'Every memory profile, as JSON (export)' })
  memoryProfiles() {
    return this.profiles.list();
  }
}
