import os from 'node:os';
import { PRECISIONS, type DeviceCapability, type GpuInfo, type Precision, type ProviderName } from '#contracts';
import type { Config, Logger } from '#config';
import { probeProviders, runSelfTest, type ProviderProbe } from '#inference';
import { CpuMemory } from '../memory/device-memory.js';
import type { NvidiaSmi } from './nvidia-smi.js';

/**
 * This device cannot serve with this configuration on this machine (wrong GPU index, no GPU where one is
 * required, nothing proven). Starting again will not help: the worker exits with EXIT_REFUSED and a worker
 * host does not restart it.
 */
export class DeviceRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** GPU providers in preference order; the first that loads drives the GPU (GPU_PROVIDER=auto). */
const GPU_PROVIDERS: ProviderName[] = ['cuda', 'webgpu'];

/**
 * Holds this process's CUDA work to its GPU and to exact float32, before anything loads CUDA (the probe's child
 * processes inherit both):
 * - CUDA_VISIBLE_DEVICES, unless already set (a worker host sets it), names the card by UUID, so the provider's
 *   device 0 is the card whose memory the worker reads (CUDA's own numbering need not follow nvidia-smi's).
 * - NVIDIA_TF32_OVERRIDE=0, unless CUDA_TF32 is on: the CUDA provider computes float32 MatMul/Conv in TF32 on
 *   compute capability >= 8 by default, and onnxruntime-node passes it no option to stop that (only deviceId).
 */
export function pinCudaProcess(gpu: GpuInfo | undefined, config: Pick<Config, 'CUDA_TF32'>, env: NodeJS.ProcessEnv = process.env): void {
  if (gpu && !env.CUDA_VISIBLE_DEVICES) env.CUDA_VISIBLE_DEVICES = gpu.uuid;
  if (!config.CUDA_TF32) env.NVIDIA_TF32_OVERRIDE = '0';
}

/** GPU_INDEX or GPU_UUID, or else the single card CUDA_VISIBLE_DEVICES names: where the operator pointed this worker. */
export function gpuSelection(config: Pick<Config, 'GPU_INDEX' | 'GPU_UUID'>, env: NodeJS.ProcessEnv = process.env): Pick<Config, 'GPU_INDEX' | 'GPU_UUID'> {
  if (config.GPU_INDEX !== undefined || config.GPU_UUID !== undefined) return config;
  const first = env.CUDA_VISIBLE_DEVICES?.split(',')[0]?.trim();
  if (!first) return config;
  if (/^GPU-[0-9a-fA-F-]+$/.test(first)) return { GPU_UUID: first };
  return /^\d+$/.test(first) ? { GPU_INDEX: Number(first) } : config;
}

/** The GPU provider this worker uses (GPU_PROVIDER), or why none can be. */
function chooseGpuProvider(wanted: Config['GPU_PROVIDER'], probes: ProviderProbe[]): { provider?: ProviderName; why: string } {
  const loadable = (p: ProviderName) => probes.find((probe) => probe.provider === p);
  const candidates = wanted === 'auto' ? GPU_PROVIDERS : [wanted];
  const provider = candidates.find((p) => loadable(p)?.loadable);
  const why = candidates.map((p) => `${p}: ${loadable(p)?.loadable ? 'loads' : loadable(p)?.error ?? 'not probed'}`).join('; ');
  return { provider, why };
}

interface Declaration {
  name: string;
  computeCapability?: number;
  totalGb: number;
  precisions: Precision[];
}

function parseDeclaration(json: string): Declaration {
  let d: Partial<Declaration>;
  try {
    d = JSON.parse(json) as Partial<Declaration>;
  } catch (err) {
    throw new DeviceRefusedError(`WORKER_DECLARE is not JSON: ${(err as Error).message}`);
  }
  const problems: string[] = [];
  if (typeof d.name !== 'string' || !d.name) problems.push('name (string) is required');
  if (!(typeof d.totalGb === 'number' && d.totalGb > 0)) problems.push('totalGb (number > 0) is required');
  if (!Array.isArray(d.precisions) || d.precisions.some((p) => !PRECISIONS.includes(p))) problems.push(`precisions must be a list of ${PRECISIONS.join(', ')}`);
  if (d.name !== 'cpu' && typeof d.computeCapability !== 'number') problems.push('computeCapability (number) is required for a GPU');
  if (problems.length) throw new DeviceRefusedError(`WORKER_DECLARE is invalid: ${problems.join('; ')}`);
  return d as Declaration;
}

/**
 * The GPU this worker drives: by GPU_UUID when set (a worker in a GPU namespace sees its card as index 0, so it
 * is shown under GPU_INDEX, its index on the host), else by GPU_INDEX, else the first.
 */
