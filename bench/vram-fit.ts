/**
 * VRAM-fit benchmark (issue 4), run on the GPU machine: for the default model and a synthetic large-activation
 * model, in fp16 and fp32, on this machine's GPU provider:
 *   1. calibrate (batches 1, 2, 4, … up to a quarter of free memory) → envelope profile;
 *   2. predicted vs measured peak at sizes the calibration did not see;
 *   3. the batch fitBatchToVram chooses vs the best images/s of every size measured (goal ≥ 95 %), zero OOM at it;
 *   4. the largest batch the profile allows vs the largest that really runs (goal: < 10 % of the card unused);
 *   5. fp32/fp16 per-item memory ratio.
 * Prints JSON lines. Run: node dist/bench/vram-fit.js [provider=webgpu] [subjects=ppocr,synthetic]
 */
import * as ort from 'onnxruntime-node';
import type { MemoryProfile, Precision, ProfilePoint, ProviderName } from '#contracts';
import { detectBatch, getManifest, SessionCache, syntheticTextImage } from '#inference';
import { classifyError, fitBatchToVram, fitEnvelope, predictBytes } from '#scheduling';
import { calibrate, DEFAULT_SIZES, measureBatch } from '../apps/worker/src/calibration/calibrate.js';
import { CpuMemory, GpuMemory, type DeviceMemory } from '../apps/worker/src/memory/device-memory.js';
import { NvidiaSmi } from '../apps/worker/src/probe/nvidia-smi.js';
import { buildActivationModel } from './synthetic-model.js';

const [provider = 'webgpu', subjectsArg = 'ppocr,synthetic'] = process.argv.slice(2) as [ProviderName, string];
const emit = (o: object) => console.log(JSON.stringify(o));
const MiB = 2 ** 20;
const smi = new NvidiaSmi();
// Without a GPU (a dry run of the script here) the CPU stands in with a small budget (BENCH_CPU_GB).
const found = provider === 'cpu' ? undefined : (await smi.listGpus())[0];
const gpu = found ?? { index: -1, name: 'cpu', totalBytes: Number(process.env.BENCH_CPU_GB ?? 2) * 1e9 };
const memory: DeviceMemory = found ? new GpuMemory(smi, found.index, 20) : new CpuMemory(gpu.totalBytes);
if (memory instanceof GpuMemory) await memory.init();
emit({ kind: 'device', gpu, provider });

interface Subject {
  name: string;
  /** Returns a batch runner for this precision; `maxBatch` caps the fill test (time and JS array limits). */
  open(precision: Precision): Promise<{ runBatch: (n: number) => Promise<void>; maxBatch: number; release: () => Promise<void> }>;
  /** Largest batch the scheduler may choose for throughput (the manifest's cap for real models). */
  schedulingMax: number;
}

const sessions = new SessionCache('.data/models');
const ppocr = getManifest('ppocr-v4-det')!;
const S = ppocr.input.size;
const page = { data: syntheticTextImage(S, S), meta: { width: S, height: S, scale: 1 } };
const WIDTH = 128;
const DEPTH = 128;

const subjects: Record<string, Subject> = {
  ppocr: {
    name: 'ppocr-v4-det (960x960)',
    schedulingMax: ppocr.maxBatch,
    async open(precision) {
      const session = await sessions.get(ppocr, precision, provider);
      return { runBatch: async (n) => void (await detectBatch(session, ppocr, Array.from({ length: n }, () => page))), maxBatch: 64, release: async () => undefined };
    },
  },
  synthetic: {
    name: `synthetic activations (${WIDTH}x${DEPTH} MatMul chain, all kept alive)`,
    schedulingMax: 1 << 24,
    async open(precision) {
      const session = await ort.InferenceSession.create(buildActivationModel({ width: WIDTH, depth: DEPTH, dtype: precision as 'fp16' | 'fp32' }), { executionProviders: [provider] });
      let input = new Float32Array(0);
      return {
        runBatch: async (n) => {
          if (input.length < n * WIDTH) input = new Float32Array(n * WIDTH).fill(0.01);
          const out = await session.run({ x: new ort.Tensor('float32', input.subarray(0, n * WIDTH), [n, WIDTH]) });
          for (const t of Object.values(out)) t.dispose();
        },
        maxBatch: Math.floor(2 ** 32 / WIDTH) - 1,
        release: () => session.release(),
      };
    },
  },
};

async function measure(runBatch: (n: number) => Promise<void>, n: number, repeats = 2): Promise<ProfilePoint | { batch: number; error: string; oom: boolean }> {
  try {
    return await measureBatch(runBatch, memory, n, repeats);
  } catch (err) {
    return { batch: n, error: String(err).slice(0, 400), oom: classifyError(err).kind === 'oom' };
  }
}
const isPoint = (m: object): m is ProfilePoint => 'peakBytes' in m;

