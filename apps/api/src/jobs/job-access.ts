import { Injectable } from '@nestjs/common';
import type { JobRecord } from '#contracts';
import { JobRecordRepository } from '#queue';
import type { Caller } from '../auth/caller.js';
import { ApiError } from '../problems/api-error.js';

const JOB_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * A job exists for its own tenant only: another tenant's job answers exactly like one that does not exist
 * (404 with the same words), so ids cannot be probed.
 */
@Injectable()
export class JobAccess {
  constructor(private readonly jobs: JobRecordRepository) {}

  async record(id: string, caller: Caller): Promise<JobRecord> {
    const record = JOB_ID.test(id) ? await this.jobs.get(id) : undefined;
    if (!record || record.tenant !== caller.tenant) throw notFound(id);
    return record;
  }

  async assertOwned(id: string, caller: Caller): Promise<void> {
    if (!JOB_ID.test(id) || (await this.jobs.ownerOf(id)) !== caller.tenant) throw notFound(id);
  }
}

const notFound = (id: string) => new ApiError('not-found', `job ${JSON.stringify(id)} not found`);
