import { Injectable } from '@nestjs/common';
import { ClassQueues, JobRecordRepository } from '#queue';
import type { Caller } from '../auth/caller.js';
import { JobAccess } from './job-access.js';

/**
 * Cancelling: a queued job ends cancelled and leaves its queue at once; a running one stops at its next batch
 * boundary and ends cancelled (finished images kept), whichever step its worker is at.
 */
@Injectable()
export class CancelJobService {
  constructor(private readonly jobs: JobRecordRepository, private readonly queues: ClassQueues, private readonly access: JobAccess) {}

  async execute(id: string, caller: Caller): Promise<{ id: string; state: string; message: string }> {
    await this.access.assertOwned(id, caller);
    const before = (await this.jobs.requestCancel(id))!;
    if (before === 'completed' || before === 'failed' || before === 'cancelled') {
      return { id, state: before, message: `job already ${before}; nothing to cancel` };
    }
    if (before === 'running') {
      return { id, state: 'running', message: 'cancel requested: the job stops at its next batch boundary (nothing that finishes after it is written), and ends cancelled' };
    }
    const record = (await this.jobs.get(id))!;
    const current = record.placements[record.placement];
    if (current) await this.queues.removeUnheld(current.className, current.queueJobId);
    return { id, state: 'cancelled', message: 'cancelled before it started' };
  }
}
