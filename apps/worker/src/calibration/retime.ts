import type { ProfilePoint } from '#contracts';
import { classifyError, fitEnvelope, predictBytes, withMargin } from '#scheduling';
import type { CalibrationInput } from './calibrate.js';
import { measureBatch } from './measure-batch.js';

/** A re-timed size and its median images/s. */
export interface RetimedSize {
  batch: number;
  imagesPerSecond: number;
}

/** How many of the sweep's fastest sizes are re-timed, and in how many rounds of blocks. */
const RETIME_TOP = 3;
const RETIME_ROUNDS = 2;
const RETIME_PER_BLOCK = 3;

/**
 * Settles which size is fastest. One timing per size in the sweep is noisy (on the H100 a size's sweep figure
 * and its re-timed median differed by up to 30 %) and the grid is coarse (1.5× steps), so: the sweep's three
 * fastest sizes, plus the sizes halfway to the fastest one's neighbours (measured now, memory included, and
 * added to `points`), are re-timed side by side in rounds of blocks (one untimed run, then timed ones: a run can
 * pay for the previous size's buffers), and each point's `ms` becomes the median of its times. Halfway sizes
 * that would not fit the budget or the cap are skipped.
 */
export async function retime(input: CalibrationInput, points: ProfilePoint[], oomAt: number | undefined): Promise<RetimedSize[]> {
  const rate = (p: ProfilePoint) => p.batch / p.ms!;
  const byRate = [...points].sort((a, b) => rate(b) - rate(a));
  const fastest = byRate[0]!;
  const grid = points.map((p) => p.batch).sort((a, b) => a - b);
  const at = grid.indexOf(fastest.batch);
  const limit = Math.min(input.maxBatch, oomAt !== undefined ? oomAt - 1 : Infinity);
  const fit = fitEnvelope(points);
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
  const times = new Map<number, number[]>(contenders.map((n) => [n, []]));
  try {
    for (let round = 0; round < RETIME_ROUNDS; round++) {
      for (const n of contenders) {
        await input.runBatch(n);
        for (let i = 0; i < RETIME_PER_BLOCK; i++) {
          const started = performance.now();
          await input.runBatch(n);
          times.get(n)!.push(performance.now() - started);
        }
      }
    }
  } catch (err) {
    // Every contender already ran once: an OOM now means another process took memory. Keep the sweep's times.
    if (classifyError(err).kind !== 'oom') throw err;
    return [];
  }
  for (const p of points) {
    const t = times.get(p.batch);
    if (t) p.ms = [...t].sort((a, b) => a - b)[Math.floor((t.length - 1) / 2)]!;
  }
  return contenders.map((n) => ({ batch: n, imagesPerSecond: (n * 1000) / points.find((p) => p.batch === n)!.ms! }));
}
