import { describe, expect, it } from 'vitest';
import { parseGpuQuery, parseProcessLine } from './nvidia-smi.js';

describe('parseGpuQuery', () => {
  it('reads the H100 line as nvidia-smi prints it', () => {
    const [gpu] = parseGpuQuery('0, GPU-5e2f1c3a-aaaa, NVIDIA H100 80GB HBM3, 9.0, 81559, 81004, 580.65.06\n');
    expect(gpu).toEqual({
      index: 0, uuid: 'GPU-5e2f1c3a-aaaa', name: 'NVIDIA H100 80GB HBM3', computeCapability: 9,
      totalBytes: 81559 * 1024 * 1024, freeBytes: 81004 * 1024 * 1024, driver: '580.65.06',
    });
  });

  it('keeps the PCI bus id when the query has it', () => {
    const [gpu] = parseGpuQuery('1, GPU-6ca8, NVIDIA H100 80GB HBM3, 9.0, 81559, 81079, 580.95.05, 00000000:00:07.0\n');
    expect(gpu).toMatchObject({ index: 1, uuid: 'GPU-6ca8', pciBusId: '00000000:00:07.0' });
  });

  it('reads several GPUs and ignores blank lines', () => {
    expect(parseGpuQuery('0, a, Tesla T4, 7.5, 15360, 15000, 535\n\n1, b, NVIDIA A10, 8.6, 23028, 22000, 535\n').map((g) => g.name)).toEqual(['Tesla T4', 'NVIDIA A10']);
  });
});

describe('parseProcessLine', () => {
  it('reads this process\'s line of --query-compute-apps and ignores the others and [N/A]', () => {
    expect(parseProcessLine('4242, 2634', 4242)).toEqual({ usedBytes: 2634 * 1024 * 1024 });
    expect(parseProcessLine('999, 2634', 4242)).toBeUndefined();
    expect(parseProcessLine('4242, [N/A]', 4242)).toBeUndefined();
  });
});
