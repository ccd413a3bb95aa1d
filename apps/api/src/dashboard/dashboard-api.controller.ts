import { Controller, Get, Inject, Param, Query, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { BlobNotFoundError, type BlobStore } from '#blobs';
import type { JobRecord } from '#contracts';
import { JobRecordRepository } from '#queue';
import { Public } from '../auth/public.decorator.js';
import { FleetSnapshots } from '../metrics/fleet-snapshot.js';
import { ApiError } from '../problems/api-error.js';
import { BLOB_STORE } from '../tokens.js';
import { AdminGuard } from './admin.guard.js';

const JOB_ID = /^[A-Za-z0-9_-]{1,100}$/;
/** The live stream's pace: the fleet each second, the job list every other second. */
const FLEET_EVERY_MS = 1000;
const JOBS_EVERY = 2;
const HEARTBEAT_MS = 15_000;
const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', tiff: 'image/tiff', avif: 'image/avif', svg: 'image/svg+xml',
};

/** One line of the job list: the record without its images, requirement and events. */
export type JobSummary = Omit<JobRecord, 'images' | 'requirement' | 'events'>;

/**
 * The operators' data: the fleet, every tenant's jobs, a job with its results and images, and a live stream.
 * Public to the API-key guard, guarded by the operator login instead.
 */
@ApiExcludeController()
@Public()
@UseGuards(AdminGuard)
@Controller('dashboard/api')
export class DashboardApiController {
  constructor(
    private readonly fleet: FleetSnapshots,
    private readonly jobs: JobRecordRepository,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {}

  @Get('session')
  session() {
    return { operator: true };
  }

  @Get('fleet')
  fleetNow() {
    return this.fleet.get();
  }

  @Get('jobs')
  recentJobs(@Query('limit') limit = '30') {
    return this.summaries(Math.max(1, Math.min(200, Number(limit) || 30)));
  }

  @Get('jobs/:id')
  async job(@Param('id') id: string) {
    const record = await this.record(id);
    return { job: record, results: await this.jobs.getResults(id) };
  }

  @Get('jobs/:id/images/:index')
  async image(@Param('id') id: string, @Param('index') index: string, @Res() res: Response) {
    const record = await this.record(id);
    const image = record.images.find((i) => String(i.index) === index);
    if (!image) throw new ApiError('not-found', `job ${id} has no image ${JSON.stringify(index)}`);
    try {
      const data = await this.blobs.get(image.blobKey);
      // Served as data the browser shows, never as a page of this origin (an SVG could carry script).
      res.set({ 'content-type': CONTENT_TYPES[image.format ?? ''] ?? 'application/octet-stream', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'", 'cache-control': 'private, max-age=3600' });
      res.send(data);
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw new ApiError('not-found', `image ${index} of job ${id} is no longer stored`);
      throw err;
    }
  }

  /** Server-sent events: `fleet` each second, `jobs` (the recent list) every other; until the page closes. */
  @Get('stream')
  async stream(@Res() res: Response) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let closed = false;
    res.once('close', () => (closed = true));
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    let lastWrite = Date.now();
    for (let tick = 0; !closed; tick++) {
      try {
        send('fleet', await this.fleet.get());
        if (tick % JOBS_EVERY === 0) send('jobs', await this.summaries(30));
        lastWrite = Date.now();
      } catch {
        // Redis away for a moment: say nothing this tick; a heartbeat keeps the stream open.
        if (Date.now() - lastWrite > HEARTBEAT_MS) {
          res.write(': keep-alive\n\n');
          lastWrite = Date.now();
        }
      }
      await new Promise((r) => setTimeout(r, FLEET_EVERY_MS));
    }
    res.end();
  }

  private async summaries(limit: number): Promise<JobSummary[]> {
    const ids = await this.jobs.listIds(limit);
    const records = await Promise.all(ids.map((id) => this.jobs.get(id)));
    return records.filter((r) => r !== undefined).map(({ images, requirement, events, ...summary }) => summary);
  }

  private async record(id: string): Promise<JobRecord> {
    const record = JOB_ID.test(id) ? await this.jobs.get(id) : undefined;
    if (!record) throw new ApiError('not-found', `job ${JSON.stringify(id)} not found`);
    return record;
  }
}
