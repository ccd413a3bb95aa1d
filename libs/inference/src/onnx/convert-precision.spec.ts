import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareOutputs } from './compare-outputs.js';
import { convertModelPrecision, convertModelPrecisionDetailed, UnsupportedModelError } from './convert-precision.js';
import { float16BitsToFloat32 } from './half.js';
import { buildMlpModel, type MlpModelOptions } from './model-builder.js';
import { ElemType, onnx } from './onnx-proto.js';
import { encodeModel, makeNode, makeValueInfo } from './proto-helpers.js';
import { seededRandom, uniformArray } from './seeded-random.js';
import { syntheticTextImage } from './synthetic-text-image.js';
import { makeFloatTensor } from './tensor-data.js';
import { PPOCR_DET_PATH, runOnCpu } from './test-support.js';
import { VARIANT_TOLERANCES } from './verify-variant.js';

const decode = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes).graph!;
const mlp: MlpModelOptions = { inputWidth: 16, hiddenWidth: 32, layers: 2, outputWidth: 8, dtype: 'fp32' };

describe('convertModelPrecision on a small MLP', () => {
  it('keeps float32 at the boundary, casts inside, and stores weights in fp16', () => {
    const graph = decode(convertModelPrecision(buildMlpModel(mlp), 'fp16'));
    expect(graph.input![0]!.type!.tensorType!.elemType).toBe(ElemType.FLOAT);
    expect(graph.output![0]!.type!.tensorType!.elemType).toBe(ElemType.FLOAT);
    expect(graph.initializer!.every((t) => t.dataType === ElemType.FLOAT16)).toBe(true);
    const casts = graph.node!.filter((n) => n.opType === 'Cast');
    expect(casts.map((c) => [c.input![0], Number(c.attribute![0]!.i)])).toEqual([
      ['x', ElemType.FLOAT16],
      ['y__gpuq_fp16', ElemType.FLOAT],
    ]);
    expect(graph.node!.at(-1)!.output).toEqual(['y']);
  });

  it('computes what the float32 model computes, within fp16 rounding', async () => {
    const x = uniformArray(seededRandom(5), 2 * 16, 1);
    const reference = await runOnCpu(buildMlpModel(mlp), x, [2, 16]);
    const converted = await runOnCpu(convertModelPrecision(buildMlpModel(mlp), 'fp16'), x, [2, 16]);
    expect(compareOutputs(reference, converted).maxAbsError).toBeLessThan(1e-2);
  });

  it('bf16 conversion is valid ONNX that the CPU provider has no kernels for', async () => {
    const converted = convertModelPrecision(buildMlpModel(mlp), 'bf16');
    expect(decode(converted).initializer!.every((t) => t.dataType === ElemType.BFLOAT16)).toBe(true);
    await expect(runOnCpu(converted, new Float32Array(16), [1, 16])).rejects.toThrow(/Could not find an implementation/);
  });
});

describe('what stays float32', () => {
  /** x → Resize(x, roi, scales) → Mul(·, k) → y, with float constants for roi, scales and k. */
  function resizeModel(k: number): Uint8Array {
    return encodeModel({
      node: [
        makeNode('Resize', ['x', 'roi', 'scales'], ['r'], {}, 'resize'),
        makeNode('Mul', ['r', 'k'], ['y'], {}, 'mul'),
      ],
      initializer: [
        makeFloatTensor('roi', [0], new Float32Array(0), 'fp32'),
        makeFloatTensor('scales', [4], Float32Array.of(1, 1, 2, 2), 'fp32'),
        makeFloatTensor('k', [1], Float32Array.of(k), 'fp32'),
      ],
      input: [makeValueInfo('x', ElemType.FLOAT, [1, 1, 2, 2])],
      output: [makeValueInfo('y', ElemType.FLOAT, [1, 1, 4, 4])],
    });
  }

  it("keeps Resize's roi and scales float32 while its data goes fp16", async () => {
    const converted = convertModelPrecision(resizeModel(3), 'fp16');
    const types = Object.fromEntries(decode(converted).initializer!.map((t) => [t.name, t.dataType]));
    expect(types).toEqual({ roi: ElemType.FLOAT, scales: ElemType.FLOAT, k: ElemType.FLOAT16 });
    const y = await runOnCpu(converted, Float32Array.of(1, 2, 3, 4), [1, 1, 2, 2]);
    expect(Array.from(y.slice(0, 4))).toEqual([3, 3, 6, 6]);
  });

  it('keeps a node float32 when a weight it reads would overflow fp16, and says why', async () => {
    const { model, keptFp32Nodes } = convertModelPrecisionDetailed(resizeModel(1e6), 'fp16');
    expect(keptFp32Nodes).toEqual([{ name: 'mul', opType: 'Mul', reason: expect.stringContaining('beyond fp16') }]);
    const y = await runOnCpu(model, Float32Array.of(1, 2, 3, 4), [1, 1, 2, 2]);
    expect(y[0]).toBe(1e6);
  });

  it('wraps blocked ops (TopK here) in Casts and keeps their inputs float32', async () => {
    const model = encodeModel({
      node: [makeNode('Relu', ['x'], ['h']), makeNode('TopK', ['h', 'k'], ['values', 'indices'], { axis: 1 }, 'topk'), makeNode('Neg', ['values'], ['y'])],
      initializer: [onnx.TensorProto.create({ name: 'k', dims: [1], dataType: ElemType.INT64, int64Data: [2] })],
      input: [makeValueInfo('x', ElemType.FLOAT, [1, 4])],
      output: [makeValueInfo('y', ElemType.FLOAT, [1, 2]), makeValueInfo('indices', ElemType.INT64, [1, 2])],
    });
    const { model: converted, keptFp32Nodes } = convertModelPrecisionDetailed(model, 'fp16', { keepFp32Ops: ['Relu'] });
    expect(keptFp32Nodes.map((n) => n.opType)).toEqual(['Relu', 'TopK']);
    const graph = decode(converted);
    const topk = graph.node!.find((n) => n.opType === 'TopK')!;
    expect(topk.input).toEqual(['h', 'k']);
    const neg = graph.node!.find((n) => n.opType === 'Neg')!;
    expect(neg.input).toEqual(['values__gpuq_to_fp16']);
    expect(await runOnCpu(converted, Float32Array.of(0.5, 4, -1, 2), [1, 4])).toEqual(Float32Array.of(-4, -2));
  });

  it('refuses models with subgraphs rather than converting half of them', () => {
    const model = encodeModel({
      node: [onnx.NodeProto.create({ opType: 'If', input: ['c'], output: ['y'], attribute: [{ name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: { name: 'g' } }] })],
      input: [makeValueInfo('c', 9, [])],
      output: [makeValueInfo('y', ElemType.FLOAT, [1])],
    });
    expect(() => convertModelPrecision(model, 'fp16')).toThrow(UnsupportedModelError);
  });
});

