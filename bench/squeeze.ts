/**
 * OOM and memory-pressure demo on a real GPU (issue 5). Needs the API running (bench/h100-run.sh starts it)
 * and python3 with torch on the machine (the "other process" that takes the card). Spawns its own worker so it
 * can restart it cold. Scenarios, each a job of N sample pages (PP-OCRv4 detection, precision auto):
 *   undisturbed  – a warm worker, nothing else on the card;
 *   squeeze-mid  – another process takes all but KEEP_MIB of free memory once 25 % of the job is done, holds
 *                  it HOLD_S seconds, then frees it;
 *   squeeze-cold – a freshly started worker (nothing cached) meets a card that another process already holds
 *                  all but KEEP_MIB of; the hog lets go once 40 % is done.
 * For each: total time, micro-batch sizes over time, OOM events, device memory sampled every 250 ms. JSON lines.
 * Run: node dist/bench/squeeze.js [apiUrl] [images] [keepMiB] [holdS]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { GpuqClient } from '#client';
import type { JobRecord } from '#contracts';
import { renderTextImage, sampleImages } from '../test/fixtures/text-images.js';
import { NvidiaSmi } from '../apps/worker/src/probe/nvidia-smi.js';

const [api = 'http://127.0.0.1:8080', countArg = '96', keepArg = '768', holdArg = '20'] = process.argv.slice(2);
const count = Number(countArg);
const keepMiB = Number(keepArg);
const holdS = Number(holdArg);
const client = new GpuqClient(api);
const smi = new NvidiaSmi();
const emit = (o: object) => console.log(JSON.stringify(o));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pngs = await Promise.all(sampleImages().map(async (s) => (await renderTextImage(s)).png));
const images = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `p${i}.png`, data: pngs[i % pngs.length]! }));

let worker: ChildProcess | undefined;
async function stopWorker(): Promise<void> {
  if (!worker || worker.exitCode !== null) return;
  const exited = new Promise((r) => worker!.once('exit', r));
  worker.kill('SIGTERM');
  await exited;
}
async function startWorker(): Promise<void> {
  await stopWorker();
  const child = spawn(process.execPath, ['dist/apps/worker/src/main.js'], { env: { ...process.env, WORKER_DEVICE: 'gpu' }, stdio: ['ignore', 'pipe', 'inherit'] });
  worker = child;
  await new Promise<void>((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      if (chunk.toString().includes('"worker ready"')) resolve();
    });
  });
}

/** Another process takes all but `keepMiB` of free memory (torch), until killed. Resolves once it holds it. */
async function hog(keep: number): Promise<ChildProcess> {
  const code = `import torch,time,sys
free,total=torch.cuda.mem_get_info()
take=free-${keep}*2**20
x=torch.empty(take,dtype=torch.uint8,device='cuda')
print('HOLDING',take,flush=True)
time.sleep(3600)`;
  const child = spawn('python3', ['-c', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const m = /HOLDING (\d+)/.exec(chunk.toString());
      if (m) {
        emit({ kind: 'hog', heldMiB: Math.round(Number(m[1]) / 2 ** 20) });
        resolve();
      }
    });
    child.once('exit', (c) => reject(new Error(`hog exited ${c}`)));
  });
  return child;
}

async function scenario(name: string, opts: { atFraction?: number; action?: () => Promise<void>; then?: () => Promise<void> } = {}) {
  const samples: [number, number][] = [];
  const t0 = Date.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push([Date.now() - t0, Math.round((await smi.memory(0)).usedBytes / 2 ** 20)]);
      await sleep(250);
    }
  })();
  const { body } = await client.submit(images(count), { precision: 'auto' });
  const id = body.id as string;
  let acted = false;
  let job: JobRecord;
  for (;;) {
    job = await client.job(id);
    if (!acted && opts.action && job.progress.done >= (opts.atFraction ?? 0) * count) {
      acted = true;
      emit({ kind: 'action', scenario: name, atMs: Date.now() - t0, done: job.progress.done });
      await opts.action();
    }
    if (['completed', 'failed', 'cancelled'].includes(job.state)) break;
    await sleep(100);
  }
  sampling = false;
  await sampler;
  await opts.then?.();
  const start = Date.parse(job.startedAt ?? job.createdAt);
  emit({
    kind: 'scenario', name, state: job.state, images: job.progress, totalMs: Date.parse(job.finishedAt!) - Date.parse(job.createdAt),
    precision: job.precision.used, timings: job.timings,
    batches: job.events.filter((e) => e.kind === 'batch' || e.kind === 'oom').map((e) => ({ atMs: Date.parse(e.at) - start, kind: e.kind, message: e.message.slice(0, 260) })),
    ooms: job.events.filter((e) => e.kind === 'oom').length,
    memoryMiB: samples.filter((_, i) => i % 4 === 0),
  });
}

await startWorker();
await scenario('warm-up (calibration on first contact)');
await scenario('undisturbed');
let held: ChildProcess | undefined;
await scenario('squeeze-mid', {
  atFraction: 0.25,
  action: async () => {
    held = await hog(keepMiB);
    setTimeout(() => held?.kill('SIGKILL'), holdS * 1000);
  },
  then: async () => void held?.kill('SIGKILL'),
});
await sleep(2000);
// Cold: the worker's cached buffers go with it, then the other process takes the card, then a new worker starts.
await stopWorker();
held = await hog(keepMiB);
await startWorker();
await scenario('squeeze-cold', { atFraction: 0.4, action: async () => void held?.kill('SIGKILL') });
held?.kill('SIGKILL');
worker?.kill('SIGTERM');
process.exit(0);
