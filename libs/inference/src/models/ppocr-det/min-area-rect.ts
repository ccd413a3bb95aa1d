/** A point as [x, y]. */
export type Point = [number, number];

/** A rotated rectangle: its centre, the unit vector along its `width` side, and its corners. */
export interface RotatedRect {
  center: Point;
  /** Unit vector along the `width` side; the `height` side runs along its normal. */
  u: Point;
  width: number;
  height: number;
  shortSide: number;
  /** Corners clockwise from top-left (see {@link orderCorners}). */
  corners: [Point, Point, Point, Point];
}

/**
 * Convex hull of points given as a flat [x0, y0, x1, y1, …] array already sorted by (y, x)
 * (monotone chain; any lexicographic order works). Collinear points are dropped.
 */
export function convexHull(sorted: ArrayLike<number>, count: number): Point[] {
  if (count <= 1) return count === 1 ? [[sorted[0]!, sorted[1]!]] : [];
  const hull: Point[] = [];
  const turnsLeft = (x: number, y: number) => {
    const o = hull[hull.length - 2]!;
    const a = hull[hull.length - 1]!;
    return (a[0] - o[0]) * (y - o[1]) - (a[1] - o[1]) * (x - o[0]) > 0;
  };
  // Lower chain forwards, then upper chain backwards; `floor` keeps the upper chain off the lower one.
  let floor = 2;
  const visit = (i: number) => {
    const x = sorted[2 * i]!;
    const y = sorted[2 * i + 1]!;
    while (hull.length >= floor && !turnsLeft(x, y)) hull.pop();
    hull.push([x, y]);
  };
  for (let i = 0; i < count; i++) visit(i);
  floor = hull.length + 1;
  for (let i = count - 2; i >= 0; i--) visit(i);
  // The last point pushed is the first point again.
  hull.pop();
  return hull;
}

/**
 * Minimum-area enclosing rectangle of a convex polygon (rotating calipers: the optimum has a side
 * on a hull edge, so every edge direction is tried). Returns undefined for fewer than 3 hull points,
 * which enclose no area.
 */
export function minAreaRect(hull: readonly Point[]): RotatedRect | undefined {
  if (hull.length < 3) return undefined;
  let best: { area: number; u: Point; minU: number; maxU: number; minV: number; maxV: number } | undefined;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % hull.length]!;
    const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (length === 0) continue;
    const u: Point = [(b[0] - a[0]) / length, (b[1] - a[1]) / length];
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of hull) {
      const pu = p[0] * u[0] + p[1] * u[1];
      const pv = -p[0] * u[1] + p[1] * u[0];
      if (pu < minU) minU = pu;
      if (pu > maxU) maxU = pu;
      if (pv < minV) minV = pv;
      if (pv > maxV) maxV = pv;
    }
    const area = (maxU - minU) * (maxV - minV);
    // A small tolerance keeps the first (axis-aligned, for row-scanned blobs) of equal candidates.
    if (!best || area < best.area - 1e-9) best = { area, u, minU, maxU, minV, maxV };
  }
  if (!best) return undefined;
  const { u, minU, maxU, minV, maxV } = best;
  const cu = (minU + maxU) / 2;
  const cv = (minV + maxV) / 2;
  // v = (−u.y, u.x); back from (u, v) coordinates to (x, y).
  const center: Point = [cu * u[0] - cv * u[1], cu * u[1] + cv * u[0]];
  return rectFromAxes(center, u, maxU - minU, maxV - minV);
}

/** Grows a rotated rectangle by `distance` on every side. */
export function expandRect(rect: RotatedRect, distance: number): RotatedRect {
  return rectFromAxes(rect.center, rect.u, rect.width + 2 * distance, rect.height + 2 * distance);
}

/**
 * Orders four corners as PaddleOCR's `get_mini_boxes` does: the two leftmost become top-left and
 * bottom-left by y, the two rightmost top-right and bottom-right; result is clockwise on screen.
 */
export function orderCorners(points: readonly Point[]): [Point, Point, Point, Point] {
  const byX = [...points].sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  const [l0, l1, r0, r1] = byX as [Point, Point, Point, Point];
  const [topLeft, bottomLeft] = l1[1] < l0[1] ? [l1, l0] : [l0, l1];
  const [topRight, bottomRight] = r1[1] < r0[1] ? [r1, r0] : [r0, r1];
  return [topLeft, topRight, bottomRight, bottomLeft];
}

function rectFromAxes(center: Point, u: Point, width: number, height: number): RotatedRect {
  const v: Point = [-u[1], u[0]];
  const hu = width / 2;
  const hv = height / 2;
  const corner = (su: number, sv: number): Point => [
    center[0] + su * hu * u[0] + sv * hv * v[0],
    center[1] + su * hu * u[1] + sv * hv * v[1],
  ];
  return {
    center,
    u,
    width,
    height,
    shortSide: Math.min(width, height),
    corners: orderCorners([corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1)]),
  };
}
