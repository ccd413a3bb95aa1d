import { ElemType, onnx, toNumber, type OnnxTypes } from './onnx-proto.js';

const BOOL = 9;
const BOOL_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);
const INT64_OPS = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression']);

/**
 * Element type of every tensor name in a graph, as far as it can be known without full shape inference:
 * declared types (inputs, outputs, value_info, initializers) win; otherwise a per-op rule, where most ops
 * output the type of their first input. Names left out are unknown, and the converter leaves them alone.
 */
export function inferElemTypes(graph: OnnxTypes.IGraphProto): Map<string, number> {
  const types = new Map<string, number>();
  const declared = new Map<string, number>();
  for (const info of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) {
    const elemType = info.type?.tensorType?.elemType;
    if (info.name && elemType) declared.set(info.name, elemType);
  }
  for (const tensor of graph.initializer ?? []) if (tensor.name) types.set(tensor.name, tensor.dataType ?? 0);
  for (const [name, elemType] of declared) types.set(name, elemType);

  // ONNX requires nodes in topological order, so one pass sees every producer before its consumers.
  for (const node of graph.node ?? []) {
    const outputs = node.output ?? [];
    outputs.forEach((output, slot) => {
      if (!output || declared.has(output)) return;
      const inferred = outputElemType(node, slot, types);
      if (inferred !== undefined) types.set(output, inferred);
    });
  }
  return types;
}

function outputElemType(node: OnnxTypes.INodeProto, slot: number, types: Map<string, number>): number | undefined {
  const op = node.opType ?? '';
  const input = (index: number) => types.get(node.input?.[index] ?? '');
  const attr = (name: string) => node.attribute?.find((a) => a.name === name);
  const intAttr = (name: string) => {
    const a = attr(name);
    return a ? toNumber(a.i) : undefined;
  };

  switch (op) {
    case 'Constant':
      return constantElemType(node);
    case 'Cast':
      return intAttr('to');
    case 'CastLike':
      return input(1);
    case 'ConstantOfShape':
      return attr('value')?.t?.dataType ?? ElemType.FLOAT;
    case 'RandomNormal':
    case 'RandomUniform':
      return intAttr('dtype') ?? ElemType.FLOAT;
    case 'RandomNormalLike':
    case 'RandomUniformLike':
    case 'EyeLike':
    case 'Bernoulli':
      return intAttr('dtype') ?? input(0);
    case 'Multinomial':
      return intAttr('dtype') ?? 6;
    case 'Where':
      return input(1);
    case 'OneHot':
      return input(2);
    case 'DequantizeLinear':
      return input(1);
    case 'QuantizeLinear':
    case 'DynamicQuantizeLinear':
      return slot === 1 ? ElemType.FLOAT : undefined;
    case 'TopK':
    case 'MaxPool':
    case 'Unique':
      return slot === 0 ? input(0) : ElemType.INT64;
  }
  if (BOOL_OPS.has(op)) return BOOL;
  if (INT64_OPS.has(op)) return ElemType.INT64;
  return input(0);
}

function constantElemType(node: OnnxTypes.INodeProto): number | undefined {
  for (const a of node.attribute ?? []) {
    if (a.name === 'value') return a.t?.dataType ?? undefined;
    if (a.name === 'value_float' || a.name === 'value_floats') return ElemType.FLOAT;
    if (a.name === 'value_int' || a.name === 'value_ints') return ElemType.INT64;
    if (a.name === 'value_string' || a.name === 'value_strings') return onnx.TensorProto.DataType.STRING;
  }
  return undefined;
}
