import type { MemoryProfile } from '#contracts';

/**
 * Whether a stored profile should be measured again: one lowered after an OOM (`learned`: its cap may have come
 * from a moment when other work held the memory) or a prior kept after a failed calibration stands for
 * `ttlMs` from its `updatedAt`, then the device measures afresh (a GPU calibrates; others start from the prior
 * and learn again). A calibrated profile stands until the runtime it was measured under changes.
 */
export function needsRemeasure(profile: MemoryProfile, nowMs: number, ttlMs: number): boolean {
  if (profile.source === 'calibrated') return false;
  const at = Date.parse(profile.updatedAt);
  return !Number.isFinite(at) || nowMs - at >= ttlMs;
}
