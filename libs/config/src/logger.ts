import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs (one line per event) with the component name on every line, on stdout; a command whose
 * stdout is its answer (the CLI) logs to stderr (`fd` 2).
 */
export function createLogger(component: string, level = process.env.LOG_LEVEL ?? 'info', fd: 1 | 2 = 1): Logger {
  return pino({ name: 'gpuq', level, base: { component, pid: process.pid } }, pino.destination(fd));
}
