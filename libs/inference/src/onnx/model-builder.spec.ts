import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computedIn, parseProfile, takeProfileFile } from '../runtime/execution-profile.js';
import { compareOutputs } from './compare-outputs.js';
import { activationHeavyBytesPerItem, buildActivationHeavyModel, buildMlpModel, mlpReference, type MlpModelOptions } from './model-builder.js';
import { ElemType, onnx } from './onnx-proto.js';
import { seededRandom, uniformArray } from './seeded-random.js';
import { runOnCpu } from './test-support.js';

const mlp = (dtype: MlpModelOptions['dtype']): MlpModelOptions => ({ inputWidth: 64, hiddenWidth: 64, layers: 3, outputWidth: 16, dtype });
const x = uniformArray(seededRandom(1), 4 * 64, 1);
const workDir = await mkdtemp(join(tmpdir(), 'gpuq-model-builder-'));
afterAll(() => rm(workDir, { recursive: true, force: true }));

describe('buildMlpModel', () => {
  it('keeps the graph boundary float32 and stores weights in the requested format', () => {
    const model = onnx.ModelProto.decode(buildMlpModel(mlp('bf16')));
    expect(model.graph!.input![0]!.type!.tensorType!.elemType).toBe(ElemType.FLOAT);
    expect(model.graph!.output![0]!.type!.tensorType!.elemType).toBe(ElemType.FLOAT);
    expect(new Set(model.graph!.initializer!.map((t) => t.dataType))).toEqual(new Set([ElemType.BFLOAT16]));
    expect(model.graph!.initializer![0]!.rawData!.length).toBe(64 * 64 * 2);
    expect(model.opsetImport![0]!.version?.toString()).toBe('17');
  });

  it('fp32 matches the JavaScript reference on the CPU provider', async () => {
    const y = await runOnCpu(buildMlpModel(mlp('fp32')), x, [4, 64]);
    expect(compareOutputs(mlpReference(mlp('fp32'), x, 4), y).maxAbsError).toBeLessThan(1e-5);
  });

  it('fp16 runs on CPU half in fp16: Gemm has an fp16 kernel, Relu is wrapped in Casts to float32 (measured in the profile)', async () => {
    const prefix = join(workDir, 'mlp-fp16-profile');
    const y = await runOnCpu(buildMlpModel(mlp('fp16')), x, [4, 64], { enableProfiling: true, profileFilePrefix: prefix });
    // Within fp16 rounding of the activations (onnxruntime 1.29: ~3e-3 here), not float32-exact.
    expect(compareOutputs(mlpReference(mlp('fp16'), x, 4), y).maxAbsError).toBeLessThan(2e-2);
    const nodes = parseProfile(await takeProfileFile(prefix));
    const by = (op: string) => new Set(nodes.filter((n) => n.op === op).map(computedIn));
    expect(by('Gemm')).toEqual(new Set(['fp16']));
    expect(by('Relu')).toEqual(new Set(['fp32']));
  });

  it('bf16 does not run on the CPU provider', async () => {
    await expect(runOnCpu(buildMlpModel(mlp('bf16')), x, [4, 64])).rejects.toThrow(/Could not find an implementation for \w+\(\d+\) node/);
  });

  it('gives the same weights for the same seed and different ones for another', () => {
    expect(buildMlpModel(mlp('fp32'))).toEqual(buildMlpModel(mlp('fp32')));
    expect(buildMlpModel({ ...mlp('fp32'), seed: 2 })).not.toEqual(buildMlpModel(mlp('fp32')));
  });
});

describe('buildActivationHeavyModel', () => {
  it.each(['fp32', 'fp16'] as const)('runs in %s with a finite output of the input shape', async (dtype) => {
    const input = uniformArray(seededRandom(3), 8 * 32, 1);
    const y = await runOnCpu(buildActivationHeavyModel({ width: 32, depth: 6, dtype }), input, [8, 32]);
    expect(y.length).toBe(8 * 32);
    expect(y.every(Number.isFinite)).toBe(true);
  });

  it('documents bytes per item growing with depth and element size', () => {
    expect(activationHeavyBytesPerItem({ width: 1024, depth: 10, dtype: 'fp32' })).toBe(1024 * (10 * 4 + 16));
    expect(activationHeavyBytesPerItem({ width: 1024, depth: 10, dtype: 'fp16' })).toBe(1024 * (10 * 2 + 12));
  });
});
