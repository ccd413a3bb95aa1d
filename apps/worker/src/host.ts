/**
 * A worker host: one worker process per GPU (GPU_INDICES: `all` or a list), each probing, self-testing,
 * advertising and ledgering its own card, so an OOM or a crash on one GPU never disturbs another. Each is held
 * to its card by CUDA_VISIBLE_DEVICES or, for WebGPU on a host with several cards, by a GPU namespace
 * (host/plan-slots.ts says which, host/gpu-namespace.ts how). A worker that dies is started again (after a
 * pause that grows while it keeps dying); SIGTERM drains them all.
 * With WORKER_DECLARE set to a JSON list, one declared worker per entry (tests and CPU-only development).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createLogger, loadConfig } from '#config';
import { listLoadableProviders } from '#inference';
import { gpuNamespaceOf, namespaceArgv, type GpuNamespace } from './host/gpu-namespace.js';
import { planHostSlots, type SlotPlan } from './host/plan-slots.js';
import { NvidiaSmi } from '#device';
import { EXIT_REFUSED } from './exit-codes.js';

const log = createLogger('worker-host');
const config = loadConfig();
const workerMain = fileURLToPath(new URL('./main.js', import.meta.url));

interface Slot extends SlotPlan {
  namespace?: GpuNamespace;
  child?: ChildProcess;
  restarts: number;
}

async function namespaceUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'the worker host is not running as root';
  const found = await Promise.all((process.env.PATH ?? '').split(':').map((d) => access(`${d}/unshare`).then(() => true, () => false)));
  return found.includes(true) ? undefined : 'util-linux unshare is not installed';
}

async function plannedSlots(): Promise<Slot[]> {
  const declared = config.WORKER_DECLARE ? (JSON.parse(config.WORKER_DECLARE) as unknown) : undefined;
  if (Array.isArray(declared)) {
    return declared.map((d, index) => ({ index, restarts: 0, env: { WORKER_DECLARE: JSON.stringify(d), GPU_INDEX: String(index) } }));
  }
  const gpus = await new NvidiaSmi().listGpus();
  const loadable = gpus.length > 0 ? await listLoadableProviders() : [];
  const gpuProvider = (config.GPU_PROVIDER === 'auto' ? (['cuda', 'webgpu'] as const) : [config.GPU_PROVIDER]).find((p) => loadable.includes(p));
  const plan = planHostSlots(config, { gpus, gpuProvider, namespaceUnavailable: gpus.length > 0 ? await namespaceUnavailable() : undefined });
  for (const warning of plan.warnings) log.warn({ gpuProvider }, warning);
  return Promise.all(plan.slots.map(async (slot) => ({
    ...slot, restarts: 0,
    ...(slot.pinning === 'namespace' ? { namespace: await namespaceFor(slot) } : {}),
  })));
}

async function namespaceFor(slot: SlotPlan): Promise<GpuNamespace> {
  if (!slot.gpu?.pciBusId) throw new Error(`GPU ${slot.index}: nvidia-smi gave no PCI bus id, which a GPU namespace needs`);
  return gpuNamespaceOf(slot.gpu.pciBusId);
}

/** Each worker of a host gets a port of its own for /metrics and health: WORKER_HTTP_PORT + its GPU index (0 stays 0: the OS picks). */
function httpPortOf(slot: Slot): { WORKER_HTTP_PORT: string } {
  return { WORKER_HTTP_PORT: String(config.WORKER_HTTP_PORT === 0 ? 0 : config.WORKER_HTTP_PORT + slot.index) };
}

let stopping = false;
function launch(slot: Slot): void {
  const startedAt = Date.now();
  const argv = slot.namespace ? namespaceArgv(slot.namespace, [process.execPath, workerMain]) : [process.execPath, workerMain];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env: { ...process.env, ...slot.env, ...httpPortOf(slot), WORKER_HOST_PID: String(process.pid) } });
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

const slots = await plannedSlots().catch((err: Error) => {
  log.fatal({ err: err.message }, 'worker host cannot start');
  process.exit(EXIT_REFUSED);
});
for (const slot of slots) launch(slot);
log.info({ slots: slots.map((s) => ({ gpu: s.index, uuid: s.gpu?.uuid, pinning: s.pinning, namespace: s.namespace })) }, 'worker host started');

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
