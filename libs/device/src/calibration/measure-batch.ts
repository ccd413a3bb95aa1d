import type { ProfilePoint } from '#contracts';
import type { DeviceMemory } from '../memory/device-memory.js';

/** A session of its own for one size: what it runs, its memory as that session sees it, and its end. */
export interface FreshSession {
  runBatch: (n: number) => Promise<void>;
  memory: DeviceMemory;
  release: () => Promise<void>;
}

/** What a size is measured with: one session for all sizes, or (where memory keeps what a run grew) a new one per size. */
export interface SizeMeasurer {
  runBatch: (n: number) => Promise<void>;
  memory: DeviceMemory;
  freshSession?: () => Promise<FreshSession>;
}

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

/**
 * One size on a session of its own (`freshSession`), released after: every run of it, warm-ups included, falls in
 * the tracked window, so its peak is all that a new session grows to at this size. Where memory a run grew stays
 * held (the CUDA provider's arena, which grows in doubling regions), that is what a worker's session running this
 * size holds, whatever ran before it elsewhere; in one shared session a size's reading depends on the sizes before
 * it (on the H200: 384 MiB for 2 to 12 pages in one sweep, 0.61 GB for a fresh worker's first 3).
 */
export async function measureFresh(open: () => Promise<FreshSession>, n: number, repeats: number, warmups = 1): Promise<ProfilePoint> {
  const session = await open();
  try {
    const times: number[] = [];
    const timed = async () => {
      const started = performance.now();
      await session.runBatch(n);
      times.push(performance.now() - started);
    };
    const { peakBytes } = await session.memory.track(async () => {
      for (let i = 0; i < warmups; i++) await session.runBatch(n);
      await timed();
    });
    for (let i = 0; i < repeats; i++) await timed();
    return { batch: n, peakBytes, ms: median(times) };
  } finally {
    await session.release();
  }
}

/** A size measured the way `m` calls for: on a fresh session when it has one, else on the shared one. */
export function measureSize(m: SizeMeasurer, n: number, repeats: number, warmups = 1): Promise<ProfilePoint> {
  return m.freshSession ? measureFresh(m.freshSession, n, repeats, warmups) : measureBatch(m.runBatch, m.memory, n, repeats, warmups);
}
