/** Numeric formats a model can run in. Ordered from most to least specific hardware need. */
export const PRECISIONS = ['bf16', 'fp16', 'fp32'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** What the client asks for. `auto` means: the best precision the live fleet has proven, never chosen silently. */
export const PRECISION_POLICIES = ['auto', 'bf16', 'fp16', 'fp32'] as const;
export type PrecisionPolicy = (typeof PRECISION_POLICIES)[number];

/** bf16 is a hardware feature of compute capability 8.0 and later (Ampere, Ada, Hopper, Blackwell). */
export const BF16_MIN_COMPUTE_CAPABILITY = 8.0;

/** Bytes of one element, used to predict memory ratios between precisions. */
export const BYTES_PER_ELEMENT: Record<Precision, number> = { bf16: 2, fp16: 2, fp32: 4 };
