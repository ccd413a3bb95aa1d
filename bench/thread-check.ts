/**
 * Does the worker's session thread drive the GPU (WebGPU) like the main thread did, and stay out of the
 * event loop's way? Runs PP-OCRv4 detection batches through SessionCache (its own thread) on webgpu while a
 * 5-ms timer ticks and nvidia-smi samples memory; prints ms, timer ticks and peak memory per batch as JSON.
 * Run: node dist/bench/thread-check.js [provider=webgpu] [sizes=1,4,16]
 */
import type { ProviderName } from '#contracts';
import { configureRuntime, DEFAULT_RUNTIME_OPTIONS, detectBatch, getManifest, SessionCache, syntheticTextImage } from '#inference';
import { NvidiaSmi } from '#device';

const [provider = 'webgpu', sizesArg = '1,4,16'] = process.argv.slice(2);
configureRuntime(DEFAULT_RUNTIME_OPTIONS);
const manifest = getManifest('ppocr-v4-det')!;
const S = manifest.input.size;
const page = { data: syntheticTextImage(S, S), meta: { width: S, height: S, scale: 1 } };
const sessions = new SessionCache('.data/models');
const session = await sessions.get(manifest, 'fp32', provider as ProviderName);
const [gpu] = await new NvidiaSmi().listGpus();
const monitor = gpu ? new NvidiaSmi().monitorMemory(gpu.uuid, 20) : undefined;
await monitor?.ready;
for (const n of sizesArg.split(',').map(Number)) {
  await detectBatch(session, manifest, Array.from({ length: n }, () => page)); // warm
  const started = Date.now();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const { boxes, inferenceMs } = await detectBatch(session, manifest, Array.from({ length: n }, () => page));
  clearInterval(timer);
  await monitor?.sampleAfter(Date.now(), 1000);
  const peak = monitor?.peakSince(started);
  console.log(JSON.stringify({ provider, batch: n, inferenceMs: Math.round(inferenceMs), ticks, expectedTicks: Math.round(inferenceMs / 5), boxes: boxes[0]!.length, peakUsedMiB: peak === undefined ? null : Math.round(peak / 2 ** 20) }));
}
await sessions.release();
monitor?.close();
