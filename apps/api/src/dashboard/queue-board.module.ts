import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { PRECISIONS, VRAM_TIERS_GB } from '#contracts';
import { Keys } from '#queue';
import { className } from '#scheduling';
import { REDIS } from '../tokens.js';
import { AdminSession } from './admin-session.js';
import { DashboardAuthModule } from './dashboard-auth.module.js';

/** Every class a worker could serve: the queues are fixed by the tiers and precisions, not by who is alive now. */
export const ALL_CLASS_NAMES = [
  ...PRECISIONS.map((precision) => className({ device: 'cpu', precision })),
  ...PRECISIONS.flatMap((precision) => VRAM_TIERS_GB.map((tierGb) => className({ device: 'gpu', precision, tierGb }))),
];

/**
 * bull-board at /dashboard/queues (retry, clean, pause), behind the operator login. The one place in the apps
 * where BullMQ queues are registered by name (through @nestjs/bullmq, on the API's Redis connection and gpuq's
 * queue prefix); everything else reads queues through libs/queue.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [REDIS, Keys],
      // skipMetasUpdate: registering a queue must not create it in Redis (a class exists once a job is placed in it).
      useFactory: (redis: Redis, keys: Keys) => ({ connection: redis, prefix: keys.bullPrefix(), skipMetasUpdate: true }),
    }),
    BullModule.registerQueue(...ALL_CLASS_NAMES.map((name) => ({ name }))),
    BullBoardModule.forRootAsync({
      imports: [DashboardAuthModule],
      inject: [AdminSession],
      useFactory: (session: AdminSession) => ({
        route: '/dashboard/queues',
        adapter: ExpressAdapter,
        boardOptions: { uiConfig: { boardTitle: 'gpuq queues' } },
        middleware: (req: Request, res: Response, next: NextFunction) => {
          if (session.verify(req.headers.cookie)) return next();
          // The board's API calls get a plain 401; its pages send an operator to the login.
          if (req.originalUrl.startsWith('/dashboard/queues/api/')) return res.status(401).json({ code: 'unauthorized', detail: 'the dashboard needs an operator login' });
          res.redirect(302, '/dashboard');
        },
      }),
    }),
    BullBoardModule.forFeature(...ALL_CLASS_NAMES.map((name) => ({ name, adapter: BullMQAdapter }))),
  ],
})
export class QueueBoardModule {}
