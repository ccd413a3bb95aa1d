import { ElemType, onnx, toNumber, type OnnxTypes } from './onnx-proto.js';

/**
 * bf16 needs a newer opset than most exported models declare: Conv, ConvTranspose, the pools and several
 * activations admit tensor(bfloat16) only from opset 22 (an opset-11 Conv in bf16 fails ONNX type checking at
 * load). Raising the declared opset is safe only for ops whose meaning did not change on the way, so each op is
 * either known to have changed in types alone (or gained attributes whose defaults keep the old behaviour), or
 * rewritten to its new form (an attribute that became an input), or refused: a model is never silently reinterpreted.
 */
export const BF16_OPSET = 22;

/** The IR version that carries opset 22 (ONNX 1.16). */
const IR_VERSION_FOR_BF16_OPSET = 10;

/**
 * Ops whose definitions from opset 11 to 22 differ only in the types they admit, or by added attributes and
 * optional inputs whose defaults keep the old behaviour (ONNX's Changelog.md, checked op by op).
 */
const SAME_MEANING_SINCE_11: ReadonlySet<string> = new Set([
  'Abs', 'Acos', 'Acosh', 'Add', 'And', 'ArgMax', 'ArgMin', 'Asin', 'Asinh', 'Atan', 'Atanh', 'AveragePool',
  'BatchNormalization', 'Cast', 'Ceil', 'Clip', 'Concat', 'Constant', 'ConstantOfShape', 'Conv', 'ConvTranspose',
  'Cos', 'Cosh', 'CumSum', 'DepthToSpace', 'Div', 'Elu', 'Equal', 'Erf', 'Exp', 'Expand', 'Flatten', 'Floor',
  'GRU', 'Gather', 'GatherElements', 'GatherND', 'Gemm', 'GlobalAveragePool', 'GlobalMaxPool', 'Greater', 'HardSigmoid',
  'Identity', 'InstanceNormalization', 'LRN', 'LSTM', 'LeakyRelu', 'Less', 'Log', 'MatMul', 'Max', 'MaxPool', 'Mean',
  'Min', 'Mul', 'Neg', 'NonMaxSuppression', 'NonZero', 'Not', 'OneHot', 'Or', 'PRelu', 'Pad', 'Pow', 'RNN', 'Range',
  'Reciprocal', 'Relu', 'Reshape', 'Resize', 'Round', 'ScatterElements', 'ScatterND', 'Selu', 'Shape', 'Sigmoid', 'Sign',
  'Sin', 'Sinh', 'Size', 'Slice', 'Softplus', 'Softsign', 'SpaceToDepth', 'Sqrt', 'Sub', 'Sum', 'Tan', 'Tanh', 'Tile',
  'TopK', 'Transpose', 'Where', 'Xor',
]);

/** Ops whose `axes` (or `split`) attribute became an input: at opset 13 for these, at 18 for the other reductions. */
const ATTRIBUTE_BECAME_INPUT: Readonly<Record<string, { attribute: string; since: number; slot: number }>> = {
  Squeeze: { attribute: 'axes', since: 13, slot: 1 },
  Unsqueeze: { attribute: 'axes', since: 13, slot: 1 },
  Split: { attribute: 'split', since: 13, slot: 1 },
  ReduceSum: { attribute: 'axes', since: 13, slot: 1 },
  ...Object.fromEntries(
    ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']
      .map((op) => [op, { attribute: 'axes', since: 18, slot: 1 }]),
  ),
};

/** Softmax and its kin changed at 13 from "flatten at axis" to "along axis": the same only along the last axis. */
const LAST_AXIS_ONLY = new Set(['Softmax', 'LogSoftmax', 'Hardmax']);

/** Thrown when a model cannot be raised without changing what it computes; says which op and why. */
export class OpsetRaiseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** The default-domain opset a model declares. */
export function defaultOpset(model: OnnxTypes.IModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return toNumber(entry?.version ?? 0);
}

