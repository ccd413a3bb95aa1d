import { BF16_MIN_COMPUTE_CAPABILITY, PRECISIONS, VRAM_TIERS_GB } from '#contracts';
import type { CapabilityClass, DeviceCapability, DeviceKind, Precision } from '#contracts';
import { GB } from './units.js';

/**
 * Cards report less than their sold size (a "16 GB" T4 reports 15360 MiB = 16.1e9 bytes, but some
 * "24 GB" cards report a little under 24e9 once the driver reserves its share), so a card reaches a
 * tier when it has at least 95% of the tier's nominal size.
 */
export const TIER_SLACK = 0.95;

const CLASS_PATTERN = /^(gpu|cpu)-(bf16|fp16|fp32)(?:-(\d+)g)?$/;

/** Bytes a card must have to reach (and a job may need at most to be routed to) tier `tierGb`. */
export function tierThresholdBytes(tierGb: number): number {
  return tierGb * GB * TIER_SLACK;
}

/**
 * The queue name of a capability class: `gpu-bf16-80g`, `gpu-fp16-16g`, `cpu-fp32`.
 * CPU classes have no tier: a CPU's memory budget is a configuration, not a node pool.
 */
export function className(c: CapabilityClass): string {
  if (c.device === 'cpu') return `cpu-${c.precision}`;
  if (c.tierGb === undefined) throw new Error(`gpu class in ${c.precision} needs a VRAM tier`);
  return `gpu-${c.precision}-${c.tierGb}g`;
}

/** Parses a class name made by {@link className}; throws on anything else (unknown queues are refused, not guessed). */
export function parseClassName(name: string): CapabilityClass {
  const match = CLASS_PATTERN.exec(name);
  if (!match) throw new Error(`unknown capability class "${name}" (expected gpu-<precision>-<tier>g or cpu-<precision>)`);
  const device = match[1] as DeviceKind;
  const precision = match[2] as Precision;
  if (device === 'cpu') {
    if (match[3] !== undefined) throw new Error(`unknown capability class "${name}": cpu classes have no tier`);
    return { device, precision };
  }
  if (match[3] === undefined) throw new Error(`unknown capability class "${name}": gpu classes need a tier`);
  const tierGb = Number(match[3]);
  if (!(VRAM_TIERS_GB as readonly number[]).includes(tierGb)) {
    throw new Error(`unknown capability class "${name}": ${tierGb} GB is not one of the tiers ${VRAM_TIERS_GB.join(', ')}`);
  }
  return { device, precision, tierGb };
}

/** The largest VRAM tier a card of `totalBytes` reaches, or undefined below the smallest tier. */
export function tierOf(totalBytes: number): number | undefined {
  let reached: number | undefined;
  for (const tier of VRAM_TIERS_GB) if (totalBytes >= tierThresholdBytes(tier)) reached = tier;
  return reached;
}

/** The smallest VRAM tier whose cards are sure to hold `bytesNeeded`, or undefined when even the largest is too small. */
export function tierFor(bytesNeeded: number): number | undefined {
  return VRAM_TIERS_GB.find((tier) => tierThresholdBytes(tier) >= bytesNeeded);
}

/** Whether a device can run `precision` at all: proven by its self-test and, for bf16 on a GPU, supported in hardware. */
export function servesPrecision(device: DeviceCapability, precision: Precision): boolean {
  if (!device.provenPrecisions.includes(precision)) return false;
  if (precision === 'bf16' && device.kind === 'gpu') {
    // A provider may emulate bf16 on older cards and pass a self-test; the class promises hardware bf16.
    return (device.gpu?.computeCapability ?? 0) >= BF16_MIN_COMPUTE_CAPABILITY;
  }
  return true;
}

/**
 * The classes (queues) a device serves, most specific first: precisions in the order bf16, fp16, fp32
 * (an H100 takes bf16 work before it helps with fp16), and within a precision the largest tier first
 * (work only big cards can do comes before work any card can do).
 */
export function classesServedBy(device: DeviceCapability): string[] {
  const precisions = PRECISIONS.filter((p) => servesPrecision(device, p));
  if (device.kind === 'cpu') return precisions.map((precision) => className({ device: 'cpu', precision }));
  const ownTier = tierOf(device.totalBytes);
  if (ownTier === undefined) return [];
  const tiers = VRAM_TIERS_GB.filter((t) => t <= ownTier).reverse();
  return precisions.flatMap((precision) => tiers.map((tierGb) => className({ device: 'gpu', precision, tierGb })));
}

/** Classes of the same device and precision with strictly larger tiers, ascending: where a job goes after an OOM. */
export function largerClasses(name: string): string[] {
  const c = parseClassName(name);
  if (c.device === 'cpu' || c.tierGb === undefined) return [];
  const from = c.tierGb;
  return VRAM_TIERS_GB.filter((t) => t > from).map((tierGb) => className({ device: 'gpu', precision: c.precision, tierGb }));
}
