import { describe, expect, it } from 'vitest';
import { secondsToUtcMidnight, utcDay } from './usage-limits.js';

describe('the daily quota clock (UTC)', () => {
  it.each([
    ['2026-03-01T00:00:00.000Z', '2026-03-01', 86_400],
    ['2026-03-01T23:59:59.500Z', '2026-03-01', 1],
    ['2026-12-31T12:00:00.000Z', '2026-12-31', 43_200],
  ])('at %s the day is %s and the quota renews in %i s', (iso, day, seconds) => {
    expect(utcDay(new Date(iso))).toBe(day);
    expect(secondsToUtcMidnight(new Date(iso))).toBe(seconds);
  });
});
