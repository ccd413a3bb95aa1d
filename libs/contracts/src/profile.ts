import type { ProviderName } from './capability.js';
import type { Precision } from './precision.js';

/** One measured point: a batch of `batch` images peaked at `peakBytes` and took `ms`. */
export interface ProfilePoint {
  batch: number;
  peakBytes: number;
  ms?: number;
  /**
   * Timed, but its memory is not this size's own: it was measured after a larger size on a device that keeps
   * what a run grew to (the CUDA provider's arena), so `peakBytes` is that larger size's. Memory predictions skip it.
   */
  timedOnly?: true;
}

/**
 * Memory model of one (model, precision, provider, device instance): bytes(n) = fixedBytes + perItemBytes × n,
 * for inputs of `referencePixels` pixels each (perPixelBytes scales the per-item term for other sizes).
 */
export interface MemoryProfile {
  model: string;
  precision: Precision;
  provider: ProviderName;
  /** GPU name (e.g. "NVIDIA H100 80GB HBM3") or "cpu", for people; `deviceId` says which device it is. */
  device: string;
  /**
   * The device instance the profile was measured or learned on: `<host>/<GPU UUID>` (`<host>/cpu` for a CPU).
   * Two cards of one name differ (clocks, driver, what else runs there): one card's OOM never caps another.
   * Set when stored; a profile fresh from a calibration does not know it yet.
   */
  deviceId?: string;
  fixedBytes: number;
  perItemBytes: number;
  /** Per-item bytes per input pixel; lets one profile serve other input sizes. */
  perPixelBytes?: number;
  referencePixels: number;
  /** Fraction added on top of the prediction before it is compared with free memory. */
  marginFraction: number;
  /**
   * `manifest`: a prior from the model's manifest (stored only when a calibration failed: see `calibrationError`);
   * `calibrated`: fitted from measurement; `learned`: lowered after an OOM. A stored `learned` or `manifest`
   * profile is measured again LEARNED_PROFILE_TTL_S after its `updatedAt`.
   */
  source: 'manifest' | 'calibrated' | 'learned';
  /** Why the device's calibration failed, when this is the prior kept in its place. */
  calibrationError?: string;
  points: ProfilePoint[];
  /** Fit quality of the calibration (coefficient of determination). */
  r2?: number;
  /**
   * The runtime setting the profile was measured under where it shapes memory (WebGPU's buffer cache mode);
   * a worker running another setting calibrates afresh instead of trusting it.
   */
  runtime?: string;
  /** Largest batch allowed after an OOM at a larger size (learned). */
  capBatch?: number;
  updatedAt: string;
}

/**
 * How onnxruntime's WebGPU provider keeps storage buffers between runs (`WEBGPU_BUFFER_CACHE`); it shapes a
 * profile's memory, so a profile records the mode it was measured under (see libs/inference session-options).
 */
export const WEBGPU_BUFFER_CACHE_MODES = ['lazyRelease', 'bucket', 'simple', 'disabled'] as const;
export type WebGpuBufferCache = (typeof WEBGPU_BUFFER_CACHE_MODES)[number];
