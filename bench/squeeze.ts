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
 * Env: SQUEEZE_SCENARIOS (default all: undisturbed,squeeze-mid,squeeze-cold; the warm-up always runs),
 * SQUEEZE_PRECISION (default auto) and SQUEEZE_ALLOW_CPU=1 for the jobs' precision policy, SQUEEZE_SCALE_PROFILE
 * (a factor, e.g. 0.25): before the cold worker starts, the stored profiles of the model are replaced by ones
 * scaled by it, a profile that under-asks (as one measured on another card of the same name could), so the cold
 * worker's first batch runs out of memory for real and the OOM loop has to recover; SQUEEZE_TAKE_AFTER_START=1
 * (squeeze-cold): the other process takes the card after the cold worker started, not before.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { benchClient } from './bench-client.js';
import type { JobRecord } from '#contracts';
import { createRedis, Keys, ProfileRepository } from '#queue';
import { samplePages } from './sample-pages.js';
import { NvidiaSmi } from '#device';

const [api = 'http://127.0.0.1:8080', countArg = '240', keepArg = '768', holdArg = '15'] = process.argv.slice(2);
const count = Number(countArg);
const keepMiB = Number(keepArg);
const holdS = Number(holdArg);
const scenarios = new Set((process.env.SQUEEZE_SCENARIOS ?? 'undisturbed,squeeze-mid,squeeze-cold').split(','));
const policy: Record<string, string> = { precision: process.env.SQUEEZE_PRECISION ?? 'auto', ...(process.env.SQUEEZE_ALLOW_CPU === '1' ? { allowCpu: 'true' } : {}) };
const client = await benchClient(api);
const smi = new NvidiaSmi();
const emit = (o: object) => console.log(JSON.stringify(o));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const images = (await samplePages(process.env.SAMPLES_DIR ?? 'samples')).pages;

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

/**
 * Another process (python + torch, started ahead so its import time does not blur the timing): on "take" it
 * allocates all but `keep` MiB of free memory, on "free" it lets go.
 */
class Hog {
  private readonly child: ChildProcess;
  private lines: string[] = [];
  constructor() {
    const code = `import torch,sys
torch.cuda.init()
print('READY',flush=True)
x=None
for line in sys.stdin:
    if line.startswith('take'):
        free,total=torch.cuda.mem_get_info()
        x=torch.empty(free-int(line.split()[1])*2**20,dtype=torch.uint8,device='cuda')
        print('HOLDING',x.numel(),flush=True)
    else:
        x=None
        torch.cuda.empty_cache()
        print('FREED',flush=True)`;
    this.child = spawn('python3', ['-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.stdout!.on('data', (chunk: Buffer) => this.lines.push(...chunk.toString().split('\n').filter(Boolean)));
  }
  private async expect(word: string): Promise<string> {
    for (;;) {
      const i = this.lines.findIndex((l) => l.startsWith(word));
      if (i >= 0) return this.lines.splice(i, 1)[0]!;
      if (this.child.exitCode !== null) throw new Error('hog exited');
      await sleep(20);
    }
  }
  ready = () => this.expect('READY');
  async take(keep: number): Promise<void> {
    this.child.stdin!.write(`take ${keep}\n`);
    emit({ kind: 'hog', heldMiB: Math.round(Number((await this.expect('HOLDING')).split(' ')[1]) / 2 ** 20) });
  }
  async free(): Promise<void> {
    this.child.stdin!.write('free\n');
    await this.expect('FREED');
    emit({ kind: 'hog', heldMiB: 0 });
  }
  kill = () => this.child.kill('SIGKILL');
}

async function scenario(name: string, opts: { atFraction?: number; action?: () => Promise<void> } = {}) {
  const samples: [number, number][] = [];
  const t0 = Date.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push([Date.now() - t0, Math.round((await smi.memory(0)).usedBytes / 2 ** 20)]);
      await sleep(250);
    }
  })();
  const submitted = await client.submit(images(count), policy);
  if (submitted.status !== 202) throw new Error(`${name}: submit answered ${submitted.status}: ${JSON.stringify(submitted.body)}`);
  const id = submitted.body.id as string;
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
  const start = Date.parse(job.startedAt ?? job.createdAt);
  emit({
    kind: 'scenario', name, state: job.state, images: job.progress, totalMs: Date.parse(job.finishedAt!) - Date.parse(job.createdAt),
    precision: job.precision.used, timings: job.timings,
    batches: job.events.filter((e) => e.kind === 'batch' || e.kind === 'oom').map((e) => ({ atMs: Date.parse(e.at) - start, kind: e.kind, message: e.message.slice(0, 260) })),
    ooms: job.events.filter((e) => e.kind === 'oom').length,
    memoryMiB: samples.filter((_, i) => i % 4 === 0),
  });
}

/** Replaces the stored profiles of the default model by copies whose memory is scaled by `factor` (see the header). */
async function scaleStoredProfiles(factor: number): Promise<void> {
  if (factor === 1) return;
  const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const profiles = new ProfileRepository(redis, new Keys(process.env.GPUQ_PREFIX ?? 'gpuq'));
  for (const p of (await profiles.list()).filter((x) => x.model === 'ppocr-v4-det')) {
    const scaled = { ...p, fixedBytes: Math.round(p.fixedBytes * factor), perItemBytes: Math.round(p.perItemBytes * factor), points: p.points.map((q) => ({ ...q, peakBytes: Math.round(q.peakBytes * factor) })) };
    await profiles.put(scaled);
    emit({ kind: 'profile-scaled', precision: p.precision, factor, perItemBytes: [p.perItemBytes, scaled.perItemBytes] });
  }
  redis.disconnect();
}

const hog = new Hog();
await hog.ready();
await startWorker();
await scenario('warm-up (calibration on first contact)');
if (scenarios.has('undisturbed')) await scenario('undisturbed');
if (scenarios.has('squeeze-mid')) {
  await scenario('squeeze-mid', {
    atFraction: 0.25,
    action: async () => {
      await hog.take(keepMiB);
      setTimeout(() => void hog.free(), holdS * 1000);
    },
  });
  await sleep(holdS * 1000);
}
if (scenarios.has('squeeze-cold')) {
  // Cold: the worker's cached buffers go with it, the other process takes the card, a new worker starts and
  // meets a card with KEEP_MIB free; the other process lets go HOLD_S seconds after the job was submitted.
  // SQUEEZE_TAKE_AFTER_START=1: the worker starts on a free card (its CUDA context and self-tests need memory) and
  // the other process takes all but KEEP_MIB before the job comes, so the job's session and batches meet a full card.
  await stopWorker();
  await scaleStoredProfiles(Number(process.env.SQUEEZE_SCALE_PROFILE ?? 1));
  const takeAfterStart = process.env.SQUEEZE_TAKE_AFTER_START === '1';
  if (!takeAfterStart) await hog.take(keepMiB);
  await startWorker();
  if (takeAfterStart) await hog.take(keepMiB);
  await scenario('squeeze-cold', { atFraction: 0, action: async () => void setTimeout(() => void hog.free(), holdS * 1000) });
}
hog.kill();
await stopWorker();
process.exit(0);
