import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { FilesInterceptor } from '@nestjs/platform-express';
import { ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { JobRecordRepository } from '#queue';
import { notFound } from './api-errors.js';
import { CancelJobService } from './cancel-job.service.js';
import { SubmitJobService, type UploadedImage } from './submit-job.service.js';

@ApiTags('jobs')
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly submitJob: SubmitJobService,
    private readonly cancelJob: CancelJobService,
    private readonly jobs: JobRecordRepository,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Submit images for inference; returns the job id at once' })
  @ApiConsumes('multipart/form-data')
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'resubmitting with the same key returns the first job' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['images'],
      properties: {
        images: { type: 'array', items: { type: 'string', format: 'binary' } },
        model: { type: 'string', default: 'ppocr-v4-det' },
        precision: { type: 'string', enum: ['auto', 'bf16', 'fp16', 'fp32'], default: 'auto' },
        priority: { type: 'integer', minimum: 0, maximum: 10, default: 5 },
        allowCpu: { type: 'boolean', default: false },
        waitForCapacity: { type: 'boolean', default: false },
      },
    },
  })
  // Size and count limits come from MulterModule (jobs.module.ts), built from the validated config.
  @UseInterceptors(FilesInterceptor('images'))
  submit(
    @Body() body: Record<string, unknown>,
    @UploadedFiles() files: UploadedImage[] | undefined,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    return this.submitJob.execute({ ...body }, files ?? [], idempotencyKey);
  }

  @Get()
  @ApiOperation({ summary: 'Recent jobs, newest first' })
  async list(@Query('limit') limit = '50') {
    const ids = await this.jobs.listIds(Math.max(1, Math.min(500, Number(limit) || 50)));
    const records = await Promise.all(ids.map((id) => this.jobs.get(id)));
    return records.filter((r) => r !== undefined).map(({ images, requirement, events, ...summary }) => summary);
  }

  @Get(':id')
  @ApiOperation({ summary: 'State, progress, precision decision, placements, events, timings, error' })
  async get(@Param('id') id: string) {
    const record = await this.jobs.get(id);
    if (!record) throw notFound(`job ${id}`);
    return record;
  }

  @Get(':id/results')
  @ApiOperation({ summary: 'Per image: text boxes, scores, and the precision and provider that ran it' })
  async results(@Param('id') id: string) {
    const record = await this.jobs.get(id);
    if (!record) throw notFound(`job ${id}`);
    const results = await this.jobs.getResults(id);
    return { id, state: record.state, progress: record.progress, precision: record.precision, results };
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Cancel: queued jobs are removed; running jobs stop at the next batch boundary' })
  cancel(@Param('id') id: string) {
    return this.cancelJob.execute(id);
  }
}
