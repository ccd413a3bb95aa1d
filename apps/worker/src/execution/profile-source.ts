import type { MemoryProfile, Precision, ProviderName } from '#contracts';
import { memoryPrior, runtimeLabel, type ModelManifest } from '#inference';
import type { ProfileRepository } from '#queue';
import { priorProfile } from '#scheduling';

/**
 * The stored profile for this device, or the manifest's prior (marked `manifest`) until one is calibrated.
 * A profile measured under another runtime setting (WebGPU buffer cache mode) or by another peak method does
 * not count: memory grows differently there, or was read wrong, so the worker calibrates again.
 */
export async function loadProfile(
  profiles: ProfileRepository,
  manifest: ModelManifest,
  precision: Precision,
  provider: ProviderName,
  device: string,
  marginFraction: number,
): Promise<MemoryProfile> {
  const stored = await profiles.get(manifest.id, precision, provider, device);
  const runtime = runtimeLabel(provider);
  // A learned profile lowered from the manifest's prior carries no runtime: it was never a measurement.
  const measuredUnderOther = stored && (stored.runtime !== undefined ? stored.runtime !== runtime : stored.source === 'calibrated' && runtime !== undefined);
  if (stored && !measuredUnderOther) return stored;
  return priorProfile(memoryPrior(manifest), precision, provider, device, marginFraction, new Date().toISOString());
}
