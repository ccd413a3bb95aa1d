import { HttpException, HttpStatus } from '@nestjs/common';
import type { InsufficientResource } from '#contracts';

/** A 4xx whose body says what was wrong in words and, where it is about capacity, with the numbers. */
export class ApiError extends HttpException {
  constructor(status: HttpStatus, code: string, message: string, extra: Record<string, unknown> = {}) {
    super({ statusCode: status, error: code, message, ...extra }, status);
  }
}

export const badInput = (message: string, extra?: Record<string, unknown>) =>
  new ApiError(HttpStatus.BAD_REQUEST, 'bad-input', message, extra);

export const noCapacity = (message: string, reasons: InsufficientResource[]) =>
  new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, 'no-capacity', message, {
    reasons,
    hint: 'resubmit with waitForCapacity=true to queue it until such a worker joins',
  });

export const notFound = (what: string) => new ApiError(HttpStatus.NOT_FOUND, 'not-found', `${what} not found`);
