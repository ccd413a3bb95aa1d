/**
 * The ONNX protobuf schema, loaded once. onnx-proto is CommonJS, so under ESM (nodenext) its namespace
 * arrives as the default export's `onnx` property.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type { onnx as OnnxTypes } from 'onnx-proto';

/** ONNX TensorProto.DataType codes gpuq touches. */
export const ElemType = {
  FLOAT: 1,
  INT64: 7,
  FLOAT16: 10,
  BFLOAT16: 16,
} as const;

/** ONNX opset and IR version of the models gpuq builds. */
export const BUILD_OPSET = 17;
export const BUILD_IR_VERSION = 8;

/** protobufjs decodes int64 fields as Long objects (when `long` is installed) or numbers. */
export function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}
