import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { listManifests } from '#models';

@ApiTags('models')
@Controller('v1/models')
export class ModelsController {
  @Get()
  @ApiOperation({ operationId: 'listModels', summary: 'Built-in models and their input specs' })
  list() {
    return listManifests().map(({ files, ...manifest }) => manifest);
  }
}
