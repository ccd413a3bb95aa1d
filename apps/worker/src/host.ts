/**
 * A worker host: one worker process per GPU (GPU_INDICES: `all` or a list), each probing, self-testing,
 * advertising and ledgering its own card, so an OOM or a crash on one GPU never disturbs another. A worker that
 * dies is started again (after a pause that grows while it keeps dying); SIGTERM drains them all.
 * With WORKER_DECLARE set to a JSON list, one declared worker per entry (tests and CPU-only development).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLogger, loadConfig } from '#config';
import { NvidiaSmi } from './probe/nvidia-smi.js';
import { EXIT_REFUSED } from './probe/probe-device.js';

const log = createLogger('worker-host');
const config = loadConfig();
const workerMain = fileURLToPath(new URL('./main.js', import.meta.url));

interface Slot {
  index: number;
  env: Record<string, string>;
  child?: ChildProcess;
  restarts: number;
}

async function plannedSlots(): Promise<Slot[]> {
  const declared = config.WORKER_DECLARE ? (JSON.parse(config.WORKER_DECLARE) as unknown) : undefined;
  if (Array.isArray(declared)) {
    return declared.map((d, index) => ({ index, restarts: 0, env: { WORKER_DECLARE: JSON.stringify(d), GPU_INDEX: String(index) } }));
  }
  const gpus = await new NvidiaSmi().listGpus();
  const wanted = config.GPU_INDICES === 'all' ? gpus.map((g) => g.index) : config.GPU_INDICES.split(',').map(Number);
  const missing = wanted.filter((i) => !gpus.some((g) => g.index === i));
  if (missing.length > 0) throw new Error(`GPU_INDICES=${config.GPU_INDICES}: no GPU ${missing.join(', ')} (nvidia-smi lists ${gpus.map((g) => g.index).join(', ') || 'none'})`);
  if (wanted.length === 0) return [{ index: -1, restarts: 0, env: {} }]; // no GPU: one CPU worker
  // CUDA_VISIBLE_DEVICES pins the CUDA provider to the card; nvidia-smi queries use GPU_INDEX.
  return wanted.map((index) => ({ index, restarts: 0, env: { GPU_INDEX: String(index), CUDA_VISIBLE_DEVICES: String(index), WORKER_DEVICE: 'gpu' } }));
}

let stopping = false;
function launch(slot: Slot): void {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [workerMain], { stdio: 'inherit', env: { ...process.env, ...slot.env } });
  slot.child = child;
  child.on('exit', (code, signal) => {
    if (stopping) return;
    if (code === EXIT_REFUSED) {
      log.fatal({ gpu: slot.index }, 'worker refused to start with this configuration (see its log); not restarted');
      return;
    }
    if (Date.now() - startedAt > 60_000) slot.restarts = 0; // a worker that ran a while is not crash-looping
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(slot.restarts, 5));
    slot.restarts++;
    log.error({ gpu: slot.index, code, signal, restartInMs: delay }, 'worker exited; starting it again');
    setTimeout(() => !stopping && launch(slot), delay);
  });
}

const slots = await plannedSlots();
for (const slot of slots) launch(slot);
log.info({ slots: slots.map((s) => s.index) }, 'worker host started');

async function stop(): Promise<void> {
  stopping = true;
  await Promise.all(slots.map((s) => new Promise<void>((resolve) => {
    if (!s.child || s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
    s.child.once('exit', () => resolve());
    s.child.kill('SIGTERM');
  })));
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
