import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, Res, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { JobRecordRepository } from '#queue';
import { CallerOf, type Caller } from '../auth/caller.js';
import { UploadInterceptor } from '../uploads/upload.interceptor.js';
import { CancelJobService } from './cancel-job.service.js';
import type { UploadedFile } from './image-intake.js';
import { JobAccess } from './job-access.js';
import { JobStream } from './job-stream.js';
import { SubmitJobService } from './submit-job.service.js';

@ApiTags('jobs')
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly submitJob: SubmitJobService,
    private readonly cancelJob: CancelJobService,
    private readonly jobs: JobRecordRepository,
    private readonly access: JobAccess,
    private readonly stream: JobStream,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ operationId: 'submitJob', summary: 'Submit images for inference; returns the job id at once' })
  @ApiConsumes('multipart/form-data')
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'the same request again under the same key (per tenant) returns the first job; another request under it is a 409' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['images'],
      properties: {
        images: { type: 'array', items: { type: 'string', format: 'binary' } },
        model: { type: 'string', default: 'ppocr-v4-det' },
        precision: { type: 'string', enum: ['auto', 'bf16', 'fp16', 'fp32'], default: 'auto' },
        priority: { type: 'integer', minimum: 0, maximum: 10, default: 5 },
        allowCpu: { type: 'boolean', description: 'default: the server\'s CPU_FALLBACK' },
        waitForCapacity: { type: 'boolean', default: false },
        webhookUrl: { type: 'string', format: 'uri', description: 'POSTed, signed (Gpuq-Signature), when the job finishes' },
      },
    },
  })
  @UseInterceptors(UploadInterceptor)
  submit(
    @CallerOf() caller: Caller,
    @Body() body: Record<string, unknown>,
    @UploadedFiles() files: UploadedFile[] | undefined,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    return this.submitJob.execute(caller, { ...body }, files ?? [], idempotencyKey);
  }

  @Get()
  @ApiOperation({ operationId: 'listJobs', summary: 'Your recent jobs, newest first' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } })
  async list(@CallerOf() caller: Caller, @Query('limit') limit = '50') {
    const ids = await this.jobs.listIds(Math.max(1, Math.min(500, Number(limit) || 50)), 0, caller.tenant);
    const records = await Promise.all(ids.map((id) => this.jobs.get(id)));
    return records.filter((r) => r !== undefined).map(({ images, requirement, events, ...summary }) => summary);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getJob', summary: 'State, progress, precision decision, placements, events, timings, error' })
  get(@CallerOf() caller: Caller, @Param('id') id: string) {
    return this.access.record(id, caller);
  }

  @Get(':id/results')
  @ApiOperation({ operationId: 'getResults', summary: 'Per image: text boxes, scores, and the precision and provider that ran it' })
  async results(@CallerOf() caller: Caller, @Param('id') id: string) {
    const record = await this.access.record(id, caller);
    const results = await this.jobs.getResults(id);
    return { id, state: record.state, progress: record.progress, precision: record.precision, results };
  }

  @Get(':id/events')
  @ApiOperation({ operationId: 'streamJob', summary: 'Server-sent events: job, progress, event (timeline), end; closes when the job finishes' })
  @ApiProduces('text/event-stream')
  async events(@CallerOf() caller: Caller, @Param('id') id: string, @Res() res: Response) {
    const record = await this.access.record(id, caller);
    await this.stream.run(record, res);
  }

  @Delete(':id')
  @ApiOperation({ operationId: 'cancelJob', summary: 'Cancel: queued jobs are removed; running jobs stop at the next batch boundary' })
  cancel(@CallerOf() caller: Caller, @Param('id') id: string) {
    return this.cancelJob.execute(id, caller);
  }
}
