import type { LoggerService } from '@nestjs/common';
import type { Logger } from '#config';

/**
 * Nest's own messages (start-up, module errors) as the API's JSON lines, instead of Nest's coloured console
 * logger: every line the API writes is one JSON object, with the Nest context as `context`.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  /** Nest's `log` level is its start-up chatter (a line per mapped route): debug here, so info stays about jobs. */
  log(message: unknown, context?: string): void {
    this.pino.debug(this.fields(context), String(message));
  }

  error(message: unknown, stack?: string, context?: string): void {
    this.pino.error({ ...this.fields(context), ...(stack ? { stack } : {}) }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.pino.warn(this.fields(context), String(message));
  }

  debug(message: unknown, context?: string): void {
    this.pino.debug(this.fields(context), String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.pino.trace(this.fields(context), String(message));
  }

  fatal(message: unknown, context?: string): void {
    this.pino.fatal(this.fields(context), String(message));
  }

  private fields(context?: string): Record<string, string> {
    return context ? { context } : {};
  }
}
