import type { DeviceCapability } from '#contracts';

/**
 * A short human name for a device, used inside reason strings: the GPU's marketing name
 * (`NVIDIA T4`), or `cpu` for a CPU slot.
 */
export function deviceLabel(device: DeviceCapability): string {
  if (device.gpu?.name) return device.gpu.name;
  return device.kind === 'cpu' ? 'cpu' : `${device.provider} gpu`;
}
