/** One decimal gigabyte: GPUs are sold (and tiers are named) in decimal GB. */
export const GB = 1e9;

/** One mebibyte: what `nvidia-smi` reports memory in. */
export const MIB = 1024 * 1024;

/**
 * Formats bytes as decimal GB with two decimals, e.g. `21.20 GB`.
 * Every refusal and decision message uses it so numbers read the same everywhere.
 */
export function formatGb(bytes: number): string {
  if (!Number.isFinite(bytes)) return `${bytes} GB`;
  return `${(bytes / GB).toFixed(2)} GB`;
}
