import type { DeviceCapability } from '#contracts';

/**
 * Which device this is, as memory profiles are kept: the host and the GPU's UUID (`gpu-host-3/GPU-8c1e…`; a
 * declared GPU has a UUID of its declaration), or the host and `cpu`. Two cards of one name are two devices:
 * one card's OOM never caps another's.
 */
export function deviceInstanceId(device: Pick<DeviceCapability, 'gpu'>, host: string): string {
  return `${host}/${device.gpu?.uuid ?? 'cpu'}`;
}
