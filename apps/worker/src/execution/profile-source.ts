import type { MemoryProfile, Precision, ProviderName } from '#contracts';
import { memoryPrior, type ModelManifest } from '#inference';
import type { ProfileRepository } from '#queue';
import { priorProfile } from '#scheduling';

/** The stored profile for this device, or the manifest's prior (marked `manifest`) until one is calibrated. */
export async function loadProfile(
  profiles: ProfileRepository,
  manifest: ModelManifest,
  precision: Precision,
  provider: ProviderName,
  device: string,
  marginFraction: number,
): Promise<MemoryProfile> {
  const stored = await profiles.get(manifest.id, precision, provider, device);
  return stored ?? priorProfile(memoryPrior(manifest), precision, provider, device, marginFraction, new Date().toISOString());
}
