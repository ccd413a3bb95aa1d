import type { DeviceCapability, Precision } from '#contracts';
import { detectBatch, syntheticTextImage, type ModelManifest, type SessionCache } from '#inference';
import type { DeviceMemory } from '../memory/device-memory.js';
import { calibrate, type CalibrationReport } from './calibrate.js';

export interface CalibrateModelInput {
  manifest: ModelManifest;
  precision: Precision;
  device: DeviceCapability;
  deviceName: string;
  sessions: SessionCache;
  memory: DeviceMemory;
  minMarginFraction: number;
  /** Largest batch to try (default: the manifest's maxBatch). */
  maxBatch?: number;
}

/**
 * Calibrates a built-in model on this worker's device with text-like synthetic pages of the model's input
 * size, using the same session and batch code path jobs use; the budget is half of what is free now, so
 * calibration never crowds out running work.
 */
export async function calibrateModel(input: CalibrateModelInput): Promise<CalibrationReport> {
  const { manifest, precision, device } = input;
  const S = manifest.input.size;
  const page = { data: syntheticTextImage(S, S), meta: { width: S, height: S, scale: 1 } };
  const session = await input.sessions.get(manifest, device.source === 'declared' ? 'fp32' : precision, device.provider);
  const memory = input.memory.forSession(session.key);
  return calibrate({
    model: manifest.id, precision, provider: device.provider, device: input.deviceName,
    runBatch: async (n) => void (await detectBatch(session, manifest, Array.from({ length: n }, () => page))),
    memory, maxBatch: input.maxBatch ?? manifest.maxBatch, budgetBytes: (await memory.availableBytes()) / 2,
    minMarginFraction: input.minMarginFraction, referencePixels: S * S,
  });
}
