import { encodeHalf, type HalfFormat } from './half.js';
import { ElemType, onnx, toNumber, type OnnxTypes } from './onnx-proto.js';

/** The float formats a graph can compute in. */
export type FloatFormat = 'fp32' | HalfFormat;

/** ONNX element type of each float format. */
export const ELEM_TYPE_OF: Record<FloatFormat, number> = {
  fp32: ElemType.FLOAT,
  fp16: ElemType.FLOAT16,
  bf16: ElemType.BFLOAT16,
};

/** A tensor proto holding `values` stored in `format` (16-bit formats as little-endian raw_data, as ONNX requires). */
export function makeFloatTensor(name: string, dims: number[], values: Float32Array, format: FloatFormat): OnnxTypes.TensorProto {
  return onnx.TensorProto.create({ name, dims, dataType: ELEM_TYPE_OF[format], rawData: floatRawData(values, format) });
}

/** Little-endian raw bytes of `values` in `format`. */
export function floatRawData(values: Float32Array, format: FloatFormat): Uint8Array {
  if (format === 'fp32') return littleEndianBytes(values);
  return littleEndianBytes(encodeHalf(values, format));
}

/**
 * The float32 values of a FLOAT tensor, whichever field holds them (raw_data or float_data).
 * Throws on external data: gpuq's models are self-contained and a silent partial read would corrupt weights.
 */
export function readFloat32Tensor(tensor: OnnxTypes.ITensorProto): Float32Array {
  if (tensor.dataType !== ElemType.FLOAT) throw new Error(`tensor ${tensor.name ?? '?'} is type ${tensor.dataType}, not FLOAT`);
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (tensor.externalData?.length ?? 0) > 0) {
    throw new Error(`tensor ${tensor.name ?? '?'} uses external data, which the converter does not read`);
  }
  const raw = tensor.rawData;
  if (raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(raw.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  return Float32Array.from(tensor.floatData ?? []);
}

/** Number of elements a tensor's dims describe. */
export function elementCount(dims: ReadonlyArray<number | { toNumber(): number }> | null | undefined): number {
  return (dims ?? []).reduce<number>((n, d) => n * toNumber(d), 1);
}

function littleEndianBytes(values: Float32Array | Uint16Array): Uint8Array {
  const bytes = new Uint8Array(values.length * values.BYTES_PER_ELEMENT);
  const view = new DataView(bytes.buffer);
  if (values instanceof Float32Array) values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else values.forEach((v, i) => view.setUint16(i * 2, v, true));
  return bytes;
}
