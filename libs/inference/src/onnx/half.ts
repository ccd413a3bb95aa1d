/**
 * Bit-exact conversions between float32 and the two 16-bit float formats ONNX stores in `raw_data`.
 * Written by hand because Node 20 has no Float16Array and the converter must produce exactly the bit
 * patterns a GPU would hold (round-to-nearest-even, like numpy and onnxconverter-common).
 */

// One shared scratch word: reinterpreting float bits through typed arrays avoids DataView allocation per value.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Largest finite fp16 value; anything larger (after rounding) becomes infinity. */
export const FLOAT16_MAX = 65504;

/** float32 → IEEE 754 binary16 bits, round-to-nearest-even; overflow → ±inf, NaN stays NaN (quiet). */
export function float32ToFloat16Bits(value: number): number {
  scratchF32[0] = value;
  const bits = scratchU32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;

  if (exponent === 0xff) return mantissa !== 0 ? sign | 0x7e00 | (mantissa >>> 13) : sign | 0x7c00;

  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;

  if (halfExponent <= 0) {
    // Below 2^-25 even the smallest subnormal (2^-24) is more than half a step away.
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    return sign | roundShift(significand, shift);
  }

  // A carry out of the mantissa correctly bumps the exponent (and reaches 0x7c00 = inf at the top).
  return sign | roundShift((halfExponent << 23) | mantissa, 13);
}

/** binary16 bits → float32 value (exact: every fp16 value is representable in float32). */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** float32 → bfloat16 bits (the upper half of the float32), round-to-nearest-even; NaN stays NaN (quiet). */
export function float32ToBfloat16Bits(value: number): number {
  scratchF32[0] = value;
  const bits = scratchU32[0]!;
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff;
  const lsb = (bits >>> 16) & 1;
  // No overflow past 2^32: the largest non-NaN pattern (0xff800000) plus 0x8000 stays below it.
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
}

/** bfloat16 bits → float32 value (exact). */
export function bfloat16BitsToFloat32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0]!;
}

/** The 16-bit float formats gpuq converts models to. */
export type HalfFormat = 'fp16' | 'bf16';

/** Converts a whole array to 16-bit patterns of `format`. */
export function encodeHalf(values: ArrayLike<number>, format: HalfFormat): Uint16Array {
  const encode = format === 'fp16' ? float32ToFloat16Bits : float32ToBfloat16Bits;
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = encode(values[i]!);
  return out;
}

/** Decodes 16-bit patterns of `format` back to float32. */
export function decodeHalf(bits: ArrayLike<number>, format: HalfFormat): Float32Array {
  const decode = format === 'fp16' ? float16BitsToFloat32 : bfloat16BitsToFloat32;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = decode(bits[i]!);
  return out;
}

/** Rounds float32 values to the nearest value `format` can hold (what a model in that format really stores). */
export function roundToHalf(values: ArrayLike<number>, format: HalfFormat): Float32Array {
  return decodeHalf(encodeHalf(values, format), format);
}

/** Shifts right by `shift` bits with round-to-nearest-even on the bits shifted out. */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const dropped = value & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  return dropped > halfway || (dropped === halfway && (kept & 1) === 1) ? kept + 1 : kept;
}
