import type { DeviceCapability, ModelVariantCheck, Precision } from '#contracts';
import type { Logger } from '#config';
import { errorText, executionSummary, listManifests, verifyVariant, type SessionCache } from '#inference';
import { judgeExecution } from '#scheduling';

/**
 * Checks every built-in model's reduced-precision variants on this device's provider, for each precision the
 * self-test proved: the variant is fitted to the provider's kernels (ops without a kernel in that precision stay
 * float32), its trial run must compute at least `minShare` of its arithmetic in that precision (measured in
 * onnxruntime's profile), and its output must stay within tolerance of fp32. The self-test proves the provider
 * computes in fp16; this proves a given model survives it (measured on the H100: PP-OCRv4 in fp16 on webgpu is
 * off by a mean of 0.0104 in its probability map, twice the tolerance, and misses text lines that fp32 finds).
 * Declared devices are taken as declared.
 */
export async function checkModelVariants(device: DeviceCapability, sessions: SessionCache, log: Logger, minShare: number): Promise<ModelVariantCheck[]> {
  if (device.source === 'declared') return [];
  const byFile = new Map<string, Omit<ModelVariantCheck, 'model'>>();
  const checks: ModelVariantCheck[] = [];
  for (const manifest of listManifests()) {
    for (const precision of device.provenPrecisions.filter((p): p is Exclude<Precision, 'fp32'> => p !== 'fp32')) {
      // Manifests that share weights (same file, other input size) share one check.
      const key = `${manifest.files.fp32}|${precision}`;
      let result = byFile.get(key);
      if (!result) {
        try {
          const fitted = await sessions.fitVariant(manifest, precision, device.provider);
          const verdict = judgeExecution(precision, fitted.measurement, minShare);
          const v = await verifyVariant({ fp32Path: manifest.files.fp32, variantPath: fitted.path, precision, provider: device.provider });
          const error = [verdict.ok ? undefined : verdict.message, v.error ?? (v.passed ? undefined : `output off fp32 beyond tolerance (mean ${v.meanAbsError.toPrecision(3)}, max ${v.maxAbsError.toPrecision(3)})`)].filter(Boolean).join('; ');
          result = {
            precision, passed: verdict.ok && v.passed, meanAbsError: v.meanAbsError, maxAbsError: v.maxAbsError, tolerance: v.tolerance,
            keptFp32: fitted.kept, measured: executionSummary(fitted.measurement), ...(error ? { error } : {}),
          };
        } catch (err) {
          result = { precision, passed: false, error: errorText(err) };
        }
        byFile.set(key, result);
      }
      checks.push({ model: manifest.id, ...result });
    }
  }
  if (checks.length > 0) log.info({ provider: device.provider, checks }, 'model variants checked');
  return checks;
}
