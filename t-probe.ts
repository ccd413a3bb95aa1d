import { onnx, toNumber } from './libs/inference/src/onnx/onnx-proto.js';
import type { OnnxTypes } from './libs/inference/src/onnx/onnx-proto.js';
const t: OnnxTypes.ITensorProto = { dataType: 1 };
console.log(typeof onnx.ModelProto.encode, t, toNumber(5));
