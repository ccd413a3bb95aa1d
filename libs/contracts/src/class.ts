import type { DeviceKind } from './capability.js';
import type { Precision } from './precision.js';

/**
 * A capability class is one BullMQ queue: BullMQ cannot route inside a queue, so every distinct need
 * (device kind × precision × VRAM tier) is its own queue, and autoscalers get one depth per node pool.
 */
export interface CapabilityClass {
  device: DeviceKind;
  precision: Precision;
  /** Minimum device memory of the tier in GB (decimal, as cards are sold); absent for CPU. */
  tierGb?: number;
}

/** VRAM tiers in GB, as cards are sold. A card serves every tier whose size it reaches (with 5% slack, see scheduling). */
export const VRAM_TIERS_GB = [8, 16, 24, 40, 80, 141] as const;
