/**
 * PP-OCRv4 in each precision side by side through the real stack (API + Redis + one worker on its device), in two
 * phases so that memory is measured the way a worker meets a job (PHASE, default both):
 *   calibrate  a one-page job per precision: the worker calibrates on first contact;
 *   measure    (run it on a freshly started worker, which reads the stored profiles) a job of PAGES sample pages per
 *              precision: images/s and the batch it ran at, peak memory predicted vs measured, what the session was
 *              measured to compute in (share of the arithmetic, nodes per provider), and the drawn text lines found
 *              on the sample pages; then where `auto` goes and what the worker advertises.
 * A fresh worker matters on CUDA: a session's arena keeps what calibration's largest batch grew it to.
 * One JSON line per job. Run with the API up: node dist/bench/precisions.js [apiUrl] [pages] [precisions] [samplesDir]
 * (precisions default bf16,fp16,fp32; ALLOW_CPU=1 lets the jobs run on a CPU worker: a smoke run without a GPU).
 */
import { benchClient } from './bench-client.js';
import { isImageFailure, type ImageResult, type JobRecord } from '#contracts';
import { matchLines } from '../test/fixtures/text-images.js';
import { samplePages } from './sample-pages.js';

const [api = 'http://127.0.0.1:8080', pagesArg = '96', precisionsArg = 'bf16,fp16,fp32', samplesDir = 'samples'] = process.argv.slice(2);
const client = await benchClient(api);
const emit = (o: object) => console.log(JSON.stringify(o));

const { lines, pages } = await samplePages(samplesDir);

const allowCpu: Record<string, string> = process.env.ALLOW_CPU === '1' ? { allowCpu: 'true' } : {};
const phase = process.env.PHASE ?? 'both';

async function run(n: number, fields: Record<string, string>): Promise<{ job: JobRecord; results: ImageResult[]; wallMs: number } | undefined> {
  const started = Date.now();
  const accepted = await client.submit(pages(n), { ...fields, ...allowCpu });
  if (accepted.status !== 202) {
    emit({ kind: 'refused', fields, status: accepted.status, body: accepted.body });
    return undefined;
  }
  const job = await client.waitForJob(accepted.body.id as string, 600_000, 50);
  // Pages rendered here always decode: an image failure would be a bug, not a result to compare.
  return { job, results: (await client.results(job.id)).results.filter((r): r is ImageResult => !isImageFailure(r)), wallMs: Date.now() - started };
}

let firstBoxes: ImageResult['boxes'][] | undefined;
for (const precision of precisionsArg.split(',')) {
  if (phase !== 'measure') {
    const warm = await run(1, { precision });
    if (warm) emit({ kind: 'calibration', precision, state: warm.job.state, wallMs: warm.wallMs, calibration: warm.job.events.find((e) => e.message.startsWith('calibrated'))?.message });
  }
  if (phase === 'calibrate') continue;
  const measured = await run(Number(pagesArg), { precision });
  if (!measured) continue;
  const { job, results, wallMs } = measured;
  const found = results.slice(0, lines.length).map((r, i) => ({ file: lines[i]!.file, ...matchLines(lines[i]!.boxes, r.boxes.map((b) => b.box)) }));
  const first = firstBoxes;
  firstBoxes ??= results.slice(0, lines.length).map((r) => r.boxes);
  const m = job.precision.measured;
  emit({
    kind: 'precision', precision, state: job.state, error: job.error, className: job.className, used: job.precision.used,
    images: job.progress.done, wallMs, timings: job.timings,
    batches: [...new Set(results.map((r) => r.batchSize))],
    peakBytes: job.peakBytes, predictedPeakBytes: job.predictedPeakBytes,
    peakOverPredicted: job.peakBytes && job.predictedPeakBytes ? Number((job.peakBytes / job.predictedPeakBytes).toFixed(3)) : undefined,
    measured: m && { flopsShare: m.flopsShare, computeNodes: m.computeNodes, placement: m.placement, exceptions: [...new Set(m.exceptions.map((e) => `${e.op} ${e.precision} ${e.provider}`))] },
    linesFound: found,
    sameBoxCountAsFirst: first ? results.slice(0, lines.length).map((r, i) => r.boxes.length === first[i]!.length) : undefined,
    events: job.events.filter((e) => ['oom', 'drift', 'failed', 'reroute'].includes(e.kind)).map((e) => `${e.kind}: ${e.message.slice(0, 300)}`),
  });
}

if (phase === 'calibrate') process.exit(0);
const auto = await client.submit(pages(1), { precision: 'auto' });
emit({ kind: 'auto', status: auto.status, className: auto.body.className, precision: auto.body.precision });
const workers = await client.workers();
emit({
  kind: 'workers',
  workers: workers.map((w) => ({
    workerId: w.workerId, gpu: w.device.gpu?.name, cc: w.device.gpu?.computeCapability, provider: w.device.provider, source: w.device.source,
    proven: w.device.provenPrecisions, classes: w.classes, selfTests: w.device.selfTests, variantChecks: w.device.variantChecks,
  })),
});
process.exit(0);
