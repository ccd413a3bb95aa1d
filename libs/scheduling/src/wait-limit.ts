export interface WaitCheck {
  /** True when the job has waited past its limit: it should end, not be handed back once more. */
  exceeded: boolean;
  waitedMs: number;
}

/**
 * Whether a job handed back to wait (for memory held by other work, for a worker whose variant check passed)
 * has waited too long: measured from the first hand-back since it last made progress (`sinceIso`; undefined
 * for a job that starts waiting now).
 */
export function checkWait(sinceIso: string | undefined, nowMs: number, limitMs: number): WaitCheck {
  const waitedMs = sinceIso ? Math.max(0, nowMs - Date.parse(sinceIso)) : 0;
  return { exceeded: waitedMs >= limitMs, waitedMs };
}
