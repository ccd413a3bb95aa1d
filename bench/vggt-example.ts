/**
 * The worked example in docs/memory-profiles.md: the VGGT memory table (H100, bf16, GB by frames) fitted
 * into a profile, and what scene size each common card gets. Run: node dist/bench/vggt-example.js
 */
import type { MemoryProfile } from '#contracts';
import { fitEnvelope, fitsWhole, formatGb, measuredMargin, predictBytes, tierFor, withMargin } from '#scheduling';

const TABLE: [number, number][] = [[1, 1.88], [2, 2.07], [4, 2.45], [8, 3.23], [10, 3.63], [20, 5.58], [50, 11.41], [100, 21.15], [200, 40.63]];
const points = TABLE.map(([batch, gb]) => ({ batch, peakBytes: gb * 1e9 }));
const fit = fitEnvelope(points);
// As a calibration would: the margin is the worst leave-one-out miss, at least the worker's default 4 %.
const margin = measuredMargin(points, 0.04).marginFraction;
const profile: MemoryProfile = {
  model: 'vggt', precision: 'bf16', provider: 'cuda', device: 'NVIDIA H100 80GB HBM3', fixedBytes: fit.fixedBytes, perItemBytes: fit.perItemBytes,
  referencePixels: 518 * 518, marginFraction: margin, source: 'calibrated', points, r2: fit.r2, updatedAt: '2026-11-25T00:00:00Z',
};
console.log(`fit: ${formatGb(fit.fixedBytes)} + ${formatGb(fit.perItemBytes)} per frame; r² ${fit.r2.toFixed(5)}; envelope raise ${formatGb(fit.raisedBytes)}; worst over-prediction ${(100 * fit.maxOverPrediction).toFixed(1)} %; measured margin ${(100 * margin).toFixed(1)} %`);
console.log(`| frames | measured | profile | with ${(100 * margin).toFixed(1)} % margin | tier |`);
console.log('|---|---|---|---|---|');
for (const [n, gb] of TABLE) {
  const p = predictBytes(profile, n);
  console.log(`| ${n} | ${gb.toFixed(2)} GB | ${formatGb(p)} | ${formatGb(withMargin(p, margin))} | ${tierFor(withMargin(p, margin)) ?? 'none'} GB |`);
}
const cards: [string, number][] = [['Tesla T4 (16 GB, 15360 MiB)', 15360], ['A10 / RTX 4090 / L4 (24 GB)', 23028], ['A100 40 GB', 40960], ['A100 80 GB / H100 80 GB', 81559]];
console.log('\n| card | largest scene in one pass (frames) |');
console.log('|---|---|');
for (const [name, mib] of cards) {
  let n = 0;
  while (fitsWhole(profile, n + 1, mib * 2 ** 20).fits) n++;
  console.log(`| ${name} | ${n} |`);
}
