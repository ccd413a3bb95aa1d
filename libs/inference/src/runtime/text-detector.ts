import * as ort from 'onnxruntime-node';
import type { TextBox } from '#contracts';
import { recognizeRuntimeError } from '../errors/recognize-error.js';
import type { ModelManifest } from '../models/manifest.js';
import { dbPostprocess, sliceMap } from '../models/ppocr-det/db-postprocess.js';
import { packBatch, type PreprocessedImage } from '../models/ppocr-det/preprocess.js';
import type { ThreadedSession } from './session-thread.js';

/**
 * Runs one micro-batch of letterboxed images through a detection session and decodes each image's
 * probability map into text boxes. The input tensor is float32 at the graph boundary whatever the
 * precision: the fp16/bf16 variants cast inside the graph.
 */
export async function detectBatch(
  session: Pick<ThreadedSession, 'run'>,
  manifest: ModelManifest,
  images: readonly PreprocessedImage[],
): Promise<{ boxes: TextBox[][]; inferenceMs: number }> {
  const S = manifest.input.size;
  const started = performance.now();
  let outputs: Record<string, ort.Tensor>;
  try {
    // Packing allocates the whole batch in one typed array: V8's refusal is an out-of-memory like the device's.
    outputs = await session.run({ [manifest.input.name]: new ort.Tensor('float32', packBatch(images, S), [images.length, 3, S, S]) });
  } catch (err) {
    throw recognizeRuntimeError(err);
  }
  const inferenceMs = performance.now() - started;
  const map = outputs[manifest.output.name] ?? Object.values(outputs)[0]!;
  const data = map.data as Float32Array;
  const boxes = images.map((image, i) => dbPostprocess(sliceMap(data, i, S), S, image.meta, manifest.postprocess));
  for (const tensor of Object.values(outputs)) tensor.dispose?.();
  return { boxes, inferenceMs };
}
