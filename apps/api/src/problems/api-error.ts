import { HttpException } from '@nestjs/common';
import { PROBLEMS, type ProblemCode } from '#contracts';

/**
 * A refusal with a stable code, answered as `application/problem+json` by ProblemFilter. `detail` says what was
 * wrong in words, with the numbers; `extensions` add machine-readable members (reasons, limits).
 */
export class ApiError extends HttpException {
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail, PROBLEMS[code].status);
  }
}
