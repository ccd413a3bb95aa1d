import { describe, expect, it } from 'vitest';
import type { CapabilityClass, DeviceCapability } from '#contracts';
import { A10, A100_40, A100_80, CPU_NODE, H100, L4, RTX4090, T4, V100, WEBGPU_H100 } from '../test/fleet.js';
import { className, classesServedBy, largerClasses, parseClassName, tierFor, tierOf } from './classes.js';
import { MIB } from './units.js';

describe('className / parseClassName', () => {
  it.each<[string, CapabilityClass, string]>([
    ['gpu bf16 80 GB', { device: 'gpu', precision: 'bf16', tierGb: 80 }, 'gpu-bf16-80g'],
    ['gpu fp16 16 GB', { device: 'gpu', precision: 'fp16', tierGb: 16 }, 'gpu-fp16-16g'],
    ['gpu fp32 24 GB', { device: 'gpu', precision: 'fp32', tierGb: 24 }, 'gpu-fp32-24g'],
    ['cpu fp32 has no tier', { device: 'cpu', precision: 'fp32' }, 'cpu-fp32'],
    ['cpu fp16', { device: 'cpu', precision: 'fp16' }, 'cpu-fp16'],
  ])('%s', (_name, c, expected) => {
    expect(className(c)).toBe(expected);
    expect(parseClassName(expected)).toEqual(c);
  });

  it.each([
    ['empty', ''],
    ['unknown precision', 'gpu-int8-16g'],
    ['gpu without tier', 'gpu-fp16'],
    ['cpu with tier', 'cpu-fp32-16g'],
    ['tier that is not a tier', 'gpu-fp16-32g'],
    ['old style name', 'bf16'],
  ])('refuses %s', (_name, name) => {
    expect(() => parseClassName(name)).toThrow(/unknown capability class/);
  });

  it('refuses a gpu class without tier', () => {
    expect(() => className({ device: 'gpu', precision: 'fp16' })).toThrow();
  });
});

describe('tierOf', () => {
  it.each<[string, number, number | undefined]>([
    ['T4 (15360 MiB) reaches 16', T4.totalBytes, 16],
    ['V100 32 GB is a 24 GB card (no 32 tier)', V100.totalBytes, 24],
    ['A10 (23028 MiB) reaches 24', A10.totalBytes, 24],
    ['L4 (23034 MiB) reaches 24', L4.totalBytes, 24],
    ['RTX 4090 reaches 24', RTX4090.totalBytes, 24],
    ['A100 40GB (40960 MiB) reaches 40', A100_40.totalBytes, 40],
    ['A100 80GB reaches 80', A100_80.totalBytes, 80],
    ['H100 (81559 MiB) reaches 80', H100.totalBytes, 80],
    ['H200 (143771 MiB) reaches 141', 143771 * MIB, 141],
    ['exactly 95% of 16 GB', 16e9 * 0.95, 16],
    ['just below 95% of 16 GB', 16e9 * 0.95 - 1, 8],
    ['4 GB card is below every tier', 4e9, undefined],
  ])('%s', (_name, bytes, tier) => {
    expect(tierOf(bytes)).toBe(tier);
  });
});

describe('tierFor', () => {
  it.each<[string, number, number | undefined]>([
    ['3.6 GB job fits the 8 GB tier', 3.6e9, 8],
    ['exactly 7.6 GB (95% of 8)', 7.6e9, 8],
    ['just over 7.6 GB', 7.6e9 + 1, 16],
    ['21.2 GB needs the 24 GB tier', 21.2e9, 24],
    ['45.7 GB needs 80', 45.7e9, 80],
    ['200 GB fits no tier', 200e9, undefined],
  ])('%s', (_name, bytes, tier) => {
    expect(tierFor(bytes)).toBe(tier);
  });
});

describe('classesServedBy', () => {
  it.each<[string, DeviceCapability, string[]]>([
    [
      'T4: fp16 then fp32, largest tier first, no bf16',
      T4,
      ['gpu-fp16-16g', 'gpu-fp16-8g', 'gpu-fp32-16g', 'gpu-fp32-8g'],
    ],
    [
      'A10: bf16 before fp16 before fp32',
      A10,
      ['gpu-bf16-24g', 'gpu-bf16-16g', 'gpu-bf16-8g', 'gpu-fp16-24g', 'gpu-fp16-16g', 'gpu-fp16-8g', 'gpu-fp32-24g', 'gpu-fp32-16g', 'gpu-fp32-8g'],
    ],
    [
      'H100: bf16 80 first',
      H100,
      [
        ...['80', '40', '24', '16', '8'].map((t) => `gpu-bf16-${t}g`),
        ...['80', '40', '24', '16', '8'].map((t) => `gpu-fp16-${t}g`),
        ...['80', '40', '24', '16', '8'].map((t) => `gpu-fp32-${t}g`),
      ],
    ],
    [
      'webgpu H100 did not prove bf16: never serves bf16',
      WEBGPU_H100,
      [...['80', '40', '24', '16', '8'].map((t) => `gpu-fp16-${t}g`), ...['80', '40', '24', '16', '8'].map((t) => `gpu-fp32-${t}g`)],
    ],
    [
      'a cc 7.5 card that claims bf16 still gets no bf16 class',
      { ...T4, provenPrecisions: ['bf16', 'fp16'] },
      ['gpu-fp16-16g', 'gpu-fp16-8g'],
    ],
    ['CPU node: cpu-fp32 only', CPU_NODE, ['cpu-fp32']],
    ['GPU below the smallest tier serves nothing', { ...T4, totalBytes: 4e9 }, []],
  ])('%s', (_name, device, expected) => {
    expect(classesServedBy(device)).toEqual(expected);
  });
});

describe('largerClasses', () => {
  it.each<[string, string, string[]]>([
    ['fp16 16 GB', 'gpu-fp16-16g', ['gpu-fp16-24g', 'gpu-fp16-40g', 'gpu-fp16-80g', 'gpu-fp16-141g']],
    ['bf16 80 GB', 'gpu-bf16-80g', ['gpu-bf16-141g']],
    ['largest tier', 'gpu-bf16-141g', []],
    ['cpu has no tiers', 'cpu-fp32', []],
  ])('%s', (_name, name, expected) => {
    expect(largerClasses(name)).toEqual(expected);
  });
});
