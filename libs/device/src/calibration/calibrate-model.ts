import type { DeviceCapability, Precision } from '#contracts';
import { detectBatch, syntheticTextImage, type ModelManifest, type ModelSession, type SessionCache } from '#inference';
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
 * Where a session keeps what it grew (the CUDA provider's arena), calibration runs on sessions of its own: one per
 * size for memory, one for the re-timing, all released after, so the jobs' session holds only what jobs need.
 */
export async function calibrateModel(input: CalibrateModelInput): Promise<CalibrationReport> {
  const { manifest, precision, device } = input;
  const S = manifest.input.size;
  const page = { data: syntheticTextImage(S, S), meta: { width: S, height: S, scale: 1 } };
  const executed = device.source === 'declared' ? 'fp32' : precision;
  const own = input.memory.keepsGrowth;
  const session = own ? await input.sessions.open(manifest, executed, device.provider) : await input.sessions.get(manifest, executed, device.provider);
  const runOn = (s: ModelSession) => async (n: number) => void (await detectBatch(s, manifest, Array.from({ length: n }, () => page)));
  const memory = input.memory.forSession(session.key);
  try {
    return await calibrate({
      model: manifest.id, precision, provider: device.provider, device: input.deviceName,
      runBatch: runOn(session), memory, maxBatch: input.maxBatch ?? manifest.maxBatch, budgetBytes: (await memory.availableBytes()) / 2,
      minMarginFraction: input.minMarginFraction, referencePixels: S * S,
      ...(own ? {
        freshSession: async () => {
          const fresh = await input.sessions.open(manifest, executed, device.provider);
          return { runBatch: runOn(fresh), memory: input.memory.forSession(fresh.key), release: () => fresh.release() };
        },
      } : {}),
    });
  } finally {
    if (own) await session.release();
  }
}
