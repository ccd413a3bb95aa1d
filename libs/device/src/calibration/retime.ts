import type { ProfilePoint } from '#contracts';
import { classifyError, type EnvelopeFit } from '#scheduling';
import { withinBudget } from './budget.js';
import type { CalibrationInput } from './calibrate.js';
import { measureSize, median } from './measure-batch.js';

/** A re-timed size and its median images/s. */
export interface RetimedSize {
  batch: number;
  imagesPerSecond: number;
}

/**
 * Times sizes side by side: each round runs every size in a block (one untimed run, then `perBlock` timed runs),
 * so drift hits all sizes alike; returns every timed run's milliseconds per size.
 * Blocks, not single interleaved runs: under WebGPU's lazyRelease a run's time depends on the size run before it
 * (it seems to pay for freeing that run's buffers): on the H100 a batch of 12,288 timed right after much larger
 * ones took 228 ms, against 17 ms when repeated, and repeated is how a worker runs a job.
 */
export async function sideBySideSamples(runBatch: (n: number) => Promise<void>, sizes: readonly number[], rounds: number, perBlock: number): Promise<Map<number, number[]>> {
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
  return times;
}

/** sideBySideSamples, reduced to the median milliseconds of each size. */
export async function timeSideBySide(runBatch: (n: number) => Promise<void>, sizes: readonly number[], rounds: number, perBlock: number): Promise<Map<number, number>> {
  const times = await sideBySideSamples(runBatch, sizes, rounds, perBlock);
  return new Map([...times].map(([n, xs]) => [n, median(xs)]));
}

/**
 * Which of the sweep's sizes are re-timed: every size within RETIME_BAND of the sweep's best rate (the sweep's
 * noise: on the H100 one size's sweep figure and its re-timed median differed by up to 30 %), at most RETIME_MAX
 * of them by rate and never fewer than the RETIME_MIN fastest; in RETIME_ROUNDS rounds of blocks of
 * RETIME_PER_BLOCK timed runs.
 */
const RETIME_BAND = 0.85;
const RETIME_MIN = 3;
const RETIME_MAX = 5;
const RETIME_ROUNDS = 2;
const RETIME_PER_BLOCK = 3;

/** At most this many sizes that beat the re-timed ones on their sweep time alone are re-timed against them. */
const RETIME_CHALLENGERS = 3;
/**
 * Refinement: sizes halfway between each of the two fastest settled sizes and its measured neighbours, while
 * neighbours are at least REFINE_MIN_STEP apart, for at most REFINE_STEPS steps, and no step starts after
 * refinement took REFINE_SHARE of the sweep's time (cheap models get a dense search, one whose runs take
 * seconds a single step).
 */
const REFINE_MIN_STEP = 1.2;
const REFINE_STEPS = 4;
const REFINE_SHARE = 0.5;
/** Sizes measured after larger ones get a second untimed run first, to let the larger one's buffers go. */
const OUT_OF_ORDER_WARMUPS = 2;

/**
 * Settles which size is fastest. One timing per size in the sweep is noisy and the grid is coarse (1.5× steps),
 * so, in three stages, each re-timing sizes side by side (timeSideBySide; a settled size's `ms` is its median):
 *  1. the sweep's fastest sizes (see RETIME_BAND) and the sizes halfway to the fastest one's neighbours;
 *  2. challengers: the fastest of a noisy sweep are partly its lucky draws, so their settled times are often
 *     slower than the sweep said, and a size left with its sweep time could then win by its own luck alone
 *     (on the H100 a sweep chose 6 pages that way: 14.5 img/s in the sweep, 11.1 side by side against 12.2 at 20). While a size
 *     not yet settled has the best rate, it is re-timed with the best settled one;
 *  3. refinement around the two best settled sizes (see REFINE_*): throughput is not smooth in the batch size
 *     (the synthetic model in fp32 on the H100: 7,168 items ran 16 % faster than 5,120 and 6,144, and 8,192 at a
 *     fifth of the rate), so the best is searched for between measured sizes, not only at them.
 * New sizes are measured (memory included) and added to `points`; ones that the sweep's `fit` says would not fit
 * the budget, or above the cap, are skipped. The size chosen on an empty card is always a settled one.
 */
