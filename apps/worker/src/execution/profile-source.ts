import type { MemoryProfile, Precision, ProviderName } from '#contracts';
import { memoryPrior, runtimeLabel, type ModelManifest } from '#inference';
import type { ProfileRepository } from '#queue';
import { needsRemeasure, priorProfile } from '#scheduling';

export interface ProfileQuery {
  manifest: ModelManifest;
  precision: Precision;
  provider: ProviderName;
  /** GPU name or "cpu", for people. */
  device: string;
  /** This device instance: only its own profiles count. */
  deviceId: string;
  /** Margin of the manifest's prior. */
  marginFraction: number;
  nowMs: number;
  /** How long a learned profile (or a prior kept after a failed calibration) stands before it is measured again. */
  learnedTtlMs: number;
}

/**
 * The stored profile of this device instance, or the manifest's prior (`stored: false`: the device has yet to
 * measure it). A profile measured under another runtime setting (WebGPU buffer cache mode) or by another peak
 * method does not count: memory grows differently there, or was read wrong. Neither does a learned profile (or a
 * prior kept after a calibration failed) older than `learnedTtlMs`: its cap may come from a moment when other
 * work held the memory, so the device measures again.
 */
export async function loadProfile(profiles: ProfileRepository, q: ProfileQuery): Promise<{ profile: MemoryProfile; stored: boolean }> {
  const stored = await profiles.get(q.manifest.id, q.precision, q.provider, q.deviceId);
  const runtime = runtimeLabel(q.provider);
  // A learned profile lowered from the manifest's prior carries no runtime: it was never a measurement.
  const measuredUnderOther = stored && (stored.runtime !== undefined ? stored.runtime !== runtime : stored.source === 'calibrated' && runtime !== undefined);
  if (stored && !measuredUnderOther && !needsRemeasure(stored, q.nowMs, q.learnedTtlMs)) return { profile: stored, stored: true };
  const prior = priorProfile(memoryPrior(q.manifest), q.precision, q.provider, q.device, q.marginFraction, new Date(q.nowMs).toISOString());
  return { profile: { ...prior, deviceId: q.deviceId }, stored: false };
}
