import { describe, expect, it } from 'vitest';
import type { ExecutionMeasurement } from '#contracts';
import { judgeExecution } from './executed-precision.js';

const CUDA = 'CUDAExecutionProvider';
const measurement = (m: Partial<ExecutionMeasurement>): ExecutionMeasurement => ({
  provider: CUDA, flopsShare: { bf16: 1 }, computeNodes: { bf16: 64 }, placement: { [CUDA]: 380 }, exceptions: [], flops: 1e10, ...m,
});

describe('judgeExecution', () => {
  it.each<[string, ExecutionMeasurement, boolean, string[]]>([
    ['all of it in bf16 on CUDA', measurement({}), true, ['100.0 % of the arithmetic in bf16 (64 of 64 compute nodes)', `${CUDA} 380`]],
    [
      'two ConvTranspose kept in fp32 (no bf16 kernel): 97 % is a kept promise',
      measurement({
        flopsShare: { bf16: 0.97, fp32: 0.03 }, computeNodes: { bf16: 62, fp32: 2 },
        exceptions: [{ node: 'ct0', op: 'ConvTranspose', precision: 'fp32', provider: CUDA }, { node: 'ct1', op: 'ConvTranspose', precision: 'fp32', provider: CUDA }],
      }),
      true,
      ['97.0 % of the arithmetic in bf16 (62 of 64 compute nodes)', '3.0 % in fp32 (2 nodes: ConvTranspose)'],
    ],
    [
      'the seed story: a bf16 promise computed in float32 (Conv kept in fp32)',
      measurement({ flopsShare: { fp32: 0.96, bf16: 0.04 }, computeNodes: { fp32: 62, bf16: 2 } }),
      false,
      ['4.0 % of the arithmetic in bf16', '96.0 % in fp32 (62 nodes)', 'below the 90.0 % a bf16 promise needs'],
    ],
    [
      'a compute node handed to the CPU provider',
      measurement({ exceptions: [{ node: 'mm', op: 'MatMul', precision: 'bf16', provider: 'CPUExecutionProvider' }], placement: { [CUDA]: 379, CPUExecutionProvider: 1 } }),
      false,
      ['1 compute node(s) ran on CPUExecutionProvider, not CUDAExecutionProvider'],
    ],
    ['no compute node at all', measurement({ flopsShare: {}, computeNodes: {} }), false, ['measured no compute node']],
  ])('%s', (_name, m, ok, texts) => {
    const verdict = judgeExecution('bf16', m, 0.9);
    expect(verdict.ok).toBe(ok);
    for (const text of texts) expect(verdict.message).toContain(text);
  });
});
