import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PROBLEM_CONTENT_TYPE, PROBLEMS, problemType, type Problem, type ProblemCode } from '#contracts';
import type { Logger } from '#config';
import { ApiError } from './api-error.js';

/** Codes for the framework's own HTTP errors (unknown route, body too large, …), by status. */
const CODE_OF_STATUS: Record<number, ProblemCode> = {
  400: 'bad-request', 401: 'unauthorized', 404: 'not-found', 405: 'method-not-allowed', 413: 'request-too-large',
  415: 'unsupported-media-type', 429: 'rate-limited', 503: 'unavailable',
};

/**
 * Every error leaves the API as an RFC 9457 problem document with a stable `code`: our own refusals, the
 * framework's 404 and 413, and anything unexpected (a 500 whose detail hides the internals; the log has them).
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly log: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const { problem, headers } = this.toProblem(exception, req.originalUrl ?? req.url);
    if (res.headersSent) {
      // A stream (server-sent events) already started: all that is left is to end it.
      res.end();
      return;
    }
    res.status(problem.status).set(headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }

  private toProblem(exception: unknown, instance: string): { problem: Problem; headers: Record<string, string> } {
    if (exception instanceof ApiError) {
      return { problem: problemOf(exception.code, exception.detail, instance, exception.extensions), headers: exception.headers };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = CODE_OF_STATUS[status] ?? (status >= 500 ? 'internal' : 'bad-request');
      return { problem: { ...problemOf(code, exception.message, instance), status }, headers: {} };
    }
    this.log.error({ err: exception instanceof Error ? exception.stack : String(exception), instance }, 'unhandled error');
    return { problem: problemOf('internal', 'the API failed to handle this request; the error is in its log', instance), headers: {} };
  }
}

function problemOf(code: ProblemCode, detail: string, instance?: string, extensions: Record<string, unknown> = {}): Problem {
  return { type: problemType(code), title: PROBLEMS[code].title, status: PROBLEMS[code].status, detail, instance, code, ...extensions };
}
