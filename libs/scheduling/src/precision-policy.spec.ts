import { describe, expect, it } from 'vitest';
import type { PrecisionPolicy } from '#contracts';
import { precisionCandidates } from './precision-policy.js';

describe('precisionCandidates', () => {
  it.each<[string, PrecisionPolicy, boolean, string[]]>([
    ['auto without cpu: half precisions only', 'auto', false, ['gpu bf16', 'gpu fp16']],
    ['auto with cpu: fp32 as the last resort', 'auto', true, ['gpu bf16', 'gpu fp16', 'gpu fp32', 'cpu fp32']],
    ['bf16 is gpu only', 'bf16', false, ['gpu bf16']],
    ['bf16 never falls to cpu', 'bf16', true, ['gpu bf16']],
    ['fp16 without cpu', 'fp16', false, ['gpu fp16']],
    ['fp16 with cpu', 'fp16', true, ['gpu fp16', 'cpu fp16']],
    ['fp32 without cpu', 'fp32', false, ['gpu fp32']],
    ['fp32 with cpu', 'fp32', true, ['gpu fp32', 'cpu fp32']],
  ])('%s', (_name, policy, allowCpu, expected) => {
    expect(precisionCandidates(policy, allowCpu).map((c) => `${c.device} ${c.precision}`)).toEqual(expected);
  });
});
