/** The longest a transient retry waits, whatever the attempt. */
export const MAX_BACKOFF_MS = 30_000;

/**
 * How long to wait before retry `attempt` (1 for the first retry) of a transient error: `baseMs`, doubling each
 * time, at most MAX_BACKOFF_MS; undefined once `attempt` is past `maxRetries` (give up).
 */
export function transientBackoffMs(attempt: number, maxRetries: number, baseMs: number): number | undefined {
  if (attempt > maxRetries) return undefined;
  return Math.min(MAX_BACKOFF_MS, baseMs * 2 ** (attempt - 1));
}
