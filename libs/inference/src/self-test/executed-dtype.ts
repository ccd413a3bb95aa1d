import { readFile } from 'node:fs/promises';
import { onnx } from '../onnx/onnx-proto.js';

/**
 * Element types of the weight matrices (2-D initializers) in the graph onnxruntime actually executes, read from
 * the optimized model it saved. When a provider lacks fp16 kernels, onnxruntime inserts Casts to float32 and
 * constant-folds them into the weights, so the fp16 model silently runs in float32; this is where that shows.
 */
export async function executedWeightTypes(optimizedModelPath: string): Promise<number[]> {
  const model = onnx.ModelProto.decode(await readFile(optimizedModelPath));
  return (model.graph?.initializer ?? []).filter((t) => (t.dims?.length ?? 0) === 2).map((t) => t.dataType ?? 0);
}
