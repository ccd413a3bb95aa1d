/**
 * Jobs spread over every GPU of a host (issue 6). Needs Redis and the API running (bench/h100-run2.sh's
 * stack_up). Starts the worker host itself, twice: first on GPU 0 alone (the baseline), then on all GPUs. In
 * each phase: a warm-up job per worker (each calibrates on first contact), then JOBS jobs of PAGES sample pages
 * submitted at once; device memory of every GPU is read by nvidia-smi every 250 ms, outside the workers'
 * namespaces. Prints JSON lines: the workers as advertised, then per phase the wall time, images/s, and per GPU
 * the jobs and images it ran, its micro-batch sizes and its memory used (peak and mean).
 * Run: node dist/bench/multi-gpu.js [apiUrl] [jobs=8] [pages=60]
 * Env: MULTI_GPU_PHASES (default one,all), MULTI_GPU_PRECISION (default auto).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { benchClient } from './bench-client.js';
import { isImageFailure, type ImageResult, type JobRecord, type WorkerAdvert } from '#contracts';
import { samplePages } from './sample-pages.js';
import { NvidiaSmi } from '#device';

const [api = 'http://127.0.0.1:8080', jobsArg = '8', pagesArg = '60'] = process.argv.slice(2);
const jobCount = Number(jobsArg);
const pages = Number(pagesArg);
const phases = (process.env.MULTI_GPU_PHASES ?? 'one,all').split(',');
const precision = process.env.MULTI_GPU_PRECISION ?? 'auto';
const client = await benchClient(api);
const smi = new NvidiaSmi();
const gpus = await smi.listGpus();
const emit = (o: object) => console.log(JSON.stringify(o));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const samples = await samplePages(process.env.SAMPLES_DIR ?? 'samples');
const images = (n: number, tag: string) => samples.pages(n).map((p) => ({ ...p, name: `${tag}-${p.name}` }));

async function startHost(indices: string): Promise<{ host: ChildProcess; workers: WorkerAdvert[] }> {
  const spawnedAt = Date.now();
  const host = spawn(process.execPath, ['dist/apps/worker/src/host.js'], { env: { ...process.env, GPU_INDICES: indices }, stdio: ['ignore', 2, 2] }); // worker logs to stderr: stdout is the figures
  const expected = indices === 'all' ? gpus.length : indices.split(',').length;
  const deadline = Date.now() + 120_000;
  for (;;) {
    // Only this host's workers: an advert of a worker killed earlier lingers until its TTL runs out.
    const workers = (await client.workers()).filter((w) => w.status === 'ready' && Date.parse(w.startedAt) >= spawnedAt - 1000);
    if (workers.length === expected) return { host, workers };
    if (Date.now() > deadline || host.exitCode !== null) throw new Error(`GPU_INDICES=${indices}: ${workers.length} of ${expected} workers ready`);
    await sleep(500);
  }
}

async function stopHost(host: ChildProcess): Promise<void> {
  const exited = new Promise((r) => host.once('exit', r));
  host.kill('SIGTERM');
  await exited;
  for (let i = 0; i < 40 && (await client.workers()).length > 0; i++) await sleep(250);
}

async function runJobs(count: number, n: number, tag: string): Promise<{ jobs: JobRecord[]; wallMs: number }> {
  const t0 = Date.now();
  const ids = await Promise.all(Array.from({ length: count }, async (_, j) => {
    const r = await client.submit(images(n, `${tag}${j}`), { precision });
    if (r.status !== 202) throw new Error(`submit answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body.id as string;
  }));
  const jobs = await Promise.all(ids.map((id) => client.waitForJob(id, 600_000, 250)));
  return { jobs, wallMs: Date.now() - t0 };
}

async function phase(name: string, indices: string): Promise<void> {
  const { host, workers } = await startHost(indices);
  const gpuOf = new Map(workers.map((w) => [w.workerId, w.device.gpu?.index ?? -1]));
  emit({
    kind: 'workers', phase: name,
    workers: workers.map((w) => ({ workerId: w.workerId, pid: w.pid, gpu: w.device.gpu?.index, uuid: w.device.gpu?.uuid, busId: w.device.gpu?.pciBusId, provider: w.device.provider, proven: w.device.provenPrecisions, classes: w.classes })),
  });
  // Warm-up: one small job per worker at once, so that each meets the model (and calibrates) before timing.
  const warm = await runJobs(workers.length, 4, `${name}-warm`);
  emit({ kind: 'warm-up', phase: name, wallMs: warm.wallMs, states: warm.jobs.map((j) => j.state) });

  // One nvidia-smi per card, reading every 250 ms from outside the workers (and their namespaces).
  const monitors = new Map(gpus.map((g) => [g.index, smi.monitorMemory(g.uuid, 250)]));
  await Promise.all([...monitors.values()].map((m) => m.ready));
  const started = Date.now();
  const { jobs, wallMs } = await runJobs(jobCount, pages, name);
  const samples = new Map([...monitors].map(([g, m]) => [g, m.readingsSince(started).map((r) => r.usedBytes / 2 ** 20)]));
  monitors.forEach((m) => m.close());

  const perGpu = new Map<number, { jobs: number; images: number; batchSizes: Record<number, number>; inferMs: number }>();
  let mixed = 0;
  for (const job of jobs) {
    const { results } = await client.results(job.id);
    const ran = new Set(results.map((r) => r.workerId));
    if (ran.size > 1) mixed++;
    for (const workerId of ran) {
      const g = gpuOf.get(workerId) ?? -1;
      const entry = perGpu.get(g) ?? { jobs: 0, images: 0, batchSizes: {}, inferMs: 0 };
      entry.jobs++;
      if (ran.size === 1) entry.inferMs += job.timings?.inferenceMs ?? 0;
      perGpu.set(g, entry);
    }
    for (const r of results.filter((o): o is ImageResult => !isImageFailure(o))) {
      const entry = perGpu.get(gpuOf.get(r.workerId) ?? -1)!;
      entry.images++;
      entry.batchSizes[r.batchSize] = (entry.batchSizes[r.batchSize] ?? 0) + 1;
    }
  }
  const images = jobs.reduce((s, j) => s + j.progress.done, 0);
  emit({
    kind: 'phase', phase: name, gpuIndices: indices, jobs: jobs.length, pages, precision: [...new Set(jobs.map((j) => j.precision.used))],
    states: jobs.map((j) => j.state), images, wallMs, imagesPerS: +(images / (wallMs / 1000)).toFixed(1), jobsOnSeveralWorkers: mixed,
    perGpu: Object.fromEntries(perGpu),
    memoryMiB: Object.fromEntries([...samples].map(([g, s]) => [g, s.length ? { peak: Math.round(Math.max(...s)), mean: Math.round(s.reduce((a, b) => a + b, 0) / s.length), samples: s.length } : { samples: 0 }])),
  });
  await stopHost(host);
}

for (const name of phases) await phase(name, name === 'one' ? String(gpus[0]?.index ?? 0) : 'all');
process.exit(0);
