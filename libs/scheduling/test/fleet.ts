import type { DeviceCapability, Precision, SelfTestResult } from '#contracts';
import { MIB } from '../src/units.js';

/** A simulated worker device as a probe would report it (memory in MiB, as nvidia-smi prints it). */
function gpu(
  name: string,
  computeCapability: number,
  totalMiB: number,
  proven: Precision[],
  opts: { provider?: 'cuda' | 'webgpu'; failed?: SelfTestResult[] } = {},
): DeviceCapability {
  const provider = opts.provider ?? 'cuda';
  const totalBytes = totalMiB * MIB;
  return {
    source: 'probed',
    kind: 'gpu',
    provider,
    gpu: { index: 0, uuid: `GPU-${name}`, name, computeCapability, totalBytes, freeBytes: totalBytes, driver: '570.86' },
    totalBytes,
    provenPrecisions: proven,
    selfTests: [...proven.map((precision) => ({ provider, precision, passed: true })), ...(opts.failed ?? [])],
    availableProviders: [provider, 'cpu'],
  };
}

export const V100 = gpu('Tesla V100-SXM2-32GB', 7.0, 32768, ['fp16', 'fp32']);
export const T4 = gpu('NVIDIA T4', 7.5, 15360, ['fp16', 'fp32']);
export const A10 = gpu('NVIDIA A10', 8.6, 23028, ['bf16', 'fp16', 'fp32']);
export const RTX4090 = gpu('NVIDIA GeForce RTX 4090', 8.9, 24564, ['bf16', 'fp16', 'fp32']);
export const L4 = gpu('NVIDIA L4', 8.9, 23034, ['bf16', 'fp16', 'fp32']);
export const A100_40 = gpu('NVIDIA A100-SXM4-40GB', 8.0, 40960, ['bf16', 'fp16', 'fp32']);
export const A100_80 = gpu('NVIDIA A100-SXM4-80GB', 8.0, 81920, ['bf16', 'fp16', 'fp32']);
export const H100 = gpu('NVIDIA H100 80GB HBM3', 9.0, 81559, ['bf16', 'fp16', 'fp32']);
/** A 16 GB card that does prove bf16 (Ampere workstation card). */
export const A4000 = gpu('NVIDIA RTX A4000', 8.6, 16376, ['bf16', 'fp16', 'fp32']);
/** Hopper hardware, but its provider (webgpu) failed the bf16 self-test: it must never get bf16 work. */
export const WEBGPU_H100 = gpu('NVIDIA H100 PCIe', 9.0, 81559, ['fp16', 'fp32'], {
  provider: 'webgpu',
  failed: [{ provider: 'webgpu', precision: 'bf16', passed: false, error: 'Unsupported data type: bfloat16' }],
});
export const CPU_NODE: DeviceCapability = {
  source: 'probed',
  kind: 'cpu',
  provider: 'cpu',
  totalBytes: 64e9,
  provenPrecisions: ['fp32'],
  selfTests: [{ provider: 'cpu', precision: 'fp32', passed: true }],
  availableProviders: ['cpu'],
};

export const FULL_FLEET = [V100, T4, A10, RTX4090, L4, A100_40, A100_80, H100, WEBGPU_H100, CPU_NODE];

/** A T4 configured by WORKER_DECLARE (tests, development): its precisions are configuration, not measurement. */
export const DECLARED_T4: DeviceCapability = { ...T4, source: 'declared', gpu: { ...T4.gpu!, uuid: 'declared-NVIDIA-T4-0', driver: 'declared' } };
