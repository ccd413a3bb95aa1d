import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import type { Config } from '#config';
import { CONFIG } from '../tokens.js';
import { CancelJobService } from './cancel-job.service.js';
import { JobsController } from './jobs.controller.js';
import { SubmitJobService } from './submit-job.service.js';

@Module({
  imports: [
    MulterModule.registerAsync({
      inject: [CONFIG],
      // Enforced while the upload streams in, so an oversized body is cut off early (413), not buffered.
      useFactory: (config: Config) => ({
        limits: { files: config.MAX_IMAGES_PER_JOB, fileSize: config.MAX_IMAGE_BYTES, fields: 20, fieldSize: 4096 },
      }),
    }),
  ],
  controllers: [JobsController],
  providers: [SubmitJobService, CancelJobService],
})
export class JobsModule {}
