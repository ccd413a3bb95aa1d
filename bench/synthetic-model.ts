import { ElemType, onnx } from '../libs/inference/src/onnx/onnx-proto.js';
import { encodeModel, makeCast, makeNode, makeValueInfo } from '../libs/inference/src/onnx/proto-helpers.js';
import { seededRandom, uniformArray } from '../libs/inference/src/onnx/seeded-random.js';
import { makeFloatTensor } from '../libs/inference/src/onnx/tensor-data.js';

/**
 * A synthetic model whose memory is mostly activations: x [n, width] → `depth` MatMuls with one shared weight,
 * every intermediate kept alive until an Add tree at the end, then ReduceSum to one number per item (so the
 * output stays small). Peak ≈ n × width × (depth × bytesPerElement + input and cast copies): a large-activation
 * workload whose per-item cost is known in advance, for VRAM-fit measurements.
 */
export function buildActivationModel(opts: { width: number; depth: number; dtype: 'fp16' | 'fp32' }): Uint8Array {
  const elem = opts.dtype === 'fp16' ? ElemType.FLOAT16 : ElemType.FLOAT;
  const weight = uniformArray(seededRandom(7), opts.width * opts.width, Math.sqrt(3 / opts.width));
  const nodes = [];
  let current = 'x';
  if (opts.dtype === 'fp16') {
    nodes.push(makeCast('x', 'x16', elem));
    current = 'x16';
  }
  let level: string[] = [];
  for (let i = 0; i < opts.depth; i++) {
    nodes.push(makeNode('MatMul', [current, 'w'], [`h${i}`]));
    level.push(`h${i}`);
    current = `h${i}`;
  }
  for (let round = 0; level.length > 1; round++) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2) {
      if (i + 1 === level.length) next.push(level[i]!);
      else {
        nodes.push(makeNode('Add', [level[i]!, level[i + 1]!], [`a${round}_${i}`]));
        next.push(`a${round}_${i}`);
      }
    }
    level = next;
  }
  nodes.push(makeNode('ReduceSum', [level[0]!, 'axes'], ['r'], { keepdims: 0 }));
  if (opts.dtype === 'fp16') nodes.push(makeCast('r', 'y', ElemType.FLOAT));
  else nodes.push(makeNode('Identity', ['r'], ['y']));
  return encodeModel({
    name: `activation-${opts.width}x${opts.depth}-${opts.dtype}`,
    node: nodes,
    initializer: [
      makeFloatTensor('w', [opts.width, opts.width], weight, opts.dtype),
      onnx.TensorProto.create({ name: 'axes', dataType: ElemType.INT64, dims: [1], int64Data: [1] }),
    ],
    input: [makeValueInfo('x', ElemType.FLOAT, ['n', opts.width])],
    output: [makeValueInfo('y', ElemType.FLOAT, ['n'])],
  });
}
