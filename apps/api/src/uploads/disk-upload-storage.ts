import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request } from 'express';
import type { StorageEngine } from 'multer';

/** Where one request's files go, and how many bytes it has sent so far (every file together). */
export interface UploadState {
  dir: string;
  files: number;
  bytes: number;
  /** Name of the file being received, for refusals that name it. */
  current?: string;
}

export interface RequestWithUpload {
  upload?: UploadState;
}

/** The request sent more than `limit` bytes of files in all. */
export class RequestTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the upload is larger than MAX_REQUEST_BYTES=${limit} bytes in all`);
    this.name = this.constructor.name;
  }
}

/**
 * A multer storage engine that streams each file straight to disk (never into memory) and counts the bytes of
 * the whole request, cutting it off once they pass `maxRequestBytes`. Per-file size and file count are multer's
 * own limits; the folder is removed when the response ends (UploadInterceptor).
 */
export class DiskUploadStorage implements StorageEngine {
  constructor(private readonly maxRequestBytes: number) {}

  _handleFile(req: Request, file: Express.Multer.File, cb: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
    const state = (req as Request & RequestWithUpload).upload!;
    const path = join(state.dir, String(state.files++));
    state.current = file.originalname;
    let size = 0;
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        size += chunk.length;
        state.bytes += chunk.length;
        done(state.bytes > this.maxRequestBytes ? new RequestTooLargeError(this.maxRequestBytes) : null, chunk);
      },
    });
    pipeline(file.stream, counter, createWriteStream(path, { flags: 'wx' })).then(
      () => cb(null, { path, size }),
      (err: unknown) => {
        void unlink(path).catch(() => undefined);
        cb(err);
      },
    );
  }

  _removeFile(_req: Request, file: Express.Multer.File, cb: (error: Error | null) => void): void {
    unlink(file.path).then(() => cb(null), () => cb(null));
  }
}
