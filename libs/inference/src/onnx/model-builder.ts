import { roundToHalf } from './half.js';
import { ElemType } from './onnx-proto.js';
import { encodeModel, makeCast, makeNode, makeValueInfo } from './proto-helpers.js';
import { seededRandom, uniformArray } from './seeded-random.js';
import { ELEM_TYPE_OF, makeFloatTensor, type FloatFormat } from './tensor-data.js';
import type { OnnxTypes } from './onnx-proto.js';

/** Shape and numeric format of the self-test MLP. */
export interface MlpModelOptions {
  inputWidth: number;
  hiddenWidth: number;
  /** Number of MatMul+Add layers (at least 1). Every layer but the last is followed by Relu. */
  layers: number;
  outputWidth: number;
  /** Format the weights are stored and the graph computes in; the graph boundary is always float32. */
  dtype: FloatFormat;
  /** Weight seed; the same seed gives the same weights in every format (before rounding). */
  seed?: number;
}

/** Shape and format of the activation-heavy model. */
export interface ActivationHeavyModelOptions {
  width: number;
  depth: number;
  dtype: 'fp32' | 'fp16';
}

interface MlpLayer {
  weight: Float32Array;
  bias: Float32Array;
  rows: number;
  cols: number;
}

const DEFAULT_SEED = 0x6770_7571; // "gpuq"

/**
 * Builds a small MLP as an ONNX model: `x` [batch, inputWidth] float32 → (Cast) → layers of
 * MatMul + Add(bias) + Relu → (Cast) → `y` [batch, outputWidth] float32.
 * Inputs and outputs stay float32 because onnxruntime-node cannot hand bf16 tensors across its API.
 */
export function buildMlpModel(opts: MlpModelOptions): Uint8Array {
  const layers = mlpWeights(opts);
  const elemType = ELEM_TYPE_OF[opts.dtype];
  const nodes: OnnxTypes.NodeProto[] = [];
  const initializers: OnnxTypes.TensorProto[] = [];

  let current = 'x';
  if (opts.dtype !== 'fp32') {
    nodes.push(makeCast('x', 'x_cast', elemType));
    current = 'x_cast';
  }
  layers.forEach((layer, i) => {
    initializers.push(makeFloatTensor(`w${i}`, [layer.rows, layer.cols], layer.weight, opts.dtype));
    initializers.push(makeFloatTensor(`b${i}`, [layer.cols], layer.bias, opts.dtype));
    nodes.push(makeNode('MatMul', [current, `w${i}`], [`mm${i}`], {}, `matmul${i}`));
    nodes.push(makeNode('Add', [`mm${i}`, `b${i}`], [`add${i}`], {}, `add${i}`));
    current = `add${i}`;
    if (i < layers.length - 1) {
      nodes.push(makeNode('Relu', [current], [`relu${i}`], {}, `relu${i}`));
      current = `relu${i}`;
    }
  });
  if (opts.dtype !== 'fp32') nodes.push(makeCast(current, 'y', ElemType.FLOAT));
  else nodes.push(makeNode('Identity', [current], ['y']));

  return encodeModel({
    name: `mlp-${opts.dtype}`,
    node: nodes,
    initializer: initializers,
    input: [makeValueInfo('x', ElemType.FLOAT, ['batch', opts.inputWidth])],
    output: [makeValueInfo('y', ElemType.FLOAT, ['batch', opts.outputWidth])],
  });
}

/**
 * The MLP of `buildMlpModel(opts)` computed in JavaScript in float32, with the weights rounded to `opts.dtype`
 * exactly as the model stores them. What remains between this and onnxruntime is the device's arithmetic.
 */
export function mlpReference(opts: MlpModelOptions, x: Float32Array, batch: number): Float32Array {
  if (x.length !== batch * opts.inputWidth) throw new Error(`x has ${x.length} values, expected ${batch} × ${opts.inputWidth}`);
  let activations = x;
  const layers = mlpWeights(opts);
  layers.forEach((layer, index) => {
    const weight = opts.dtype === 'fp32' ? layer.weight : roundToHalf(layer.weight, opts.dtype);
    const bias = opts.dtype === 'fp32' ? layer.bias : roundToHalf(layer.bias, opts.dtype);
    const next = new Float32Array(batch * layer.cols);
    for (let b = 0; b < batch; b++) {
      for (let c = 0; c < layer.cols; c++) {
        let sum = 0;
        for (let r = 0; r < layer.rows; r++) sum += activations[b * layer.rows + r]! * weight[r * layer.cols + c]!;
        sum += bias[c]!;
        next[b * layer.cols + c] = index < layers.length - 1 ? Math.max(0, sum) : sum;
      }
    }
    activations = next;
  });
  return activations;
}

