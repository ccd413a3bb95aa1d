import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertModelPrecision } from '../onnx/convert-precision.js';
import { ElemType } from '../onnx/onnx-proto.js';
import { encodeModel, makeNode, makeValueInfo } from '../onnx/proto-helpers.js';
import { syntheticTextImage } from '../onnx/synthetic-text-image.js';
import { makeFloatTensor } from '../onnx/tensor-data.js';
import { PPOCR_DET_PATH, runOnCpu } from '../onnx/test-support.js';
import { computedIn, executionSummary, flopsOf, parseProfile, summarizeExecution, takeProfileFile, type ProfiledNode } from './execution-profile.js';

const dir = await mkdtemp(join(tmpdir(), 'gpuq-profile-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs a model once on the CPU provider with onnxruntime's profiler on, and returns the profiled nodes. */
async function profiledRun(model: Uint8Array | string, input: Float32Array, dims: number[], name: string, level: 'basic' | 'all' = 'all'): Promise<ProfiledNode[]> {
  const prefix = join(dir, name);
  await runOnCpu(model, input, dims, { enableProfiling: true, profileFilePrefix: prefix, graphOptimizationLevel: level });
  return parseProfile(await takeProfileFile(prefix));
}

describe('an onnxruntime profile of a real run', () => {
  it('gives each node its op, provider and the element types it ran with, and the file is taken away', async () => {
    const conv = encodeModel({
      node: [makeNode('Conv', ['x', 'w'], ['y'], {}, 'conv')],
      initializer: [makeFloatTensor('w', [4, 3, 3, 3], new Float32Array(108).fill(0.1), 'fp32')],
      input: [makeValueInfo('x', ElemType.FLOAT, [1, 3, 8, 8])],
      output: [makeValueInfo('y', ElemType.FLOAT, [1, 4, 6, 6])],
    });
    // 'basic': at 'all' the CPU provider pads channels to its NCHWc blocks, and the profile shows the padded shapes.
    const nodes = await profiledRun(conv, new Float32Array(192).fill(1), [1, 3, 8, 8], 'conv', 'basic');
    const node = nodes.find((n) => n.name === 'conv')!;
    expect(node).toMatchObject({ op: 'Conv', provider: 'CPUExecutionProvider' });
    expect(node.inputs.map((t) => t.type)).toEqual(['float', 'float']);
    expect(node.outputs[0]).toEqual({ type: 'float', shape: [1, 4, 6, 6] });
    // 144 outputs, each 3 × 3 × 3 multiply-adds.
    expect(flopsOf(node)).toBe(2 * 144 * 27);
    expect(computedIn(node)).toBe('fp32');
    expect((await readdir(dir)).filter((f) => f.startsWith('conv'))).toEqual([]);
  });

  it('measures PP-OCRv4 in fp32 on the CPU: all of its arithmetic in fp32, every node on the CPU provider', async () => {
    const nodes = await profiledRun(PPOCR_DET_PATH, syntheticTextImage(320, 320), [1, 3, 320, 320], 'ppocr-fp32');
    const m = summarizeExecution(nodes, 'cpu');
    expect(m.flopsShare).toEqual({ fp32: 1 });
    expect(m.computeNodes.fp32).toBeGreaterThanOrEqual(60);
    expect(Object.keys(m.placement)).toEqual(['CPUExecutionProvider']);
    expect(m.exceptions).toEqual([]);
    expect(executionSummary(m)).toEqual({ computedIn: 'fp32', share: 1, provider: 'CPUExecutionProvider', placement: m.placement });
  });

  it('shows the silent fallback: its fp16 variant on the CPU computes every Conv in float32', async () => {
    const variant = convertModelPrecision(await import('node:fs').then((fs) => fs.readFileSync(PPOCR_DET_PATH)), 'fp16');
    const m = summarizeExecution(await profiledRun(variant, syntheticTextImage(320, 320), [1, 3, 320, 320], 'ppocr-fp16'), 'cpu');
    expect(m.flopsShare.fp16 ?? 0).toBe(0);
    expect(m.flopsShare.fp32).toBe(1);
  });
});
