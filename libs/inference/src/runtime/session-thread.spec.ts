import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildMlpModel } from '../onnx/model-builder.js';
import { SessionThread } from './session-thread.js';

const width = 512;
const thread = new SessionThread();
afterAll(() => thread.terminate());

async function mlpFile(): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'gpuq-thread-')), 'mlp.onnx');
  await writeFile(path, buildMlpModel({ inputWidth: width, hiddenWidth: width, layers: 8, outputWidth: width, dtype: 'fp32' }));
  return path;
}

describe('SessionThread', () => {
  it('runs a batch while this thread stays free: timers fire throughout', async () => {
    const session = await thread.create(await mlpFile(), { executionProviders: ['cpu'] });
    expect(session.inputNames).toHaveLength(1);
    const rows = 20_000;
    const x = new Float32Array(rows * width).fill(0.01);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = performance.now();
    const outputs = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, [rows, width]) });
    const ms = performance.now() - started;
    clearInterval(timer);
    const out = outputs[session.outputNames[0]!]!;
    expect(out.dims).toEqual([rows, width]);
    expect((out.data as Float32Array).length).toBe(rows * width);
    expect(x.length).toBe(0); // the input moved to the thread rather than being copied
    expect(ms).toBeGreaterThan(50);
    expect(ticks).toBeGreaterThan(ms / 5 / 4); // on the main thread a run lets almost no timer through
    await session.release();
  });

  it('hands back onnxruntime\'s own error, and keeps serving after it', async () => {
    const session = await thread.create(await mlpFile(), { executionProviders: ['cpu'] });
    await expect(session.run({ wrong: new ort.Tensor('float32', new Float32Array(width), [1, width]) })).rejects.toThrow("input 'x' is missing in 'feeds'");
    const ok = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(width), [1, width]) });
    expect(ok[session.outputNames[0]!]!.dims).toEqual([1, width]);
  });

  it('refuses a model it cannot load with the loader\'s reason', async () => {
    await expect(thread.create('/nonexistent/model.onnx', { executionProviders: ['cpu'] })).rejects.toThrow(/nonexistent|load|exist/i);
  });

  it('says when its thread has died, and refuses work rather than hanging', async () => {
    const dying = new SessionThread();
    const session = await dying.create(await mlpFile(), { executionProviders: ['cpu'] });
    expect(dying.healthy).toBe(true);
    await dying.terminate();
    expect(dying.healthy).toBe(false);
    await expect(session.run({ x: new ort.Tensor('float32', new Float32Array(width), [1, width]) })).rejects.toThrow(/onnxruntime thread exited/);
  });
});
