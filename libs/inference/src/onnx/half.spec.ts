import { describe, expect, it } from 'vitest';
import {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  roundToHalf,
} from './half.js';

describe('float32 → fp16', () => {
  it.each([
    ['one', 1, 0x3c00],
    ['minus two', -2, 0xc000],
    ['zero', 0, 0x0000],
    ['negative zero', -0, 0x8000],
    ['largest finite', 65504, 0x7bff],
    ['rounds up to infinity past the last half step', 65520, 0x7c00],
    ['just below the overflow half step stays finite', 65519, 0x7bff],
    ['smallest normal', 2 ** -14, 0x0400],
    ['smallest subnormal', 2 ** -24, 0x0001],
    ['half the smallest subnormal ties to even (zero)', 2 ** -25, 0x0000],
    ['1.5 × half the smallest subnormal rounds up', 1.5 * 2 ** -25, 0x0001],
    ['tie between 1 and 1+2^-10 goes to even (1)', 1 + 2 ** -11, 0x3c00],
    ['tie between 1+2^-10 and 1+2^-9 goes to even (1+2^-9)', 1 + 3 * 2 ** -11, 0x3c02],
    ['above the tie rounds up', 1 + 2 ** -11 + 2 ** -20, 0x3c01],
    ['infinity', Infinity, 0x7c00],
    ['negative infinity', -Infinity, 0xfc00],
  ])('%s', (_name, value, bits) => {
    expect(float32ToFloat16Bits(value)).toBe(bits);
  });

  it('keeps NaN a NaN', () => {
    const bits = float32ToFloat16Bits(Number.NaN);
    expect(bits & 0x7c00).toBe(0x7c00);
    expect(bits & 0x3ff).not.toBe(0);
    expect(float16BitsToFloat32(bits)).toBeNaN();
  });

  it('round-trips every non-NaN fp16 bit pattern exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const isNaN = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
      if (isNaN) continue;
      expect(float32ToFloat16Bits(float16BitsToFloat32(bits))).toBe(bits);
    }
  });
});

describe('float32 → bf16', () => {
  it.each([
    ['one', 1, 0x3f80],
    ['minus two', -2, 0xc000],
    ['negative zero', -0, 0x8000],
    ['tie goes to even (1)', 1 + 2 ** -8, 0x3f80],
    ['tie goes to even (1+2^-6)', 1 + 3 * 2 ** -8, 0x3f82],
    ['above the tie rounds up', 1 + 2 ** -8 + 2 ** -20, 0x3f81],
    ['keeps float32 range (1e38 = 0x7e967699 rounds down)', 1e38, 0x7e96],
    ['rounds the largest float32 to infinity', 3.4028234663852886e38, 0x7f80],
    ['infinity', Infinity, 0x7f80],
    ['negative infinity', -Infinity, 0xff80],
  ])('%s', (_name, value, bits) => {
    expect(float32ToBfloat16Bits(value)).toBe(bits);
  });

  it('keeps NaN a NaN', () => {
    expect(bfloat16BitsToFloat32(float32ToBfloat16Bits(Number.NaN))).toBeNaN();
  });

  it('round-trips every non-NaN bf16 bit pattern exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = bfloat16BitsToFloat32(bits);
      if (Number.isNaN(value)) continue;
      expect(float32ToBfloat16Bits(value)).toBe(bits);
    }
  });
});

describe('roundToHalf', () => {
  it('rounds to the nearest representable value of each format', () => {
    expect(Array.from(roundToHalf([0.1], 'fp16'))).toEqual([float16BitsToFloat32(0x2e66)]);
    expect(Array.from(roundToHalf([0.1], 'bf16'))).toEqual([bfloat16BitsToFloat32(0x3dcd)]);
  });
});