describe('PP-OCRv4 detection model', () => {
  const fp32 = readFileSync(PPOCR_DET_PATH);
  const input = syntheticTextImage(320, 320);
  const dims = [1, 3, 320, 320];

  it('contains only these op types (no subgraphs)', () => {
    const ops = new Set(decode(fp32).node!.map((n) => n.opType));
    expect([...ops].sort()).toEqual([
      'Add', 'BatchNormalization', 'Clip', 'Concat', 'Constant', 'Conv', 'ConvTranspose', 'Div',
      'GlobalAveragePool', 'HardSigmoid', 'Mul', 'Relu', 'Resize', 'Sigmoid',
    ]);
  });

  it('fp16 loads and stays within the fp16 tolerance of float32 on CPU', async () => {
    const conversion = convertModelPrecisionDetailed(fp32, 'fp16');
    // One BatchNorm's running variance reaches 9.8e7: in fp16 it would be infinity.
    expect(conversion.keptFp32Nodes).toEqual([expect.objectContaining({ opType: 'BatchNormalization', reason: expect.stringContaining('9.790e+7') })]);
    const reference = await runOnCpu(fp32, input, dims);
    expect(Math.max(...reference)).toBeGreaterThan(0.9); // the synthetic page really produces text probabilities
    const { maxAbsError, meanAbsError } = compareOutputs(reference, await runOnCpu(conversion.model, input, dims));
    expect(maxAbsError).toBeLessThanOrEqual(VARIANT_TOLERANCES.fp16.maxAbs);
    expect(meanAbsError).toBeLessThanOrEqual(VARIANT_TOLERANCES.fp16.meanAbs);
  });

  it('fp16 weights hold the fp16 bit patterns of the float32 weights', () => {
    const original = decode(fp32).node!.find((n) => n.output![0] === 'conv2d_0.w_0')!.attribute![0]!.t!;
    const converted = decode(convertModelPrecision(fp32, 'fp16')).node!.find((n) => n.output![0] === 'conv2d_0.w_0')!.attribute![0]!.t!;
    expect(converted.dataType).toBe(ElemType.FLOAT16);
    const first32 = new DataView(original.rawData!.buffer, original.rawData!.byteOffset).getFloat32(0, true);
    const first16 = new DataView(converted.rawData!.buffer, converted.rawData!.byteOffset).getUint16(0, true);
    expect(Math.abs(float16BitsToFloat32(first16) - first32)).toBeLessThanOrEqual(Math.abs(first32) * 2 ** -11);
  });

  it('bf16 raises the opset to 22, where Conv admits bfloat16: it type-checks, and the CPU provider has no bf16 Conv kernel', async () => {
    const { model, opsetRaisedFrom } = convertModelPrecisionDetailed(fp32, 'bf16');
    expect(opsetRaisedFrom).toBe(11);
    expect(onnx.ModelProto.decode(model).opsetImport!.map((o) => Number(o.version))).toEqual([22]);
    await expect(runOnCpu(model, input, dims)).rejects.toThrow(/Could not find an implementation for Conv\(22\) node/);
  });
});
