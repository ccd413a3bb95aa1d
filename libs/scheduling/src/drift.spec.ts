import { describe, expect, it } from 'vitest';
import { detectDrift } from './drift.js';

describe('detectDrift', () => {
  it.each<[string, number, number, number | undefined, { drifted: boolean; ratio: number; text: string[] }]>([
    ['the seed story: 45.7 GB measured vs 3.6 GB expected', 3.6e9, 45.7e9, undefined, { drifted: true, ratio: 12.7, text: ['45.70 GB', '3.60 GB', '12.7x', 'precision drift'] }],
    ['on target', 3.6e9, 3.7e9, undefined, { drifted: false, ratio: 1.03, text: ['within 2x'] }],
    ['float32 islands on the H200 read 1.6x: flagged with a tighter factor', 0.4e9, 0.64e9, 1.5, { drifted: true, ratio: 1.6, text: ['threshold 1.5x'] }],
    ['exactly at the factor', 2e9, 4e9, undefined, { drifted: true, ratio: 2, text: ['2.0x'] }],
    ['below the prediction is not drift', 10e9, 2e9, undefined, { drifted: false, ratio: 0.2, text: [] }],
    ['below the default factor', 3.6e9, 5.8e9, undefined, { drifted: false, ratio: 1.61, text: ['within 2x'] }],
  ])('%s', (_name, predicted, measured, factor, expected) => {
    const result = detectDrift(predicted, measured, factor);
    expect(result.drifted).toBe(expected.drifted);
    expect(result.ratio).toBeCloseTo(expected.ratio, 1);
    for (const text of expected.text) expect(result.message).toContain(text);
  });

  it('nothing predicted but memory used counts as drift', () => {
    expect(detectDrift(0, 1e9)).toMatchObject({ drifted: true, ratio: Infinity });
  });
});
