import type { DeviceCapability, ModelVariantCheck, Precision } from '#contracts';
import type { Logger } from '#config';
import { listManifests, ModelVariantCache, verifyVariant } from '#inference';

/**
 * Checks every built-in model's reduced-precision variants against fp32 on this device's provider, for each
 * precision the self-test proved. The self-test proves the provider computes in fp16; this proves a given model
 * survives it (measured on the H100: PP-OCRv4 in fp16 on webgpu is off by a mean of 0.0104 in its probability
 * map, twice the tolerance, and misses text lines that fp32 finds). Declared devices are taken as declared.
 */
export async function checkModelVariants(device: DeviceCapability, cacheDir: string, log: Logger): Promise<ModelVariantCheck[]> {
  if (device.source === 'declared') return [];
  const variants = new ModelVariantCache(cacheDir);
  const byFile = new Map<string, Omit<ModelVariantCheck, 'model'>>();
  const checks: ModelVariantCheck[] = [];
  for (const manifest of listManifests()) {
    for (const precision of device.provenPrecisions.filter((p): p is Exclude<Precision, 'fp32'> => p !== 'fp32')) {
      // Manifests that share weights (same file, other input size) share one check.
      const key = `${manifest.files.fp32}|${precision}`;
      let result = byFile.get(key);
      if (!result) {
        try {
          const variantPath = await variants.getVariant(manifest.files.fp32, precision);
          const v = await verifyVariant({ fp32Path: manifest.files.fp32, variantPath, precision, provider: device.provider });
          result = { precision, passed: v.passed, meanAbsError: v.meanAbsError, maxAbsError: v.maxAbsError, tolerance: v.tolerance, error: v.error };
        } catch (err) {
          result = { precision, passed: false, error: err instanceof Error ? err.message.slice(0, 300) : String(err) };
        }
        byFile.set(key, result);
      }
      checks.push({ model: manifest.id, ...result });
    }
  }
  if (checks.length > 0) log.info({ provider: device.provider, checks }, 'model variants checked');
  return checks;
}
