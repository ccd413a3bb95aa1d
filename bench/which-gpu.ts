/**
 * Which GPU does onnxruntime's WebGPU provider run on in this process? (issue 6: a worker per GPU needs each
 * process pinned to its own card, and onnxruntime-node 1.30 has no adapter index.) Runs one large batch of the
 * synthetic activation model on webgpu while nvidia-smi samples every GPU's memory.used, and prints the
 * growth per GPU index as JSON: the card that grew is the one the process ran on.
 * Run: node dist/bench/which-gpu.js [label] [items=400000]
 */
import * as ort from 'onnxruntime-node';
import { executionProvider } from '#inference';
import { NvidiaSmi } from '#device';
import { buildActivationModel } from './synthetic-model.js';

const [label = 'default', itemsArg = '400000'] = process.argv.slice(2);
const smi = new NvidiaSmi();
const gpus = await smi.listGpus();
const before = await Promise.all(gpus.map(async (g) => (await smi.memory(g.uuid)).usedBytes));
// nvidia-smi samples in its own process: onnxruntime-node's run blocks this one's event loop.
const monitors = gpus.map((g) => smi.monitorMemory(g.uuid, 20));
await Promise.all(monitors.map((m) => m.ready));
const started = Date.now();
let error: string | undefined;
try {
  const session = await ort.InferenceSession.create(buildActivationModel({ width: 128, depth: 64, dtype: 'fp32' }), { executionProviders: [executionProvider('webgpu')] });
  const n = Number(itemsArg);
  await session.run({ x: new ort.Tensor('float32', new Float32Array(n * 128).fill(0.01), [n, 128]) });
  await session.release();
} catch (err) {
  error = String(err).slice(0, 300);
}
await Promise.all(monitors.map((m) => m.sampleAfter(Date.now(), 1000)));
const peak = monitors.map((m, i) => m.peakSince(started) ?? before[i]!);
monitors.forEach((m) => m.close());
console.log(JSON.stringify({
  label, cudaVisibleDevices: process.env.CUDA_VISIBLE_DEVICES ?? null, error,
  grewMiB: Object.fromEntries(gpus.map((g, i) => [g.index, Math.round((peak[i]! - before[i]!) / 2 ** 20)])),
}));
process.exit(0);