const perItem: Record<string, Record<string, number>> = {};
for (const key of subjectsArg.split(',')) {
  const subject = subjects[key]!;
  for (const precision of ['fp16', 'fp32'] as Precision[]) {
    const started = performance.now();
    const run = await subject.open(precision);
    const available = await memory.availableBytes();
    // 1–2. One ascending sweep (cached buffers make descending reads wrong): the calibration sizes (1, 2, 3, 4,
    // 6, 8, …) fit the profile; sizes at 1.25× and 1.75× of each power of two, which it never saw, check it.
    const inCalibration = new Set(DEFAULT_SIZES);
    const probes = Array.from({ length: 30 }, (_, i) => [Math.round(2 ** i * 1.25), Math.round(2 ** i * 1.75)]).flat().filter((n) => n > 4 && !inCalibration.has(n));
    const sizes = [...new Set([...DEFAULT_SIZES, ...probes])].sort((a, b) => a - b);
    const cal = await calibrate({
      model: key, precision, provider, device: gpu.name, runBatch: run.runBatch, memory, maxBatch: run.maxBatch,
      budgetBytes: available / 4, marginFraction: 0.1, referencePixels: 1, sizes,
    });
    const calibrationPoints = cal.points.filter((p) => inCalibration.has(p.batch));
    const fit = fitEnvelope(calibrationPoints);
    const profile: MemoryProfile = { ...cal.profile, fixedBytes: fit.fixedBytes, perItemBytes: fit.perItemBytes, r2: fit.r2 };
    (perItem[key] ??= {})[precision] = profile.perItemBytes;
    emit({ kind: 'calibration', subject: subject.name, precision, fixedMiB: +(profile.fixedBytes / MiB).toFixed(1), perItemMiB: +(profile.perItemBytes / MiB).toFixed(4),
      r2: +fit.r2.toFixed(4), raisedMiB: +(fit.raisedBytes / MiB).toFixed(1), oomAt: cal.oomAt,
      points: calibrationPoints.map((p) => [p.batch, +(p.peakBytes / MiB).toFixed(1), +p.ms!.toFixed(1)]) });
    for (const m of cal.points.filter((p) => !inCalibration.has(p.batch))) {
      const predicted = predictBytes(profile, m.batch);
      emit({ kind: 'validation', subject: key, precision, batch: m.batch, measuredMiB: +(m.peakBytes / MiB).toFixed(1), predictedMiB: +(predicted / MiB).toFixed(1),
        errorPct: +((100 * (predicted - m.peakBytes)) / m.peakBytes).toFixed(1), errorOfCardPct: +((100 * (predicted - m.peakBytes)) / gpu.totalBytes).toFixed(2) });
    }
    // 3. Throughput: the scheduler's choice vs the best size measured.
    const throughput = cal.points.filter((p) => p.batch <= subject.schedulingMax).map((p) => ({ batch: p.batch, imagesPerSecond: (p.batch * 1000) / p.ms! }));
    const best = throughput.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
    const chosen = fitBatchToVram({ profile, freeBytes: await memory.availableBytes(), reservedBytes: 0, remainingImages: 1e9, maxBatch: subject.schedulingMax, throughput });
    const chosenRuns = [];
    for (let i = 0; i < 3; i++) chosenRuns.push(await measure(run.runBatch, chosen.batchSize, 1));
    const chosenOk = chosenRuns.filter(isPoint);
    const chosenIps = chosenOk.length ? Math.max(...chosenOk.map((p) => (p.batch * 1000) / p.ms!)) : 0;
    emit({ kind: 'throughput', subject: key, precision, chosenBatch: chosen.batchSize, why: chosen.why, chosenImagesPerSecond: +chosenIps.toFixed(1),
      bestBatch: best.batch, bestImagesPerSecond: +best.imagesPerSecond.toFixed(1), ratio: +(chosenIps / best.imagesPerSecond).toFixed(3), oomAtChosen: chosenRuns.length - chosenOk.length });

    // 4. Fill: the largest batch the profile allows (no throughput preference) vs the largest that runs.
    const allowed = fitBatchToVram({ profile, freeBytes: await memory.availableBytes(), reservedBytes: 0, remainingImages: 1e12, maxBatch: run.maxBatch });
    const atAllowed = await measure(run.runBatch, allowed.batchSize, 1);
    let largest = isPoint(atAllowed) ? allowed.batchSize : 0;
    let firstFailure: object | undefined;
    for (let n = Math.ceil(allowed.batchSize * 1.04); isPoint(atAllowed) && n <= run.maxBatch && performance.now() - started < 150_000; n = Math.ceil(n * 1.04)) {
      const m = await measure(run.runBatch, n, 1);
      if (!isPoint(m)) { firstFailure = m; break; }
      largest = n;
    }
    emit({ kind: 'fill', subject: key, precision, totalMiB: +(gpu.totalBytes / MiB).toFixed(0), profileAllows: allowed.batchSize,
      profileAllowsPredictedMiB: +(predictBytes(profile, allowed.batchSize) / MiB).toFixed(0), ranAtAllowed: atAllowed,
      largestThatRan: largest, largestPredictedMiB: +(predictBytes(profile, largest) / MiB).toFixed(0),
      allowedOverLargest: +(allowed.batchSize / Math.max(1, largest)).toFixed(3),
      unusedCardPct: isPoint(atAllowed) ? +((100 * (gpu.totalBytes - atAllowed.peakBytes)) / gpu.totalBytes).toFixed(1) : null,
      cappedBy: firstFailure ? 'failure' : largest >= run.maxBatch ? 'maxBatch' : 'time', firstFailure });
    await run.release();
  }
}
for (const [key, p] of Object.entries(perItem)) if (p.fp16 && p.fp32) emit({ kind: 'ratio', subject: key, fp32OverFp16PerItem: +(p.fp32 / p.fp16).toFixed(2) });
await sessions.release();
process.exit(0);
