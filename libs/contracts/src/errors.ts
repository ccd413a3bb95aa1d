import type { JobErrorCode } from './job.js';

/**
 * The base of every error gpuq raises on purpose: a stable `code` (the same words a failed job carries) and a
 * name that is its own class's. Callers branch with `instanceof`, never on a message.
 */
export class GpuqError extends Error {
  constructor(readonly code: JobErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** The device ran out of memory: the caller shrinks the batch, waits, moves the job to a larger class, or fails it with the numbers. */
export class OutOfMemoryError extends GpuqError {
  readonly requestedBytes?: number;
  readonly availableBytes?: number;
  readonly batchSize?: number;

  constructor(message: string, opts: { requestedBytes?: number; availableBytes?: number; batchSize?: number; cause?: unknown } = {}) {
    super('out-of-memory', message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.requestedBytes = opts.requestedBytes;
    this.availableBytes = opts.availableBytes;
    this.batchSize = opts.batchSize;
  }
}

/** The input itself is wrong (an image that cannot be decoded, a tensor of the wrong shape): retrying can never help. */
export class BadInputError extends GpuqError {
  readonly imageIndex?: number;
  readonly filename?: string;

  constructor(message: string, opts: { imageIndex?: number; filename?: string; cause?: unknown } = {}) {
    super('bad-input', message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.imageIndex = opts.imageIndex;
    this.filename = opts.filename;
  }
}

/** Worth trying again as it is: a connection reset or closed, a GPU device lost (recreated on the next try). */
export class TransientError extends GpuqError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('transient', message, options);
  }
}
