import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProviderName } from '#contracts';
import { convertModelPrecision, type ConvertPrecisionOptions } from '../onnx/convert-precision.js';
import type { HalfFormat } from '../onnx/half.js';
import { syntheticTextImage } from '../onnx/synthetic-text-image.js';
import { PPOCR_DET_PATH } from '../onnx/test-support.js';
import { ModelVariantCache } from '../onnx/variant-cache.js';
import type { ProfiledNode } from './execution-profile.js';
import { ProviderVariants, type ProbeInput } from './provider-variants.js';
import { SessionCache } from './session-cache.js';

const dir = await mkdtemp(join(tmpdir(), 'gpuq-provider-variants-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const input: ProbeInput = { name: 'x', data: syntheticTextImage(64, 64), dims: [1, 3, 64, 64] };
const CUDA = 'CUDAExecutionProvider';
const node = (op: string, type: string, provider = CUDA): ProfiledNode => ({ name: op.toLowerCase(), op, provider, inputs: [{ type, shape: [1, 8, 4, 4] }, { type, shape: [8, 8, 3, 3] }], outputs: [{ type, shape: [1, 8, 4, 4] }] });

/** A converter that records the keep list of every conversion. */
function recordingCache(name: string) {
  const keepLists: string[][] = [];
  const convert = (model: Uint8Array, target: HalfFormat, opts?: ConvertPrecisionOptions) => {
    keepLists.push([...(opts?.keepFp32Ops ?? [])]);
    return convertModelPrecision(model, target, opts);
  };
  return { keepLists, cache: new ModelVariantCache(join(dir, name), convert) };
}

describe('ProviderVariants', () => {
  it('keeps in float32 what the provider has no kernel for, or quietly ran elsewhere, until the trial runs on the provider', async () => {
    const { keepLists, cache } = recordingCache('cuda-like');
    // What the 1.29 CUDA provider does with a bf16 model, in the two ways it shows a missing kernel.
    const trials: Array<(path: string) => ProfiledNode[]> = [
      () => { throw new Error("Could not find an implementation for Clip(13) node with name 'p2o.Clip.0'"); },
      () => [node('Conv', 'bfloat16'), node('Resize', 'bfloat16', 'CPUExecutionProvider')],
      () => [node('Conv', 'bfloat16'), node('Resize', 'float'), node('Clip', 'float')],
    ];
    let calls = 0;
    const variants = new ProviderVariants(cache, async (path: string, provider: ProviderName) => {
      expect(provider).toBe('cuda');
      return trials[calls++]!(path);
    });
    const fitted = await variants.fit(PPOCR_DET_PATH, 'bf16', 'cuda', ['Sigmoid'], input);
    expect(fitted.kept).toEqual([
      { op: 'Sigmoid', reason: 'configured (VARIANT_KEEP_FP32_OPS)' },
      { op: 'Clip', reason: 'no bf16 kernel on cuda: onnxruntime says "Could not find an implementation for Clip(13) node with name \'p2o.Clip.0\'"' },
      { op: 'Resize', reason: 'no bf16 kernel on cuda: onnxruntime ran 1 Resize node(s) in bf16 on CPUExecutionProvider' },
    ]);
    expect(keepLists).toEqual([['Sigmoid'], ['Clip', 'Sigmoid'], ['Clip', 'Resize', 'Sigmoid']]);
    expect(fitted.path).toMatch(/\.bf16\.k[0-9a-f]{8}\.c\d+\.onnx$/);
    expect(fitted.measurement).toMatchObject({ provider: CUDA, flopsShare: { bf16: 1 } });
    // Fitted once per process.
    expect(await variants.fit(PPOCR_DET_PATH, 'bf16', 'cuda', ['Sigmoid'], input)).toBe(fitted);
    expect(calls).toBe(3);
  });

  it('reads the other way the CUDA provider says a bf16 kernel is missing, and leaves Casts placed on the CPU alone', async () => {
    const { keepLists, cache } = recordingCache('cuda-h200');
    const trials: Array<() => ProfiledNode[]> = [
      // Seen on the H200 (onnxruntime 1.29) for PP-OCRv4 in bf16.
      () => { throw new Error("Exception during initialization: /onnxruntime_src/onnxruntime/core/optimizer/transformer_memcpy.cc:253 bool onnxruntime::TransformerMemcpyImpl::IsNodeCompatibleWithProvider(const onnxruntime::Node&) const !node_provider_type.empty() was false. Provider type for BatchNormalization node with name 'p2o.BatchNormalization.0' is not set."); },
      () => [node('Conv', 'bfloat16'), node('Cast', 'bfloat16', 'CPUExecutionProvider')],
    ];
    let calls = 0;
    const fitted = await new ProviderVariants(cache, async () => trials[calls++]!()).fit(PPOCR_DET_PATH, 'bf16', 'cuda', [], input);
    expect(fitted.kept.map((k) => k.op)).toEqual(['BatchNormalization']);
    expect(fitted.kept[0]!.reason).toMatch(/Provider type for BatchNormalization node/);
    expect(keepLists).toEqual([[], ['BatchNormalization']]);
  });

  it('finds the model op behind a node onnxruntime expanded from a function body (a Less, from a Clip)', async () => {
    const cache = new ModelVariantCache(join(dir, 'expanded'));
    const getVariant = cache.getVariant.bind(cache);
    let keep: readonly string[] = [];
    cache.getVariant = async (path, precision, keepFp32Ops = []) => ((keep = keepFp32Ops), getVariant(path, precision, keepFp32Ops));
    const variants = new ProviderVariants(cache, async () => {
      if (!keep.includes('Clip')) throw new Error("Exception during initialization: … Provider type for Less node with name '' is not set.");
      return [node('Conv', 'bfloat16')];
    });
    const fitted = await variants.fit(PPOCR_DET_PATH, 'bf16', 'cuda', [], input);
    expect(fitted.kept).toEqual([{ op: 'Clip', reason: expect.stringMatching(/^no bf16 kernel on cuda: onnxruntime expanded Clip into its ONNX function, whose Less node has none/) }]);
  });

  it('gives up with onnxruntime’s words when keeping the op did not help', async () => {
    const { cache } = recordingCache('stuck');
    const variants = new ProviderVariants(cache, async () => {
      throw new Error("Could not find an implementation for Less(13) node with name ''");
    });
    await expect(variants.fit(PPOCR_DET_PATH, 'bf16', 'cuda', [], input)).rejects.toThrow(/Less\(13\)/);
  });
});

describe('SessionCache on the CPU provider (real sessions)', () => {
  it('measures a session on its first run: what it computed in and where', async () => {
    const sessions = new SessionCache(join(dir, 'sessions'));
    try {
      const { getManifest } = await import('../models/manifest.js');
      const { detectBatch } = await import('./text-detector.js');
      const manifest = getManifest('ppocr-v4-det-640')!;
      const session = await sessions.get(manifest, 'fp32', 'cpu');
      expect(session.measurement()).toBeUndefined();
      const S = manifest.input.size;
      await detectBatch(session, manifest, [{ data: syntheticTextImage(S, S), meta: { width: S, height: S, scale: 1 } }]);
      expect(session.measurement()).toMatchObject({ provider: 'CPUExecutionProvider', flopsShare: { fp32: 1 }, exceptions: [] });
      // fp16 on the CPU loads (onnxruntime inserts Casts to float32 itself), so nothing is kept; its measurement tells.
      const fp16 = await sessions.fitVariant(manifest, 'fp16', 'cpu');
      expect(fp16.kept).toEqual([]);
      expect(fp16.measurement.flopsShare).toEqual({ fp32: 1 });
    } finally {
      await sessions.release();
    }
  });
});
