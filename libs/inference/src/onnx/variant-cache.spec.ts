import { copyFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertModelPrecision } from './convert-precision.js';
import type { HalfFormat } from './half.js';
import { ModelVariantCache } from './variant-cache.js';
import { verifyVariant } from './verify-variant.js';
import { PPOCR_DET_PATH } from './test-support.js';

const dir = await mkdtemp(join(tmpdir(), 'gpuq-variants-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

function countingConverter() {
  const calls: HalfFormat[] = [];
  const convert = (model: Uint8Array, target: HalfFormat) => {
    calls.push(target);
    return convertModelPrecision(model, target);
  };
  return { calls, convert };
}

describe('ModelVariantCache', () => {
  it('returns the original path for fp32 without converting', async () => {
    const { calls, convert } = countingConverter();
    expect(await new ModelVariantCache(join(dir, 'a'), convert).getVariant(PPOCR_DET_PATH, 'fp32')).toBe(PPOCR_DET_PATH);
    expect(calls).toEqual([]);
  });

  it('converts once, writes atomically, and reuses the file (also across instances)', async () => {
    const cacheDir = join(dir, 'b');
    const { calls, convert } = countingConverter();
    const cache = new ModelVariantCache(cacheDir, convert);
    const [first, concurrent] = await Promise.all([cache.getVariant(PPOCR_DET_PATH, 'fp16'), cache.getVariant(PPOCR_DET_PATH, 'fp16')]);
    expect(concurrent).toBe(first);
    expect(first).toMatch(/ch_PP-OCRv4_det_infer\.[0-9a-f]{32}\.fp16\.c\d+\.onnx$/);
    const written = (await stat(first)).mtimeMs;

    expect(await new ModelVariantCache(cacheDir, convert).getVariant(PPOCR_DET_PATH, 'fp16')).toBe(first);
    expect(calls).toEqual(['fp16']);
    expect((await stat(first)).mtimeMs).toBe(written);
    expect((await readdir(cacheDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keys by content: a copy of the same model under another name reuses nothing but converts identically', async () => {
    const cacheDir = join(dir, 'c');
    const copy = join(dir, 'renamed.onnx');
    await copyFile(PPOCR_DET_PATH, copy);
    const { calls, convert } = countingConverter();
    const cache = new ModelVariantCache(cacheDir, convert);
    const a = await cache.getVariant(PPOCR_DET_PATH, 'bf16');
    const b = await cache.getVariant(copy, 'bf16');
    expect(a.split('.')[1]).toBe(b.split('.')[1]);
    expect(calls).toEqual(['bf16', 'bf16']);
  });
});

describe('verifyVariant', () => {
  it('passes the fp16 PP-OCR detector on CPU within the stated tolerance', async () => {
    const variantPath = await new ModelVariantCache(join(dir, 'b')).getVariant(PPOCR_DET_PATH, 'fp16');
    const result = await verifyVariant({ fp32Path: PPOCR_DET_PATH, variantPath, precision: 'fp16', provider: 'cpu' });
    expect(result).toMatchObject({ passed: true, precision: 'fp16', provider: 'cpu' });
    expect(result.meanAbsError).toBeLessThanOrEqual(result.tolerance.meanAbs);
  });

  it('fails the bf16 variant with onnxruntime’s reason', async () => {
    const variantPath = await new ModelVariantCache(join(dir, 'c')).getVariant(PPOCR_DET_PATH, 'bf16');
    const result = await verifyVariant({ fp32Path: PPOCR_DET_PATH, variantPath, precision: 'bf16', provider: 'cpu' });
    expect(result.passed).toBe(false);
    expect(result.error).toMatch(/Could not find an implementation for Conv\(22\) node/);
  });
});
