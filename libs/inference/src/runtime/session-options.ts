import type * as ort from 'onnxruntime-node';
import type { ProviderName, WebGpuBufferCache } from '#contracts';

/*
 * How onnxruntime's WebGPU provider keeps storage buffers between runs (its `storageBufferCacheMode`).
 * - `bucket` (onnxruntime's default) rounds every buffer up to a size bucket (up to 160 MiB) and keeps
 *   released buffers for later runs. Memory then grows in steps (a tensor of 84 MB takes 128 MiB) and depends
 *   on what ran before, so no line predicts it: measured on the H100, −22 % at one size, +1600 % at another.
 * - `lazyRelease` sizes buffers exactly and frees them when the run ends: a run's peak is what that run
 *   needs, the same every time, and close to linear in the batch (one step, where buffers grow too large to
 *   share Dawn's pooled heaps). gpuq's default; it costs speed where a model has many large buffers.
 * - `simple` reuses exact-size buffers but never frees them; `disabled` frees each buffer as soon as it dies.
 */
export interface RuntimeOptions {
  webgpuBufferCache: WebGpuBufferCache;
}

export const DEFAULT_RUNTIME_OPTIONS: Readonly<RuntimeOptions> = { webgpuBufferCache: 'lazyRelease' };

// onnxruntime creates one WebGPU context per process and initializes it once, with the buffer cache mode of
// the first WebGPU session (webgpu_context.cc); later sessions' settings are ignored. So the options are
// process-wide, set once at start-up.
let current: RuntimeOptions = { ...DEFAULT_RUNTIME_OPTIONS };
let usedBy: string | undefined;

/** Sets the process's runtime options; refuses a change once a session was created with other options. */
export function configureRuntime(options: RuntimeOptions): void {
  if (usedBy && options.webgpuBufferCache !== current.webgpuBufferCache) {
    throw new Error(`the WebGPU buffer cache is already '${current.webgpuBufferCache}' (fixed by the first ${usedBy} session of this process); set it before any session is created`);
  }
  current = { ...options };
}

export function runtimeOptions(): Readonly<RuntimeOptions> {
  return current;
}

/** The execution provider entry for `provider`, with the process's runtime options where the provider takes them. */
export function executionProvider(provider: ProviderName): ort.InferenceSession.ExecutionProviderConfig {
  usedBy ??= provider === 'webgpu' ? provider : undefined;
  if (provider === 'webgpu') return { name: 'webgpu', storageBufferCacheMode: current.webgpuBufferCache };
  return provider;
}

/**
 * How peaks are measured, recorded on calibrated profiles with the runtime. `in-run`: by nvidia-smi in its own
 * process (GPU) or the kernel's resident high-water mark (CPU). Profiles without it were sampled in the worker's
 * own event loop, which onnxruntime-node's run blocks: they hold the memory left after each run, which for
 * PP-OCRv4 on the H100 was a third of the true peak (118 against 360 MiB a page in fp16).
 */
export const PEAK_METHOD = 'peak=in-run';

/** How CUDA profiles are measured: each size on a session of its own (see runtimeLabel). */
const CUDA_SESSION_METHOD = 'session per size';

/**
 * What of the runtime shapes a provider's memory, recorded on calibrated profiles: a profile measured under
 * another buffer cache mode, or by another peak method, does not predict this one.
 */
export function runtimeLabel(provider: ProviderName): string {
  if (provider === 'webgpu') return `webgpu storageBufferCacheMode=${current.webgpuBufferCache}; ${PEAK_METHOD}`;
  // CUDA sessions keep what their arena grew, so each size is measured on a session of its own (calibrate-model.ts);
  // profiles measured on one shared session read each size after the smaller ones and are measured again.
  return provider === 'cuda' ? `cuda; ${PEAK_METHOD}; ${CUDA_SESSION_METHOD}` : `${provider}; ${PEAK_METHOD}`;
}

