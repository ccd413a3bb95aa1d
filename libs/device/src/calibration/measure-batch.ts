import type { ProfilePoint } from '#contracts';
import type { DeviceMemory } from '../memory/device-memory.js';

/** The median of a non-empty list (the lower middle for an even count). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
}

/**
 * One size, measured: `warmups` first runs (compile kernels, grow pools, let a larger size's buffers go; not
 * timed), one tracked run for the memory
 * peak, then `repeats` more runs; `ms` is the median time of the tracked run and those. The tracked run is timed
 * inside `track`, so the wait for the monitor's reading after it is not counted. The median, not the fastest:
 * `retime` settles the contenders by medians, and a size timed by its best run looked up to 30 % faster on the
 * H100 than one timed by its median (a sweep chose 6 pages on a best-of-two 14.5 img/s; side by side it ran 11.1
 * against 12.2 at 20). Every point is timed by the same statistic so they compare.
 */
export async function measureBatch(runBatch: (n: number) => Promise<void>, memory: DeviceMemory, n: number, repeats: number, warmups = 1): Promise<ProfilePoint> {
  for (let i = 0; i < warmups; i++) await runBatch(n);
  const times: number[] = [];
  const timed = async () => {
    const started = performance.now();
    await runBatch(n);
    times.push(performance.now() - started);
  };
  const { peakBytes } = await memory.track(timed);
  for (let i = 0; i < repeats; i++) await timed();
  return { batch: n, peakBytes, ms: median(times) };
}
