import { BUILD_IR_VERSION, BUILD_OPSET, onnx, type OnnxTypes } from './onnx-proto.js';

/** A graph node; `attributes` take ints (as `i`) or a tensor (as `t`), the two kinds gpuq's graphs need. */
export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, number | OnnxTypes.ITensorProto> = {},
  name = '',
): OnnxTypes.NodeProto {
  const attribute = Object.entries(attributes).map(([key, value]) =>
    typeof value === 'number'
      ? onnx.AttributeProto.create({ name: key, type: onnx.AttributeProto.AttributeType.INT, i: value })
      : onnx.AttributeProto.create({ name: key, type: onnx.AttributeProto.AttributeType.TENSOR, t: value }),
  );
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, attribute, name });
}

/** A Cast node converting `input` to `output` of element type `to`. */
export function makeCast(input: string, output: string, to: number): OnnxTypes.NodeProto {
  return makeNode('Cast', [input], [output], { to }, `${output}__cast`);
}

/** A tensor value description; string dims are symbolic (e.g. 'batch'). */
export function makeValueInfo(name: string, elemType: number, dims: Array<number | string>): OnnxTypes.ValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape: { dim } } } });
}

/** Serializes a graph as a model of the default domain at gpuq's opset and IR version. */
export function encodeModel(graph: OnnxTypes.IGraphProto, producerName = 'gpuq'): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: BUILD_IR_VERSION,
    producerName,
    opsetImport: [{ domain: '', version: BUILD_OPSET }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