export async function retime(input: CalibrationInput, points: ProfilePoint[], fit: EnvelopeFit, oomAt: number | undefined, sweepMs = Infinity): Promise<RetimedSize[]> {
  const rate = (p: ProfilePoint) => p.batch / p.ms!;
  const pointAt = (n: number) => points.find((p) => p.batch === n);
  const limit = Math.min(input.maxBatch, oomAt !== undefined ? oomAt - 1 : Infinity);
  const fits = (n: number) => n <= limit && withinBudget(fit, n, input);
  /** Sizes halfway between `n` and its measured neighbours, not yet measured, that fit. */
  const halfwayAround = (n: number, minStep = 1) => {
    const grid = points.map((p) => p.batch).sort((a, b) => a - b);
    const at = grid.indexOf(n);
    return [grid[at - 1], grid[at + 1]]
      .filter((m): m is number => m !== undefined && Math.max(m, n) / Math.min(m, n) >= minStep)
      .map((m) => Math.round((m + n) / 2))
      .filter((m) => !grid.includes(m) && fits(m));
  };
  const measureNew = async (sizes: number[]) => {
    for (const n of sizes) {
      try {
        const point = await measureSize(input, n, 1, OUT_OF_ORDER_WARMUPS);
        // Measured after larger sizes on a shared session that keeps what it grew (CUDA's arena): its peak is theirs.
        points.push(input.memory.keepsGrowth && !input.freshSession ? { ...point, timedOnly: true } : point);
      } catch (err) {
        if (classifyError(err).kind !== 'oom') throw err;
      }
    }
    return sizes.filter((n) => pointAt(n));
  };
  const settled = new Set<number>();
  const settle = async (sizes: number[]) => {
    const medians = await timeSideBySide(input.runBatch, sizes, RETIME_ROUNDS, RETIME_PER_BLOCK);
    for (const [n, ms] of medians) {
      pointAt(n)!.ms = ms;
      settled.add(n);
    }
  };
  const bestOf = (ps: ProfilePoint[]) => ps.reduce((a, b) => (rate(b) > rate(a) ? b : a));
  const bySettledRate = () => points.filter((p) => settled.has(p.batch)).sort((a, b) => rate(b) - rate(a));

  const byRate = [...points].sort((a, b) => rate(b) - rate(a));
  const halfway = await measureNew(halfwayAround(byRate[0]!.batch));
  const inBand = byRate.filter((p, i) => i < RETIME_MIN || rate(p) >= RETIME_BAND * rate(byRate[0]!)).slice(0, RETIME_MAX);
  const contenders = [...new Set([...inBand.map((p) => p.batch), ...halfway])];
  if (contenders.length < 2) return [];
  try {
    await settle(contenders);
    for (let i = 0; i < RETIME_CHALLENGERS; i++) {
      const best = bestOf(points);
      if (settled.has(best.batch)) break;
      await settle([bySettledRate()[0]!.batch, best.batch]);
    }
    const refining = performance.now();
    for (let i = 0; i < REFINE_STEPS && performance.now() - refining < REFINE_SHARE * sweepMs; i++) {
      const top = bySettledRate().slice(0, 2).map((p) => p.batch);
      const fresh = await measureNew([...new Set(top.flatMap((n) => halfwayAround(n, REFINE_MIN_STEP)))]);
      if (fresh.length === 0) break;
      await settle([top[0]!, ...fresh]);
    }
  } catch (err) {
    // Every contender already ran once: an OOM now means another process took memory. Keep the times so far.
    if (classifyError(err).kind !== 'oom') throw err;
  }
  return [...settled].map((n) => ({ batch: n, imagesPerSecond: (n * 1000) / pointAt(n)!.ms! }));
}
