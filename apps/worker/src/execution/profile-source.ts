import type { MemoryProfile, Precision, ProviderName } from '#contracts';
import type { ModelManifest } from '#inference';
import type { ProfileRepository } from '#queue';
import { priorProfile } from '#scheduling';

/** The model's memory prior from its manifest, in the form the scheduling library takes. */
export function manifestPrior(manifest: ModelManifest) {
  return { model: manifest.id, ...manifest.defaultProfile, referencePixels: manifest.input.size * manifest.input.size };
}

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
  return stored ?? priorProfile(manifestPrior(manifest), precision, provider, device, marginFraction, new Date().toISOString());
}
