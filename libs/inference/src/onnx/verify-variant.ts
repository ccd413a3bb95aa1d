import * as ort from 'onnxruntime-node';
import type { ProviderName } from '#contracts';
import { executionProvider } from '../runtime/session-options.js';
import { compareOutputs, type OutputComparison } from './compare-outputs.js';
import { errorText } from './error-text.js';
import type { HalfFormat } from './half.js';
import { syntheticTextImage } from './synthetic-text-image.js';

/** Largest errors a variant may show against float32 on the same input. */
export interface VariantTolerance {
  maxAbs: number;
  meanAbs: number;
}

/**
 * Tolerances for probability maps (values in 0..1, e.g. PP-OCR detection), from measurement on
 * ch_PP-OCRv4_det on synthetic text pages of 160² to 640² (onnxruntime-node 1.30, CPU provider):
 * - fp16: mean 4e-5..3.2e-4, max 0.03..0.26. Max is set by a few pixels on text edges where the sigmoid is
 *   steep; they flip 0.003–0.04 % of pixels at the 0.3 threshold. Mean gets ~15× headroom (fp16 activations on
 *   a GPU add error the CPU run, which upcasts, did not have); max 0.5 only catches overflow and broken maps.
 * - bf16 (weights rounded to bf16, computed in float32 on the CPU): mean 5e-4..4e-3, max 0.38..1.0. Mean gets 5×
 *   headroom; max cannot discriminate, so it only rejects NaN/infinity. Computed in bf16 on the H200's CUDA
 *   provider (onnxruntime 1.29, 97 % of the arithmetic): mean 0.0033, max 0.956 at 320², and the same text lines
 *   found as fp32 on the sample pages (docs/cuda.md).
 */
export const VARIANT_TOLERANCES: Record<HalfFormat, VariantTolerance> = {
  fp16: { maxAbs: 0.5, meanAbs: 0.005 },
  bf16: { maxAbs: 1, meanAbs: 0.02 },
};

/** Input of a verification run: one float32 tensor. */
export interface VerificationInput {
  name?: string;
  data: Float32Array;
  dims: number[];
}

/** Options of {@link verifyVariant}. */
export interface VerifyVariantOptions {
  fp32Path: string;
  variantPath: string;
  precision: HalfFormat;
  provider: ProviderName;
  /** Defaults to a synthetic 320×320 text page, normalized as PP-OCR's detector expects ([1, 3, 320, 320]). */
  input?: VerificationInput;
  tolerance?: VariantTolerance;
}

/** Outcome of comparing a variant with its float32 source. */
export interface VariantVerification extends OutputComparison {
  precision: HalfFormat;
  provider: ProviderName;
  tolerance: VariantTolerance;
  passed: boolean;
  /** Why the variant could not be run, in onnxruntime's words. */
  error?: string;
}

/**
 * Runs the float32 model and its variant on the same input with `provider` and compares every output.
 * The float32 run is the reference, on the same provider, so only precision differs.
 */
export async function verifyVariant(opts: VerifyVariantOptions): Promise<VariantVerification> {
  const tolerance = opts.tolerance ?? VARIANT_TOLERANCES[opts.precision];
  const input = opts.input ?? { data: syntheticTextImage(320, 320), dims: [1, 3, 320, 320] };
  const base = { precision: opts.precision, provider: opts.provider, tolerance };
  const reference = await runAll(opts.fp32Path, opts.provider, input);
  let candidate: Float32Array;
  try {
    candidate = await runAll(opts.variantPath, opts.provider, input);
  } catch (error) {
    return { ...base, passed: false, maxAbsError: Number.POSITIVE_INFINITY, meanAbsError: Number.POSITIVE_INFINITY, error: errorText(error) };
  }
  const comparison = compareOutputs(reference, candidate);
  const passed = comparison.maxAbsError <= tolerance.maxAbs && comparison.meanAbsError <= tolerance.meanAbs;
  return { ...base, ...comparison, passed };
}

/** Every output of one run, concatenated in output order. */
async function runAll(modelPath: string, provider: ProviderName, input: VerificationInput): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: [executionProvider(provider)], logSeverityLevel: 3 });
  try {
    const name = input.name ?? session.inputNames[0]!;
    const results = await session.run({ [name]: new ort.Tensor('float32', input.data, input.dims) });
    const parts = session.outputNames.map((output) => results[output]!.data as Float32Array);
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  } finally {
    await session.release();
  }
}
