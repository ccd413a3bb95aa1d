import type { Redis } from 'ioredis';
import { TERMINAL_STATES, type JobState } from '#contracts';
import type { Keys } from './keys.js';
import { RESERVE_JOB, TAKE_REQUEST } from './usage-scripts.js';

export interface RateDecision {
  allowed: boolean;
  /** How long until a request would be allowed (0 when allowed). */
  retryAfterMs: number;
  /** Requests still allowed right now. */
  remaining: number;
}

export type ReserveDecision =
  | { ok: true }
  | { ok: false; quota: 'concurrent-jobs'; active: number; limit: number }
  | { ok: false; quota: 'images-per-day'; used: number; requested: number; limit: number; retryAfterS: number };

/** A reservation whose job record never appeared (its API died in between) stops counting after this long. */
const ORPHAN_RESERVATION_MS = 60_000;
const DAY_TTL_S = 2 * 86_400;

/** The UTC day of `now` (`YYYY-MM-DD`), the unit of the daily image quota. */
export const utcDay = (now: Date) => now.toISOString().slice(0, 10);

/** Seconds from `now` to the next UTC midnight, when the daily quota starts again. */
export function secondsToUtcMidnight(now: Date): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
}

/**
 * Per-key request rate and quotas, kept in Redis so every API replica enforces the same numbers.
 * `stateOf` reads job states (the job-record repository owns that shape).
 */
export class UsageLimits {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly stateOf: (ids: string[]) => Promise<(JobState | undefined)[]>,
  ) {}

  /** Takes one request from the key's allowance: `ratePerMin` on average, up to `burst` at once. */
  async takeRequest(keyId: string, ratePerMin: number, burst: number, nowMs: number): Promise<RateDecision> {
    const interval = Math.max(1, Math.round(60_000 / ratePerMin));
    const [allowed, retryAfterMs, remaining] = (await this.redis.eval(TAKE_REQUEST, 1, this.keys.rateLimit(keyId), nowMs, interval, burst)) as number[];
    return { allowed: allowed === 1, retryAfterMs: retryAfterMs!, remaining: Math.max(0, remaining!) };
  }

  /** Counts a new job against the key's unfinished-job and daily-image quotas, or says which one it breaks. */
  async reserveJob(keyId: string, jobId: string, images: number, limits: { maxConcurrentJobs: number; maxImagesPerDay: number }, now: Date): Promise<ReserveDecision> {
    await this.forgetFinished(keyId, now.getTime());
    const [outcome, current] = (await this.redis.eval(RESERVE_JOB, 2, this.keys.activeJobs(keyId), this.keys.imagesOnDay(keyId, utcDay(now)),
      jobId, now.getTime(), limits.maxConcurrentJobs, images, limits.maxImagesPerDay, DAY_TTL_S)) as [string, number];
    if (outcome === 'ok') return { ok: true };
    if (outcome === 'active') return { ok: false, quota: 'concurrent-jobs', active: current, limit: limits.maxConcurrentJobs };
    return { ok: false, quota: 'images-per-day', used: current, requested: images, limit: limits.maxImagesPerDay, retryAfterS: secondsToUtcMidnight(now) };
  }

  /** Gives a reservation back (the job was not created after all). */
  async release(keyId: string, jobId: string, images: number, now: Date): Promise<void> {
    await this.redis.multi().zrem(this.keys.activeJobs(keyId), jobId).decrby(this.keys.imagesOnDay(keyId, utcDay(now)), String(images)).exec();
  }

  /** Unfinished jobs of a key right now. */
  async activeJobs(keyId: string, nowMs: number): Promise<number> {
    await this.forgetFinished(keyId, nowMs);
    return this.redis.zcard(this.keys.activeJobs(keyId));
  }

  /** Images a key submitted on the UTC day of `now`. */
  async imagesToday(keyId: string, now: Date): Promise<number> {
    return Number((await this.redis.get(this.keys.imagesOnDay(keyId, utcDay(now)))) ?? 0);
  }

  /**
   * Drops finished jobs from the active set. Finishing happens in the workers, which know nothing of keys,
   * so the set is reconciled with the job states when it is read.
   */
  private async forgetFinished(keyId: string, nowMs: number): Promise<void> {
    const entries = await this.redis.zrange(this.keys.activeJobs(keyId), '0', '-1', 'WITHSCORES');
    if (entries.length === 0) return;
    const ids = entries.filter((_, i) => i % 2 === 0);
    const states = await this.stateOf(ids);
    const done = ids.filter((id, i) => {
      const state = states[i];
      if (state === undefined) return Number(entries[2 * i + 1]) < nowMs - ORPHAN_RESERVATION_MS;
      return TERMINAL_STATES.has(state);
    });
    if (done.length > 0) await this.redis.zrem(this.keys.activeJobs(keyId), ...done);
  }
}