export function chooseGpu(config: Pick<Config, 'GPU_INDEX' | 'GPU_UUID'>, gpus: GpuInfo[]): GpuInfo | undefined {
  const listed = () => gpus.map((g) => `${g.index} (${g.uuid})`).join(', ') || 'none';
  if (config.GPU_UUID !== undefined) {
    const gpu = gpus.find((g) => g.uuid.toLowerCase() === config.GPU_UUID!.toLowerCase());
    if (!gpu) throw new DeviceRefusedError(`GPU_UUID=${config.GPU_UUID}: nvidia-smi lists GPUs ${listed()}`);
    return config.GPU_INDEX === undefined ? gpu : { ...gpu, index: config.GPU_INDEX };
  }
  if (config.GPU_INDEX === undefined) return gpus[0];
  const gpu = gpus.find((g) => g.index === config.GPU_INDEX);
  if (!gpu) throw new DeviceRefusedError(`GPU_INDEX=${config.GPU_INDEX}: nvidia-smi lists GPUs ${listed()}`);
  return gpu;
}

/**
 * What this worker's device really is. Probed: the GPU from nvidia-smi, the providers that load, and the
 * precisions whose self-test passed on the chosen provider. Declared (WORKER_DECLARE): taken as given,
 * marked `declared`, and executed on the CPU provider.
 */
export async function probeDevice(config: Config, smi: NvidiaSmi, log: Logger): Promise<DeviceCapability> {
  if (config.WORKER_DECLARE) {
    const availableProviders = (await probeProviders()).filter((p) => p.loadable).map((p) => p.provider);
    const d = parseDeclaration(config.WORKER_DECLARE);
    const totalBytes = Math.round(d.totalGb * 1e9);
    const isCpu = d.name === 'cpu';
    return {
      source: 'declared', kind: isCpu ? 'cpu' : 'gpu', provider: 'cpu', totalBytes, provenPrecisions: d.precisions,
      selfTests: [], availableProviders,
      gpu: isCpu ? undefined : {
        index: config.GPU_INDEX ?? 0, uuid: `declared-${d.name.replace(/\W+/g, '-')}-${config.GPU_INDEX ?? 0}`, name: d.name, computeCapability: d.computeCapability!,
        totalBytes, freeBytes: totalBytes, driver: 'declared',
      },
    };
  }

  const gpus = config.WORKER_DEVICE === 'cpu' ? [] : await smi.listGpus();
  const gpu = chooseGpu(gpuSelection(config), gpus);
  pinCudaProcess(gpu, config);
  const probes = await probeProviders();
  const availableProviders = probes.filter((p) => p.loadable).map((p) => p.provider);
  const { provider: gpuProvider, why } = chooseGpuProvider(config.GPU_PROVIDER, probes);
  if (gpu && !gpuProvider && config.GPU_PROVIDER !== 'auto') {
    throw new DeviceRefusedError(`GPU_PROVIDER=${config.GPU_PROVIDER} but it cannot create a session here (${why})`);
  }
  if (config.WORKER_DEVICE === 'gpu' && (!gpu || !gpuProvider)) {
    throw new DeviceRefusedError(`WORKER_DEVICE=gpu but ${!gpu ? 'nvidia-smi found no GPU' : `no GPU execution provider loads (${why})`}`);
  }
  if (gpu && gpuProvider === 'webgpu' && gpus.length > 1) {
    // onnxruntime-node (1.29, 1.30) has no WebGPU adapter selection: with several cards visible, Dawn takes its default
    // adapter (seen on a two-H100 host: always the first), whatever GPU_INDEX says. Pinning needs a process that
    // sees its card only, which the worker host's GPU namespace gives.
    if (gpu.uuid !== gpus[0]!.uuid) {
      throw new DeviceRefusedError(`GPU ${gpu.index} (${gpu.uuid}): the webgpu provider cannot be pointed at a chosen GPU while this process sees ${gpus.length}; start it through the worker host (npm run start:worker-host, GPU_ISOLATION=namespace, as root) or in a container that exposes this GPU only`);
    }
    log.warn({ gpus: gpus.length }, 'several GPUs visible and the webgpu provider takes its default adapter: this worker assumes it is the first');
  }
  if (gpu && gpuProvider) {
    // Every provider that loads is self-tested and shown; only the one that drives the GPU is advertised.
    const selfTests = [];
    for (const provider of availableProviders) selfTests.push(...(await runSelfTest(provider))); // one at a time: clean timings

    const provenPrecisions = selfTests.filter((t) => t.passed && t.provider === gpuProvider).map((t) => t.precision);
    log.info({ gpu: gpu.name, computeCapability: gpu.computeCapability, provider: gpuProvider, selfTests }, 'GPU probed');
    return { source: 'probed', kind: 'gpu', provider: gpuProvider, gpu, totalBytes: gpu.totalBytes, provenPrecisions, selfTests, availableProviders };
  }
  if (gpu) log.warn({ gpu: gpu.name, availableProviders, why }, 'a GPU is present but no GPU execution provider loads; serving the CPU');

  const selfTests = await runSelfTest('cpu');
  const budget = config.CPU_MEMORY_GB ?? CpuMemory.defaultBudget();
  log.info({ cpus: os.cpus().length, budgetBytes: budget, selfTests }, 'CPU probed');
  return {
    source: 'probed', kind: 'cpu', provider: 'cpu', totalBytes: budget,
    provenPrecisions: selfTests.filter((t) => t.passed).map((t) => t.precision), selfTests, availableProviders,
  };
}