/**
 * Raises a decoded model (in place) to opset `to`, rewriting the ops whose form changed; throws OpsetRaiseError
 * for ops whose meaning changed in a way not handled here. Returns the opset it was raised from.
 */
export function raiseOpset(model: OnnxTypes.IModelProto, to = BF16_OPSET): number {
  const from = defaultOpset(model);
  if (from >= to) return from;
  if (from < 11) throw new OpsetRaiseError(`opset ${from} is older than 11; only opset 11 and later models are raised to ${to}`);
  const graph = model.graph!;
  const added: OnnxTypes.TensorProto[] = [];
  for (const node of graph.node ?? []) {
    const op = node.opType ?? '';
    if (node.domain && node.domain !== 'ai.onnx') continue; // other domains keep their own versions
    const rewrite = ATTRIBUTE_BECAME_INPUT[op];
    if (rewrite) {
      if (from < rewrite.since) moveAttributeToInput(node, rewrite.attribute, rewrite.slot, added);
      // From 18 a Split without `split` must say how many outputs it makes.
      if (op === 'Split' && to >= 18 && !node.input?.[1] && !node.attribute?.some((a) => a.name === 'num_outputs')) {
        node.attribute = [...(node.attribute ?? []), onnx.AttributeProto.create({ name: 'num_outputs', type: onnx.AttributeProto.AttributeType.INT, i: node.output?.length ?? 0 })];
      }
      continue;
    }
    if (op === 'BatchNormalization' && (node.output ?? []).filter(Boolean).length > 1) {
      throw new OpsetRaiseError(`BatchNormalization ${node.name ?? ''} has training outputs, whose meaning changed at opset 14`);
    }
    if (LAST_AXIS_ONLY.has(op)) {
      const axis = node.attribute?.find((a) => a.name === 'axis');
      if (from < 13 && (!axis || toNumber(axis.i) !== -1)) {
        throw new OpsetRaiseError(`${op} ${node.name ?? ''} normalizes over a flattened axis at opset ${from} and along one axis from 13; only axis -1 means the same in both`);
      }
      continue;
    }
    if (op === 'Resize') {
      const mode = node.attribute?.find((a) => a.name === 'coordinate_transformation_mode');
      if (mode?.s && Buffer.from(mode.s).toString() === 'tf_half_pixel_for_nn') {
        throw new OpsetRaiseError(`Resize ${node.name ?? ''} uses coordinate_transformation_mode tf_half_pixel_for_nn, which opset 13 removed`);
      }
      continue;
    }
    if (!SAME_MEANING_SINCE_11.has(op)) {
      throw new OpsetRaiseError(`${op} (${node.name ?? ''}) is not known to mean the same at opset ${to} as at ${from}; the model is not raised`);
    }
  }
  graph.initializer = [...(graph.initializer ?? []), ...added] as OnnxTypes.TensorProto[];
  for (const entry of model.opsetImport ?? []) if (!entry.domain || entry.domain === 'ai.onnx') entry.version = to;
  model.irVersion = Math.max(toNumber(model.irVersion ?? 0), IR_VERSION_FOR_BF16_OPSET);
  return from;
}

function moveAttributeToInput(node: OnnxTypes.INodeProto, attribute: string, slot: number, added: OnnxTypes.TensorProto[]): void {
  const found = node.attribute?.find((a) => a.name === attribute);
  if (!found) return; // absent: the input stays absent, which means the same default
  const values = (found.ints ?? []).map((v) => toNumber(v));
  const name = `${node.name || node.output?.[0] || node.opType}__gpuq_${attribute}`;
  added.push(onnx.TensorProto.create({ name, dims: [values.length], dataType: ElemType.INT64, int64Data: values }));
  node.attribute = node.attribute!.filter((a) => a !== found);
  const inputs = [...(node.input ?? [])];
  while (inputs.length < slot) inputs.push('');
  inputs[slot] = name;
  node.input = inputs;
}
