import { Module } from '@nestjs/common';
import { LifecycleSweeper } from '../lifecycle/lifecycle-sweeper.js';
import { UploadInterceptor } from '../uploads/upload.interceptor.js';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher.js';
import { CancelJobService } from './cancel-job.service.js';
import { JobAccess } from './job-access.js';
import { JobStream } from './job-stream.js';
import { JobsController } from './jobs.controller.js';
import { SubmitJobService } from './submit-job.service.js';

@Module({
  controllers: [JobsController],
  providers: [SubmitJobService, CancelJobService, JobAccess, JobStream, UploadInterceptor, WebhookDispatcher, LifecycleSweeper],
})
export class JobsModule {}
