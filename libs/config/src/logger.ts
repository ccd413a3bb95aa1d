import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs (one line per event) with the component name on every line. */
export function createLogger(component: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'gpuq', level, base: { component, pid: process.pid } });
}
