import type { MemoryProfile, Precision, ProviderName } from '#contracts';

/** fp16 and bf16 halve weights and activations relative to an fp32 measurement. */
export const PRIOR_SCALE: Readonly<Record<Precision, number>> = { fp32: 1, fp16: 0.5, bf16: 0.5 };

/** A model's fp32 memory prior (from its manifest), used until a device calibrates a real profile. */
export interface MemoryPrior {
  model: string;
  fixedBytes: number;
  perItemBytes: number;
  referencePixels: number;
}

/** The prior as a profile for one precision and device, marked `manifest` so nobody mistakes it for a measurement. */
export function priorProfile(prior: MemoryPrior, precision: Precision, provider: ProviderName, device: string, marginFraction: number, nowIso: string): MemoryProfile {
  const scale = PRIOR_SCALE[precision];
  return {
    model: prior.model, precision, provider, device,
    fixedBytes: Math.round(prior.fixedBytes * scale),
    perItemBytes: Math.round(prior.perItemBytes * scale),
    referencePixels: prior.referencePixels,
    marginFraction, source: 'manifest', points: [], updatedAt: nowIso,
  };
}
