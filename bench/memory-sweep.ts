/**
 * Memory and throughput sweep of one model: for each precision and batch size, run the model on the
 * worker's real device, read the peak memory (nvidia-smi on a GPU, RSS on the CPU) and the time per batch,
 * fit bytes(n) = fixed + perItem × n, and report predicted vs measured, the best batch size and the
 * fp32/fp16 memory ratio. Prints JSON lines; run: node dist/bench/memory-sweep.js [model] [provider] [sizes]
 */
import type { Precision, ProviderName, ProfilePoint } from '#contracts';
import { detectBatch, getManifest, preprocessImage, SessionCache } from '#inference';
import { fitProfile, predictBytes } from '#scheduling';
import { renderTextImage, sampleImages } from '../test/fixtures/text-images.js';
import { CpuMemory, GpuMemory, type DeviceMemory, NvidiaSmi } from '#device';

const [modelId = 'ppocr-v4-det', provider = 'webgpu', sizesArg = '1,2,4,8,16,32', precisionsArg = 'fp16,fp32'] = process.argv.slice(2);
const manifest = getManifest(modelId)!;
const sizes = sizesArg.split(',').map(Number);
const smi = new NvidiaSmi();
const gpus = await smi.listGpus();
const memory: DeviceMemory = provider !== 'cpu' && gpus[0] ? new GpuMemory(smi, gpus[0].index, 20) : new CpuMemory(0);
if (memory instanceof GpuMemory) await memory.init();
const emit = (o: object) => console.log(JSON.stringify(o));
emit({ kind: 'device', gpu: gpus[0] ?? null, provider, model: modelId });

const samples = await Promise.all(sampleImages().map(async (s) => preprocessImage((await renderTextImage(s)).png, manifest)));
const batchOf = (n: number) => Array.from({ length: n }, (_, i) => samples[i % samples.length]!);
const sessions = new SessionCache('.data/models');
const peaks: Record<string, number> = {};

for (const precision of precisionsArg.split(',') as Precision[]) {
  const session = await sessions.get(manifest, precision, provider as ProviderName);
  await detectBatch(session, manifest, batchOf(1)); // warm-up: kernels compiled, weights uploaded
  const points: ProfilePoint[] = [];
  for (const n of sizes) {
    try {
      let best = Infinity;
      let peak = 0;
      for (let rep = 0; rep < 3; rep++) {
        const started = performance.now();
        const { peakBytes } = await memory.track(() => detectBatch(session, manifest, batchOf(n)));
        best = Math.min(best, performance.now() - started);
        peak = Math.max(peak, peakBytes);
      }
      points.push({ batch: n, peakBytes: peak, ms: best });
      emit({ kind: 'point', precision, batch: n, peakMiB: +(peak / 2 ** 20).toFixed(1), ms: +best.toFixed(1), imagesPerSecond: +((n * 1000) / best).toFixed(1) });
    } catch (err) {
      emit({ kind: 'error', precision, batch: n, error: String(err).slice(0, 300) });
      break;
    }
  }
  if (points.length >= 2) {
    const fit = fitProfile(points);
    const profile = { ...fit, referencePixels: 0 };
    const rows = points.map((p) => ({ batch: p.batch, measuredMiB: +(p.peakBytes / 2 ** 20).toFixed(1), predictedMiB: +(predictBytes(profile, p.batch) / 2 ** 20).toFixed(1),
      errorPct: +((100 * (predictBytes(profile, p.batch) - p.peakBytes)) / p.peakBytes).toFixed(1) }));
    const best = points.reduce((a, b) => (b.batch / b.ms! > a.batch / a.ms! ? b : a));
    emit({ kind: 'fit', precision, fixedMiB: +(fit.fixedBytes / 2 ** 20).toFixed(1), perItemMiB: +(fit.perItemBytes / 2 ** 20).toFixed(1), r2: +fit.r2.toFixed(4), rows,
      bestBatch: best.batch, bestImagesPerSecond: +((best.batch * 1000) / best.ms!).toFixed(1) });
    peaks[precision] = fit.perItemBytes;
  }
}
if (peaks.fp32 && peaks.fp16) emit({ kind: 'ratio', fp32OverFp16PerItem: +(peaks.fp32 / peaks.fp16).toFixed(2) });
await sessions.release();
process.exit(0);
