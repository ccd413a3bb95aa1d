import type { Precision } from '#contracts';

/**
 * Largest allowed |onnxruntime − reference| of the self-test MLP, relative to the largest |reference| value
 * (at least 1). The reference already holds the rounded weights, so what remains is the device's rounding of
 * activations and sums: 64-term dot products over 3 layers give roughly √64 × 3 unit roundoffs of headroom.
 * - fp32: unit roundoff 6e-8; measured 6e-7 on CPU (ORT's fused Gemm sums in another order). 1e-4 catches any
 *   real fault while allowing TF32-style GPU matmuls.
 * - fp16: unit roundoff 4.9e-4 → ~1e-2 worst case with fp16 accumulation; 2e-2.
 * - bf16: unit roundoff 3.9e-3 (8× fp16) → 1e-1.
 */
export const SELF_TEST_RELATIVE_TOLERANCE: Record<Precision, number> = {
  fp32: 1e-4,
  fp16: 2e-2,
  bf16: 1e-1,
};
