import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { PRECISIONS, type Precision, type ProviderName, type SelfTestResult } from '#contracts';
import { compareOutputs } from '../onnx/compare-outputs.js';
import { errorText } from '../onnx/error-text.js';
import { buildMlpModel, mlpReference, type MlpModelOptions } from '../onnx/model-builder.js';
import { seededRandom, uniformArray } from '../onnx/seeded-random.js';
import { computedIn, isDataMovement, ortProviderName, parseProfile, takeProfileFile, type ProfiledNode } from '../runtime/execution-profile.js';
import { executionProvider } from '../runtime/session-options.js';
import { SELF_TEST_RELATIVE_TOLERANCE } from './self-test-tolerance.js';

const BATCH = 4;
const mlpOptions = (dtype: Precision): MlpModelOptions => ({ inputWidth: 64, hiddenWidth: 64, layers: 3, outputWidth: 16, dtype });

/**
 * Proves which precisions `provider` really executes: for each, a tiny MLP built in that format runs in
 * onnxruntime and is compared with a JavaScript reference. A precision passes only when the output is within
 * tolerance AND onnxruntime's profile of the run shows every node computing in that format on that provider
 * (no silent float32 fallback, no node handed to another provider).
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
  const profilePrefix = join(workDir, `${precision}-profile`);
  const started = performance.now();
  const base = { provider, precision, tolerance };

  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(buildMlpModel(opts), {
      executionProviders: [executionProvider(provider)],
      enableProfiling: true,
      profileFilePrefix: profilePrefix,
      logSeverityLevel: 3,
    });
    const output = await session.run({ x: new ort.Tensor('float32', x, [BATCH, opts.inputWidth]) });
    session.endProfiling();
    const y = output.y!.data as Float32Array;
    const ms = Math.round(performance.now() - started);
    const { maxAbsError } = compareOutputs(reference, y);

    const fallback = precisionFallback(parseProfile(await takeProfileFile(profilePrefix)), precision, provider);
    if (fallback) return { ...base, passed: false, maxAbsError, ms, error: fallback };
    if (!(maxAbsError <= tolerance)) {
      return { ...base, passed: false, maxAbsError, ms, error: `max abs error ${maxAbsError} exceeds tolerance ${tolerance}${tf32Hint(provider, precision)}` };
    }
    return { ...base, passed: true, maxAbsError, ms };
  } catch (error) {
    return { ...base, passed: false, ms: Math.round(performance.now() - started), error: errorText(error) };
  } finally {
    await session?.release();
  }
}

/**
 * A message when the profiled run computed some node in another format than `precision`, or on another provider;
 * undefined when every node ran as built. On a provider without fp16 kernels onnxruntime inserts Casts to float32
 * around such nodes and the run still succeeds: this is where that shows.
 */
export function precisionFallback(nodes: readonly ProfiledNode[], precision: Precision, provider: ProviderName): string | undefined {
  if (nodes.length === 0) return `onnxruntime's profile of the ${precision} run holds no nodes: ${precision} cannot be confirmed`;
  const onProvider = ortProviderName(provider);
  const compute = nodes.filter((n) => !isDataMovement(n.op));
  const otherFormat = compute.filter((n) => computedIn(n) !== precision);
  const otherProvider = nodes.filter((n) => n.provider !== onProvider);
  const list = (ns: readonly ProfiledNode[]) => ns.slice(0, 4).map((n) => `${n.name} (${n.op})`).join(', ') + (ns.length > 4 ? ` and ${ns.length - 4} more` : '');
  if (otherFormat.length > 0) {
    const formats = [...new Set(otherFormat.map(computedIn))].join('/');
    return `not ${precision} throughout: ${otherFormat.length} of ${compute.length} nodes computed in ${formats} on the ${provider} provider: ${list(otherFormat)} (onnxruntime inserted Casts around them: no ${precision} kernel)`;
  }
  if (otherProvider.length > 0) return `${otherProvider.length} of ${nodes.length} nodes ran on ${[...new Set(otherProvider.map((n) => n.provider))].join(', ')}, not ${onProvider}: ${list(otherProvider)}`;
  return undefined;
}

/**
 * On Ampere and newer the CUDA provider computes float32 MatMul and Conv in TF32 (10-bit mantissa) unless
 * NVIDIA_TF32_OVERRIDE=0; onnxruntime-node cannot pass the provider's own use_tf32 option.
 */
function tf32Hint(provider: ProviderName, precision: Precision): string {
  return provider === 'cuda' && precision === 'fp32' && process.env.NVIDIA_TF32_OVERRIDE !== '0'
    ? ' (the CUDA provider computes float32 MatMul/Conv in TF32 on compute capability >= 8 unless NVIDIA_TF32_OVERRIDE=0)'
    : '';
}
