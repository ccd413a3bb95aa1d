import type { ProfilePoint } from '#contracts';
import { classifyError, predictBytes, withMargin, type EnvelopeFit } from '#scheduling';
import type { CalibrationInput } from './calibrate.js';
import { measureBatch } from './measure-batch.js';

/** A re-timed size and its median images/s. */
export interface RetimedSize {
  batch: number;
  imagesPerSecond: number;
}

/**
 * Times sizes side by side: each round runs every size in a block (one untimed run, then `perBlock` timed runs),
 * so drift hits all sizes alike; returns the median milliseconds of each size's timed runs across rounds.
 * Blocks, not single interleaved runs: under WebGPU's lazyRelease a run's time depends on the size run before it
 * (it seems to pay for freeing that run's buffers): on the H100 a batch of 12,288 timed right after much larger
 * ones took 228 ms, against 17 ms when repeated, and repeated is how a worker runs a job.
 */
export async function timeSideBySide(runBatch: (n: number) => Promise<void>, sizes: readonly number[], rounds: number, perBlock: number): Promise<Map<number, number>> {
  const times = new Map<number, number[]>(sizes.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    for (const n of sizes) {
      await runBatch(n);
      for (let i = 0; i < perBlock; i++) {
        const started = performance.now();
        await runBatch(n);
        times.get(n)!.push(performance.now() - started);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  return new Map(sizes.map((n) => [n, median(times.get(n)!)]));
}

/** How many of the sweep's fastest sizes are re-timed, and in how many rounds of blocks. */
const RETIME_TOP = 3;
const RETIME_ROUNDS = 2;
const RETIME_PER_BLOCK = 3;

/**
 * Settles which size is fastest. One timing per size in the sweep is noisy (on the H100 a size's sweep figure
 * and its re-timed median differed by up to 30 %) and the grid is coarse (1.5× steps), so: the sweep's three
 * fastest sizes, plus the sizes halfway to the fastest one's neighbours (measured now, memory included, and
 * added to `points`), are re-timed side by side (timeSideBySide) and each point's `ms` becomes its median.
 * Halfway sizes that the sweep's `fit` says would not fit the budget, or above the cap, are skipped.
 */
export async function retime(input: CalibrationInput, points: ProfilePoint[], fit: EnvelopeFit, oomAt: number | undefined): Promise<RetimedSize[]> {
  const rate = (p: ProfilePoint) => p.batch / p.ms!;
  const byRate = [...points].sort((a, b) => rate(b) - rate(a));
  const fastest = byRate[0]!;
  const grid = points.map((p) => p.batch).sort((a, b) => a - b);
  const at = grid.indexOf(fastest.batch);
  const limit = Math.min(input.maxBatch, oomAt !== undefined ? oomAt - 1 : Infinity);
  const halfway = [grid[at - 1], grid[at + 1]]
    .filter((n): n is number => n !== undefined)
    .map((n) => Math.round((n + fastest.batch) / 2))
    .filter((n) => !grid.includes(n) && n <= limit)
    .filter((n) => withMargin(predictBytes({ ...fit, referencePixels: input.referencePixels }, n), input.minMarginFraction) <= input.budgetBytes);
  for (const n of halfway) {
    try {
      points.push(await measureBatch(input.runBatch, input.memory, n, 1));
    } catch (err) {
      if (classifyError(err).kind !== 'oom') throw err;
    }
  }
  const contenders = [...new Set([...byRate.slice(0, RETIME_TOP).map((p) => p.batch), ...halfway])].filter((n) => points.some((p) => p.batch === n));
  if (contenders.length < 2) return [];
  let medians: Map<number, number>;
  try {
    medians = await timeSideBySide(input.runBatch, contenders, RETIME_ROUNDS, RETIME_PER_BLOCK);
  } catch (err) {
    // Every contender already ran once: an OOM now means another process took memory. Keep the sweep's times.
    if (classifyError(err).kind !== 'oom') throw err;
    return [];
  }
  for (const p of points) p.ms = medians.get(p.batch) ?? p.ms;
  return contenders.map((n) => ({ batch: n, imagesPerSecond: (n * 1000) / points.find((p) => p.batch === n)!.ms! }));
}
