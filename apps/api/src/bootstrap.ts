import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { createLogger, type Config } from '#config';
import { AppModule } from './app.module.js';
import { harden } from './http/harden.js';
import { NestPinoLogger } from './logging/nest-pino-logger.js';
import { documentProblems } from './problems/document-problems.js';
import { ProblemFilter } from './problems/problem.filter.js';

/** Builds the API (used by main.ts and by tests, which pass their own config). */
export async function createApi(config: Config): Promise<NestExpressApplication> {
  const log = createLogger('api', config.LOG_LEVEL);
  // Nest's console logger goes: its messages become JSON lines like every other line the API writes.
  // No JSON or form body parsers: the only body the API takes is multipart, streamed by the upload interceptor.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forConfig(config, log), { logger: new NestPinoLogger(log), bodyParser: false });
  app.enableShutdownHooks();
  app.disable('x-powered-by');
  harden(app, config);
  app.useGlobalFilters(new ProblemFilter(log));
  const document = documentProblems(SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('gpuq')
      .setDescription('A job queue for GPU inference: routes by proven precision, sizes batches to free VRAM, survives OOM. '
        + 'Every /v1 route needs an API key (`Authorization: Bearer <key>`); every error is application/problem+json with a stable `code`.')
      .setVersion('0.1.0')
      .addBearerAuth()
      .addSecurityRequirements('bearer')
      .build(),
  ));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}
