import type { GpuInfo, ProviderName } from '#contracts';
import type { Config } from '#config';

/** How a GPU worker is held to its card (see GPU_ISOLATION). */
export type Pinning = 'namespace' | 'cuda';

/** One worker process the host runs: a GPU (its host index) or, on a host without GPUs, the CPU (-1). */
export interface SlotPlan {
  index: number;
  env: Record<string, string>;
  gpu?: GpuInfo;
  pinning?: Pinning;
}

export interface HostFacts {
  /** Every GPU nvidia-smi lists on the host. */
  gpus: GpuInfo[];
  /** The provider a worker would drive its GPU with (the first of cuda, webgpu that loads), if any. */
  gpuProvider?: ProviderName;
  /** Why a GPU namespace cannot be made here (not root, no unshare…); undefined when it can. */
  namespaceUnavailable?: string;
}

export interface HostPlan {
  slots: SlotPlan[];
  warnings: string[];
}

/**
 * Which worker processes a host runs and how each is pinned to its card. Pure: the host gathers the facts.
 * CUDA honours CUDA_VISIBLE_DEVICES; WebGPU has no adapter selection, so with several cards each WebGPU worker
 * must run where it can see its card only (a GPU namespace), or it would land on the default adapter.
 */
export function planHostSlots(config: Pick<Config, 'GPU_INDICES' | 'GPU_ISOLATION'>, facts: HostFacts): HostPlan {
  const { gpus } = facts;
  const wanted = config.GPU_INDICES === 'all' ? gpus.map((g) => g.index) : [...new Set(config.GPU_INDICES.split(',').map(Number))];
  const missing = wanted.filter((i) => !gpus.some((g) => g.index === i));
  if (missing.length > 0) throw new Error(`GPU_INDICES=${config.GPU_INDICES}: no GPU ${missing.join(', ')} (nvidia-smi lists ${gpus.map((g) => g.index).join(', ') || 'none'})`);
  if (wanted.length === 0) return { slots: [{ index: -1, env: {} }], warnings: [] }; // no GPU: one CPU worker

  const warnings: string[] = [];
  const needsNamespace = facts.gpuProvider === 'webgpu' && gpus.length > 1;
  let pinning: Pinning = config.GPU_ISOLATION === 'namespace' || (config.GPU_ISOLATION === 'auto' && needsNamespace) ? 'namespace' : 'cuda';
  if (pinning === 'namespace' && facts.namespaceUnavailable) {
    if (config.GPU_ISOLATION === 'namespace') throw new Error(`GPU_ISOLATION=namespace: ${facts.namespaceUnavailable}`);
    pinning = 'cuda';
    warnings.push(`GPU namespaces are unavailable (${facts.namespaceUnavailable}): WebGPU workers cannot be pinned, so only the worker of GPU ${gpus[0]!.index} (the default adapter) can start; the others refuse`);
  } else if (config.GPU_ISOLATION === 'cuda' && needsNamespace) {
    warnings.push(`GPU_ISOLATION=cuda on a WebGPU host with ${gpus.length} GPUs: only the worker of GPU ${gpus[0]!.index} can start; the others refuse`);
  }
  return {
    warnings,
    slots: wanted.map((index) => {
      const gpu = gpus.find((g) => g.index === index)!;
      // The UUID finds the card inside a namespace too (nvidia-smi numbers it 0 there); CUDA accepts UUIDs.
      const env = { GPU_INDEX: String(index), GPU_UUID: gpu.uuid, CUDA_VISIBLE_DEVICES: gpu.uuid, WORKER_DEVICE: 'gpu' };
      return { index, env, gpu, pinning };
    }),
  };
}
