import { describe, expect, it } from 'vitest';
import type { GpuInfo } from '#contracts';
import { planHostSlots, type HostFacts } from './plan-slots.js';

const GIB = 2 ** 30;
const h100 = (index: number): GpuInfo => ({
  index, uuid: `GPU-${index}aaa-bbbb`, name: 'NVIDIA H100 80GB HBM3', computeCapability: 9, totalBytes: 80 * GIB, freeBytes: 79 * GIB,
  driver: '580.95.05', pciBusId: `00000000:00:0${6 + index}.0`,
});
const t4 = (index: number): GpuInfo => ({ ...h100(index), uuid: `GPU-${index}ccc-dddd`, name: 'Tesla T4', computeCapability: 7.5, totalBytes: 16 * GIB });
const auto = { GPU_INDICES: 'all', GPU_ISOLATION: 'auto' } as const;

describe('planHostSlots: one worker per GPU, each held to its card', () => {
  it.each<[string, typeof auto | { GPU_INDICES: string; GPU_ISOLATION: 'auto' | 'namespace' | 'cuda' }, HostFacts, (number | string)[][]]>([
    ['webgpu on two cards: a GPU namespace each', auto, { gpus: [h100(0), h100(1)], gpuProvider: 'webgpu' }, [[0, 'namespace'], [1, 'namespace']]],
    ['cuda on two cards: CUDA_VISIBLE_DEVICES is enough', auto, { gpus: [h100(0), t4(1)], gpuProvider: 'cuda' }, [[0, 'cuda'], [1, 'cuda']]],
    ['webgpu on one card: nothing to hide', auto, { gpus: [h100(0)], gpuProvider: 'webgpu' }, [[0, 'cuda']]],
    ['a subset of a four-card host', { GPU_INDICES: '3,1', GPU_ISOLATION: 'auto' }, { gpus: [0, 1, 2, 3].map(h100), gpuProvider: 'webgpu' }, [[3, 'namespace'], [1, 'namespace']]],
    ['a repeated index runs once', { GPU_INDICES: '1,1', GPU_ISOLATION: 'auto' }, { gpus: [h100(0), h100(1)], gpuProvider: 'webgpu' }, [[1, 'namespace']]],
    ['namespaces asked for on a CUDA host', { GPU_INDICES: 'all', GPU_ISOLATION: 'namespace' }, { gpus: [h100(0), h100(1)], gpuProvider: 'cuda' }, [[0, 'namespace'], [1, 'namespace']]],
  ])('%s', (_, config, facts, expected) => {
    const plan = planHostSlots(config, facts);
    expect(plan.slots.map((s) => [s.index, s.pinning!])).toEqual(expected);
    expect(plan.warnings).toEqual([]);
  });

  it('gives each worker its host index and its card by UUID (the index inside a namespace is 0)', () => {
    const [, second] = planHostSlots(auto, { gpus: [h100(0), t4(1)], gpuProvider: 'webgpu' }).slots;
    expect(second).toMatchObject({ index: 1, gpu: { name: 'Tesla T4' } });
    expect(second!.env).toEqual({ GPU_INDEX: '1', GPU_UUID: 'GPU-1ccc-dddd', CUDA_VISIBLE_DEVICES: 'GPU-1ccc-dddd', WORKER_DEVICE: 'gpu' });
  });

  it('runs one CPU worker on a host without GPUs', () => {
    expect(planHostSlots(auto, { gpus: [] }).slots).toEqual([{ index: -1, env: {} }]);
  });

  it('refuses GPU indexes the host does not have', () => {
    expect(() => planHostSlots({ GPU_INDICES: '0,2', GPU_ISOLATION: 'auto' }, { gpus: [h100(0), h100(1)], gpuProvider: 'webgpu' }))
      .toThrow('GPU_INDICES=0,2: no GPU 2 (nvidia-smi lists 0, 1)');
  });

  it('without namespaces, warns that only the default adapter\'s worker can start on webgpu', () => {
    const plan = planHostSlots(auto, { gpus: [h100(0), h100(1)], gpuProvider: 'webgpu', namespaceUnavailable: 'the worker host is not running as root' });
    expect(plan.slots.map((s) => s.pinning)).toEqual(['cuda', 'cuda']);
    expect(plan.warnings).toEqual([expect.stringMatching(/unavailable \(the worker host is not running as root\).*only the worker of GPU 0/)]);
  });

  it('fails when namespaces are demanded but cannot be made', () => {
    expect(() => planHostSlots({ GPU_INDICES: 'all', GPU_ISOLATION: 'namespace' }, { gpus: [h100(0), h100(1)], gpuProvider: 'webgpu', namespaceUnavailable: 'util-linux unshare is not installed' }))
      .toThrow('GPU_ISOLATION=namespace: util-linux unshare is not installed');
  });

  it('warns when CUDA pinning is forced on a WebGPU host with several cards', () => {
    const plan = planHostSlots({ GPU_INDICES: 'all', GPU_ISOLATION: 'cuda' }, { gpus: [h100(0), h100(1)], gpuProvider: 'webgpu' });
    expect(plan.slots.map((s) => s.pinning)).toEqual(['cuda', 'cuda']);
    expect(plan.warnings).toEqual([expect.stringContaining('only the worker of GPU 0 can start')]);
  });
});
