import type { ProfilePoint } from '#contracts';
import type { DeviceMemory } from '../memory/device-memory.js';

/**
 * One size, measured: a first run (compiles kernels, grows pools; not timed), one run with memory sampled for
 * the peak, then `repeats` timed runs without sampling; the fastest time counts. Timing and sampling are kept
 * apart because each sample starts an nvidia-smi process, which competes with the run for the driver and the
 * CPU; the time that picks the batch size should be the batch's alone.
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
