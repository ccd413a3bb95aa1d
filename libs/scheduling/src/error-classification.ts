import { BadInputError, GpuqError, OutOfMemoryError, TransientError } from '#contracts';

export type ErrorKind = 'oom' | 'bad-input' | 'transient' | 'fatal';

export interface ErrorClassification {
  kind: ErrorKind;
  message: string;
}

/**
 * Connections that failed or closed. These come from many places (ioredis, fetch, the S3 SDK, the file system
 * over NFS) rather than one, so their codes and words are recognised here; device and runtime errors are typed
 * where they enter (libs/inference).
 */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTCONN', 'EHOSTUNREACH']);
const CONNECTION_WORDS: RegExp[] = [/Connection is closed/i, /socket hang up/i, /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EAI_AGAIN)\b/];

/**
 * Sorts an error into what the worker should do about it: `oom` (shrink, wait or reroute), `bad-input` (never
 * retried), `transient` (retried as is, with a bounded backoff) or `fatal`. gpuq's own error classes decide by
 * `instanceof`, in the error or its causes; a failed connection is transient whoever threw it.
 */
export function classifyError(err: unknown): ErrorClassification {
  const message = messageOf(err);
  const chain = causeChain(err);
  const typed = chain.find((e): e is GpuqError => e instanceof GpuqError);
  if (typed instanceof OutOfMemoryError) return { kind: 'oom', message };
  if (typed instanceof BadInputError) return { kind: 'bad-input', message };
  if (typed instanceof TransientError) return { kind: 'transient', message };
  if (typed) return { kind: 'fatal', message };
  const connection = chain.some((e) => {
    const code = isRecord(e) ? e.code : undefined;
    return (typeof code === 'string' && CONNECTION_CODES.has(code)) || CONNECTION_WORDS.some((p) => p.test(messageOf(e)));
  });
  return { kind: connection ? 'transient' : 'fatal', message };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  if (isRecord(err) && typeof err.message === 'string') return err.message;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

/** The error and its causes, at most a few deep (causes can be cyclic). */
function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = err;
  while (current !== undefined && current !== null && chain.length < 5 && !chain.includes(current)) {
    chain.push(current);
    current = isRecord(current) ? current.cause : undefined;
  }
  return chain;
}
