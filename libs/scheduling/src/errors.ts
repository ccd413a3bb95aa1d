/** A job ran out of device memory: the caller halves the batch, reroutes, or fails with the numbers. */
export class OutOfMemoryError extends Error {
  readonly requestedBytes?: number;
  readonly availableBytes?: number;
  readonly batchSize?: number;

  constructor(
    message: string,
    opts: { requestedBytes?: number; availableBytes?: number; batchSize?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = this.constructor.name;
    this.requestedBytes = opts.requestedBytes;
    this.availableBytes = opts.availableBytes;
    this.batchSize = opts.batchSize;
  }
}

/** The input itself is wrong (undecodable image, wrong shape): retrying can never help. */
export class BadInputError extends Error {
  readonly imageIndex?: number;
  readonly filename?: string;

  constructor(message: string, opts: { imageIndex?: number; filename?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = this.constructor.name;
    this.imageIndex = opts.imageIndex;
    this.filename = opts.filename;
  }
}
