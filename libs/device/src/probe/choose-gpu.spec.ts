import { describe, expect, it } from 'vitest';
import type { GpuInfo } from '#contracts';
import { chooseGpu } from './probe-device.js';

const gpu = (index: number, uuid: string): GpuInfo => ({ index, uuid, name: 'NVIDIA H100 80GB HBM3', computeCapability: 9, totalBytes: 1, freeBytes: 1, driver: '580' });
const host = [gpu(0, 'GPU-2a0c'), gpu(1, 'GPU-6ca8')];

describe('chooseGpu', () => {
  it('takes the first GPU when none is named', () => {
    expect(chooseGpu({}, host)?.uuid).toBe('GPU-2a0c');
    expect(chooseGpu({}, [])).toBeUndefined();
  });

  it('finds a GPU by index', () => {
    expect(chooseGpu({ GPU_INDEX: 1 }, host)?.uuid).toBe('GPU-6ca8');
    expect(() => chooseGpu({ GPU_INDEX: 2 }, host)).toThrow('GPU_INDEX=2: nvidia-smi lists GPUs 0 (GPU-2a0c), 1 (GPU-6ca8)');
  });

  it('in a GPU namespace: finds the card by UUID and shows it under its host index', () => {
    const inside = [gpu(0, 'GPU-6ca8')]; // nvidia-smi numbers the one visible card 0
    expect(chooseGpu({ GPU_UUID: 'GPU-6CA8', GPU_INDEX: 1 }, inside)).toMatchObject({ index: 1, uuid: 'GPU-6ca8' });
    expect(chooseGpu({ GPU_UUID: 'GPU-6ca8' }, inside)).toMatchObject({ index: 0 });
  });

  it('refuses a UUID it cannot see', () => {
    expect(() => chooseGpu({ GPU_UUID: 'GPU-ffff', GPU_INDEX: 1 }, [gpu(0, 'GPU-2a0c')])).toThrow('GPU_UUID=GPU-ffff: nvidia-smi lists GPUs 0 (GPU-2a0c)');
  });
});
