import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import multer, { MulterError } from 'multer';
import type { Observable } from 'rxjs';
import type { Config } from '#config';
import { ApiError } from '../problems/api-error.js';
import { CONFIG } from '../tokens.js';
import { DiskUploadStorage, RequestTooLargeError, type RequestWithUpload } from './disk-upload-storage.js';

/** Form fields besides the files: few and short. */
const FIELD_LIMITS = { fields: 20, fieldSize: 4096, fieldNameSize: 100, headerPairs: 100 };

/**
 * Receives `POST /v1/jobs`'s multipart body: files stream to a folder of their own under UPLOAD_DIR with the
 * limits enforced while they arrive (files, bytes per file, bytes per request), and the folder is removed when
 * the response ends, whatever happened. Every refusal is a problem with its code and the limit.
 */
@Injectable()
export class UploadInterceptor implements NestInterceptor {
  private readonly receive: (req: Request, res: Response, next: (err?: unknown) => void) => void;
  private readonly root: string;

  constructor(@Inject(CONFIG) private readonly config: Config) {
    this.root = resolve(config.UPLOAD_DIR);
    this.receive = multer({
      storage: new DiskUploadStorage(config.MAX_REQUEST_BYTES),
      limits: { ...FIELD_LIMITS, files: config.MAX_IMAGES_PER_JOB, fileSize: config.MAX_IMAGE_BYTES, parts: config.MAX_IMAGES_PER_JOB + FIELD_LIMITS.fields },
    }).array('images');
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const req = context.switchToHttp().getRequest<Request & RequestWithUpload>();
    const res = context.switchToHttp().getResponse<Response>();
    if (!req.is('multipart/form-data')) {
      throw new ApiError('unsupported-media-type', `send the images as multipart/form-data (got ${req.headers['content-type'] ?? 'no content type'})`);
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.config.MAX_REQUEST_BYTES) {
      // Refused before a byte is read; the connection closes rather than swallow the rest.
      throw new ApiError('request-too-large', `the request declares ${declared} bytes > MAX_REQUEST_BYTES=${this.config.MAX_REQUEST_BYTES}`,
        { limit: this.config.MAX_REQUEST_BYTES }, { Connection: 'close' });
    }
    const dir = join(this.root, randomUUID());
    await mkdir(dir, { recursive: true });
    req.upload = { dir, files: 0, bytes: 0 };
    res.once('close', () => void rm(dir, { recursive: true, force: true }));
    await new Promise<void>((done, fail) => this.receive(req, res, (err) => (err ? fail(this.refusal(err, req)) : done())));
    return next.handle();
  }

  private refusal(err: unknown, req: RequestWithUpload): ApiError {
    const { config } = this;
    const file = req.upload?.current ? ` (${JSON.stringify(req.upload.current)})` : '';
    if (err instanceof RequestTooLargeError) {
      return new ApiError('request-too-large', err.message, { limit: config.MAX_REQUEST_BYTES }, { Connection: 'close' });
    }
    if (!(err instanceof MulterError)) {
      return new ApiError('malformed-multipart', `the multipart body could not be read: ${(err as Error).message}`);
    }
    switch (err.code) {
      case 'LIMIT_FILE_SIZE':
        return new ApiError('file-too-large', `image ${(req.upload?.files ?? 1) - 1}${file} is larger than MAX_IMAGE_BYTES=${config.MAX_IMAGE_BYTES} bytes`,
          { limit: config.MAX_IMAGE_BYTES });
      case 'LIMIT_FILE_COUNT':
      case 'LIMIT_PART_COUNT':
        return new ApiError('too-many-images', `more than MAX_IMAGES_PER_JOB=${config.MAX_IMAGES_PER_JOB} images in one job`, { limit: config.MAX_IMAGES_PER_JOB });
      case 'LIMIT_UNEXPECTED_FILE':
        return new ApiError('invalid-field', `a file arrived in field ${JSON.stringify(err.field)}: images go in the field "images"`);
      case 'LIMIT_FIELD_KEY':
      case 'LIMIT_FIELD_VALUE':
      case 'LIMIT_FIELD_COUNT':
        return new ApiError('invalid-field', `form fields are limited to ${FIELD_LIMITS.fields} of at most ${FIELD_LIMITS.fieldSize} bytes (${err.message}${err.field ? `: ${err.field}` : ''})`);
      default:
        return new ApiError('malformed-multipart', `the multipart body could not be read: ${err.message}`);
    }
  }
}
