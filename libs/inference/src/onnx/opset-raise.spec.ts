import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ElemType, onnx, type OnnxTypes } from './onnx-proto.js';
import { defaultOpset, OpsetRaiseError, raiseOpset } from './opset-raise.js';
import { makeNode, makeValueInfo } from './proto-helpers.js';
import { syntheticTextImage } from './synthetic-text-image.js';
import { PPOCR_DET_PATH, runOnCpu } from './test-support.js';

/** A decoded opset-11 model of one graph. */
function model11(nodes: OnnxTypes.NodeProto[], inputDims: number[], outputDims: number[]): OnnxTypes.ModelProto {
  return onnx.ModelProto.create({
    irVersion: 6, opsetImport: [{ domain: '', version: 11 }],
    graph: { name: 'g', node: nodes, input: [makeValueInfo('x', ElemType.FLOAT, inputDims)], output: [makeValueInfo('y', ElemType.FLOAT, outputDims)] },
  });
}
const encode = (m: OnnxTypes.IModelProto) => onnx.ModelProto.encode(m).finish();
const ints = (name: string, values: number[]) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });

describe('raiseOpset', () => {
  it('raises PP-OCRv4 from 11 to 22 without changing a single output value', async () => {
    const source = readFileSync(PPOCR_DET_PATH);
    const model = onnx.ModelProto.decode(source);
    expect(raiseOpset(model)).toBe(11);
    expect(defaultOpset(model)).toBe(22);
    expect(Number(model.irVersion)).toBeGreaterThanOrEqual(10);
    const x = syntheticTextImage(160, 160);
    const before = await runOnCpu(source, x.slice(), [1, 3, 160, 160]);
    const after = await runOnCpu(encode(model), x.slice(), [1, 3, 160, 160]);
    expect(Array.from(after)).toEqual(Array.from(before));
  });

  it('moves attributes that became inputs (Unsqueeze axes at 13, ReduceMean axes at 18) and means the same', async () => {
    const nodes = [
      onnx.NodeProto.create({ opType: 'Unsqueeze', input: ['x'], output: ['u'], name: 'unsq', attribute: [ints('axes', [0])] }),
      onnx.NodeProto.create({ opType: 'ReduceMean', input: ['u'], output: ['y'], name: 'mean', attribute: [ints('axes', [2])] }),
    ];
    const original = model11(nodes, [2, 3], [1, 2, 1]);
    const raised = onnx.ModelProto.decode(encode(original));
    raiseOpset(raised);
    expect(raised.graph!.node!.map((n) => [n.input, n.attribute!.length])).toEqual([[['x', 'unsq__gpuq_axes'], 0], [['u', 'mean__gpuq_axes'], 0]]);
    const x = Float32Array.of(1, 2, 3, 4, 5, 6);
    expect(Array.from(await runOnCpu(encode(raised), x, [2, 3]))).toEqual(Array.from(await runOnCpu(encode(original), x, [2, 3])));
  });

  it('tells a Split without `split` how many outputs it makes (required from 18)', () => {
    const split = onnx.NodeProto.create({ opType: 'Split', input: ['x'], output: ['a', 'b'], name: 'split', attribute: [] });
    const model = model11([split, makeNode('Add', ['a', 'b'], ['y'])], [4], [2]);
    raiseOpset(model);
    expect(model.graph!.node![0]!.attribute!.map((a) => [a.name, Number(a.i)])).toEqual([['num_outputs', 2]]);
  });

  it.each<[string, OnnxTypes.NodeProto, RegExp]>([
    ['Softmax over a flattened axis', onnx.NodeProto.create({ opType: 'Softmax', input: ['x'], output: ['y'], name: 'sm', attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 })] }), /Softmax sm normalizes over a flattened axis/],
    ['an op not known to mean the same', makeNode('Dropout', ['x'], ['y'], {}, 'drop'), /Dropout \(drop\) is not known to mean the same at opset 22 as at 11/],
  ])('refuses %s rather than reinterpret the model', (_name, node, message) => {
    const model = model11([node], [2, 3], [2, 3]);
    expect(() => raiseOpset(model)).toThrow(OpsetRaiseError);
    expect(() => raiseOpset(model11([node], [2, 3], [2, 3]))).toThrow(message);
  });

  it('leaves a model already at the target alone', () => {
    const model = onnx.ModelProto.create({ irVersion: 10, opsetImport: [{ domain: '', version: 22 }], graph: { node: [] } });
    expect(raiseOpset(model)).toBe(22);
  });
});
