import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { PRECISIONS, type Precision, type ProviderName, type SelfTestResult } from '#contracts';
import { compareOutputs } from '../onnx/compare-outputs.js';
import { errorText } from '../onnx/error-text.js';
import { buildMlpModel, mlpReference, type MlpModelOptions } from '../onnx/model-builder.js';
import { seededRandom, uniformArray } from '../onnx/seeded-random.js';
import { ELEM_TYPE_OF } from '../onnx/tensor-data.js';
import { executionProvider } from '../runtime/session-options.js';
import { executedWeightTypes } from './executed-dtype.js';
import { SELF_TEST_RELATIVE_TOLERANCE } from './self-test-tolerance.js';

const BATCH = 4;
const mlpOptions = (dtype: Precision): MlpModelOptions => ({ inputWidth: 64, hiddenWidth: 64, layers: 3, outputWidth: 16, dtype });

/**
 * Proves which precisions `provider` really executes: for each, a tiny MLP built in that format runs in
 * onnxruntime and is compared with a JavaScript reference. A precision passes only when the output is within
 * tolerance AND onnxruntime's optimized graph still holds the weights in that format (no silent float32 fallback).
 */
export async function runSelfTest(provider: ProviderName, precisions: readonly Precision[] = PRECISIONS): Promise<SelfTestResult[]> {
  const workDir = await mkdtemp(join(tmpdir(), 'gpuq-self-test-'));
  try {
    const results: SelfTestResult[] = [];
    // One at a time: sessions compete for the same device, and timings should not overlap.
    for (const precision of precisions) results.push(await testPrecision(provider, precision, workDir));
    return results;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function testPrecision(provider: ProviderName, precision: Precision, workDir: string): Promise<SelfTestResult> {
  const opts = mlpOptions(precision);
  const x = uniformArray(seededRandom(42), BATCH * opts.inputWidth, 1);
  const reference = mlpReference(opts, x, BATCH);
  const scale = Math.max(1, ...Array.from(reference, Math.abs));
  const tolerance = SELF_TEST_RELATIVE_TOLERANCE[precision] * scale;
  const optimizedPath = join(workDir, `${precision}.optimized.onnx`);
  const started = performance.now();
  const base = { provider, precision, tolerance };

  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(buildMlpModel(opts), {
      executionProviders: [executionProvider(provider)],
      optimizedModelFilePath: optimizedPath,
      // Serializing a fully optimized graph logs a portability warning on every run; it is only read here.
      logSeverityLevel: 3,
    });
    const output = await session.run({ x: new ort.Tensor('float32', x, [BATCH, opts.inputWidth]) });
    const y = output.y!.data as Float32Array;
    const ms = Math.round(performance.now() - started);
    const { maxAbsError } = compareOutputs(reference, y);

    const fallback = await precisionFallback(optimizedPath, precision, provider);
    if (fallback) return { ...base, passed: false, maxAbsError, ms, error: fallback };
    if (!(maxAbsError <= tolerance)) {
      return { ...base, passed: false, maxAbsError, ms, error: `max abs error ${maxAbsError} exceeds tolerance ${tolerance}` };
    }
    return { ...base, passed: true, maxAbsError, ms };
  } catch (error) {
    return { ...base, passed: false, ms: Math.round(performance.now() - started), error: errorText(error) };
  } finally {
    await session?.release();
  }
}

/** A message when onnxruntime ran the graph in another format than `precision`; undefined when it did not. */
async function precisionFallback(optimizedPath: string, precision: Precision, provider: ProviderName): Promise<string | undefined> {
  let types: number[];
  try {
    types = await executedWeightTypes(optimizedPath);
  } catch (error) {
    // Unverifiable is not proven: advertising a precision the device may fake would break the precision promise.
    return `could not read onnxruntime's optimized graph to confirm ${precision} execution: ${errorText(error, 200)}`;
  }
  const expected = ELEM_TYPE_OF[precision];
  const other = types.filter((t) => t !== expected).length;
  if (types.length > 0 && other === 0) return undefined;
  return `onnxruntime's ${provider} provider ran the ${precision} graph in another format: ${other} of ${types.length} weight tensors in its optimized graph are not ${precision} (no ${precision} kernels; it inserted Casts)`;
}
