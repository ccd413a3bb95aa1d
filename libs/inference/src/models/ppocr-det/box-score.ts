import type { Point } from './min-area-rect.js';

/**
 * Mean probability over the map pixels inside a convex quadrilateral (boundary included), like
 * PaddleOCR's `box_score_fast`: scoring the box rather than the exact blob is cheaper and penalises
 * boxes that enclose much background.
 */
export function meanInsideQuad(prob: Float32Array, width: number, height: number, quad: readonly Point[]): number {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  const xmin = clamp(Math.floor(Math.min(...xs)), 0, width - 1);
  const xmax = clamp(Math.ceil(Math.max(...xs)), 0, width - 1);
  const ymin = clamp(Math.floor(Math.min(...ys)), 0, height - 1);
  const ymax = clamp(Math.ceil(Math.max(...ys)), 0, height - 1);

  // Edge functions a·x + b·y + c ≥ 0 inside; orientation is normalised so the sign test works for
  // either winding. The tolerance keeps pixels lying exactly on an edge.
  const edges = quad.map((p, i) => {
    const q = quad[(i + 1) % quad.length]!;
    const a = -(q[1] - p[1]);
    const b = q[0] - p[0];
    return { a, b, c: -a * p[0] - b * p[1], floor: -1e-6 * Math.hypot(a, b) };
  });
  const cx = xs.reduce((s, v) => s + v, 0) / xs.length;
  const cy = ys.reduce((s, v) => s + v, 0) / ys.length;
  const sign = edges.reduce((s, e) => s + (e.a * cx + e.b * cy + e.c), 0) >= 0 ? 1 : -1;

  // Per row, each edge bounds x from one side; the pixels between the bounds are summed directly,
  // so the cost is the pixels inside plus four divisions a row.
  let sum = 0;
  let count = 0;
  for (let y = ymin; y <= ymax; y++) {
    let lo = xmin;
    let hi = xmax;
    for (const e of edges) {
      const a = sign * e.a;
      const rest = sign * (e.b * y + e.c) - e.floor;
      // a·x + rest ≥ 0
      if (a > 0) lo = Math.max(lo, Math.ceil(-rest / a));
      else if (a < 0) hi = Math.min(hi, Math.floor(-rest / a));
      else if (rest < 0) hi = lo - 1;
    }
    const row = y * width;
    for (let x = lo; x <= hi; x++) sum += prob[row + x]!;
    if (hi >= lo) count += hi - lo + 1;
  }
  return count === 0 ? 0 : sum / count;
}

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value;
}
