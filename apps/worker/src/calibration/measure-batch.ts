import type { ProfilePoint } from '#contracts';
import type { DeviceMemory } from '../memory/device-memory.js';

/**
 * One size, measured: a first run (compiles kernels, grows pools; not timed), one tracked run for the memory
 * peak, then `repeats` timed runs; the fastest time counts. The tracked run is not timed: tracking waits for
 * the monitor's next reading after the run (up to its interval), which is not the batch's time. (The GPU
 * monitor, one nvidia-smi reading every 50 ms, runs through the timed runs too, alike for every size.)
 */
export async function measureBatch(runBatch: (n: number) => Promise<void>, memory: DeviceMemory, n: number, repeats: number): Promise<ProfilePoint> {
  await runBatch(n);
  const { peakBytes } = await memory.track(() => runBatch(n));
  let ms = Infinity;
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    await runBatch(n);
    ms = Math.min(ms, performance.now() - started);
  }
  return { batch: n, peakBytes, ms };
}
