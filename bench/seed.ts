/**
 * The seed story on a real device: a job promised bf16 whose model computes in float32. Run against a worker whose
 * variants keep their compute ops in float32 (VARIANT_KEEP_FP32_OPS=Conv) and whose profile for the model was
 * calibrated with the true bf16 variant. Submits a bf16 job and prints how it ended (state, error, the drift and
 * failure events with their figures), what the worker advertises afterwards, and how a second bf16 job is answered.
 * Run with the API and that worker up: node dist/bench/seed.js [apiUrl] [pages] [samplesDir]
 */
import { benchClient } from './bench-client.js';
import { samplePages } from './sample-pages.js';

const [api = 'http://127.0.0.1:8080', pagesArg = '16', samplesDir = 'samples'] = process.argv.slice(2);
const client = await benchClient(api);
const emit = (o: object) => console.log(JSON.stringify(o));
const pages = (await samplePages(samplesDir)).pages(Number(pagesArg));

for (const attempt of ['first', 'second']) {
  const submitted = await client.submit(pages, { precision: 'bf16' });
  if (submitted.status !== 202) {
    emit({ kind: 'seed', attempt, status: submitted.status, refused: submitted.body });
    continue;
  }
  const job = await client.waitForJob(submitted.body.id as string, 300_000, 50);
  const { results } = await client.results(job.id);
  emit({
    kind: 'seed', attempt, status: submitted.status, state: job.state, error: job.error, resultsWritten: results.length,
    precision: { promised: job.precision.promised, used: job.precision.used, source: job.precision.source, measured: job.precision.measured && { flopsShare: job.precision.measured.flopsShare, computeNodes: job.precision.measured.computeNodes } },
    peakBytes: job.peakBytes, predictedPeakBytes: job.predictedPeakBytes, driftFlagged: job.driftFlagged,
    events: job.events.filter((e) => ['drift', 'failed', 'oom', 'batch'].includes(e.kind)).map((e) => `${e.kind}: ${e.message}`),
  });
  const workers = await client.workers();
  emit({ kind: 'seed-workers', attempt, variantChecks: workers.map((w) => w.device.variantChecks?.filter((c) => c.precision === 'bf16')) });
}
process.exit(0);