/**
 * Builds a model whose activation memory grows linearly with batch:
 * `x` [batch, width] float32 → (Cast) → h1..h_depth with h_i = Relu(MatMul(h_{i-1}, W)) → Sum(h1..h_depth) → (Cast) → `y`.
 * The final Sum reads every h_i, so the runtime must keep all of them alive until the end.
 *
 * Expected peak activation bytes per batch item ≈ width × (depth × bytesPerElement + 2 × 4 + 2 × bytesPerElement)
 * (depth live intermediates, the float32 input and output, the cast input and the Sum result), i.e. roughly
 * width × depth × bytesPerElement for deep models. Fixed bytes: one [width, width] weight, shared by every layer.
 */
export function buildActivationHeavyModel(opts: ActivationHeavyModelOptions): Uint8Array {
  if (opts.depth < 1) throw new Error('depth must be at least 1');
  const elemType = ELEM_TYPE_OF[opts.dtype];
  // He-style scale keeps activations O(1) through the Relu chain, so fp16 neither overflows nor flushes to zero.
  const weight = uniformArray(seededRandom(DEFAULT_SEED), opts.width * opts.width, Math.sqrt(6 / opts.width));
  const nodes: OnnxTypes.NodeProto[] = [];
  let current = 'x';
  if (opts.dtype !== 'fp32') {
    nodes.push(makeCast('x', 'x_cast', elemType));
    current = 'x_cast';
  }
  const kept: string[] = [];
  for (let i = 1; i <= opts.depth; i++) {
    nodes.push(makeNode('MatMul', [current, 'w'], [`mm${i}`]));
    nodes.push(makeNode('Relu', [`mm${i}`], [`h${i}`]));
    kept.push(`h${i}`);
    current = `h${i}`;
  }
  nodes.push(makeNode('Sum', kept, ['sum']));
  if (opts.dtype !== 'fp32') nodes.push(makeCast('sum', 'y', ElemType.FLOAT));
  else nodes.push(makeNode('Identity', ['sum'], ['y']));
  return encodeModel({
    name: `activation-heavy-${opts.dtype}`,
    node: nodes,
    initializer: [makeFloatTensor('w', [opts.width, opts.width], weight, opts.dtype)],
    input: [makeValueInfo('x', ElemType.FLOAT, ['batch', opts.width])],
    output: [makeValueInfo('y', ElemType.FLOAT, ['batch', opts.width])],
  });
}

/** Predicted peak activation bytes of one batch item of `buildActivationHeavyModel(opts)` (see its TSDoc). */
export function activationHeavyBytesPerItem(opts: ActivationHeavyModelOptions): number {
  const bytes = opts.dtype === 'fp32' ? 4 : 2;
  return opts.width * (opts.depth * bytes + 2 * 4 + 2 * bytes);
}

/** Deterministic weights in float32 (before any rounding to the model's format). */
function mlpWeights(opts: MlpModelOptions): MlpLayer[] {
  if (opts.layers < 1) throw new Error('layers must be at least 1');
  const random = seededRandom(opts.seed ?? DEFAULT_SEED);
  const layers: MlpLayer[] = [];
  for (let i = 0; i < opts.layers; i++) {
    const rows = i === 0 ? opts.inputWidth : opts.hiddenWidth;
    const cols = i === opts.layers - 1 ? opts.outputWidth : opts.hiddenWidth;
    // Uniform with variance 2/rows (He init) keeps every layer's outputs O(1), so errors are comparable across widths.
    layers.push({ rows, cols, weight: uniformArray(random, rows * cols, Math.sqrt(6 / rows)), bias: uniformArray(random, cols, 0.1) });
  }
  return layers;
}
