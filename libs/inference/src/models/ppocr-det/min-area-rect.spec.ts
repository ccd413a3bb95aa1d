import { describe, expect, it } from 'vitest';
import { convexHull, expandRect, minAreaRect, orderCorners, type Point } from './min-area-rect.js';

/** Points flattened and sorted by (y, x), as the component outline provides them. */
function flat(points: Point[]): number[] {
  return [...points].sort((a, b) => a[1] - b[1] || a[0] - b[0]).flat();
}

describe('convexHull', () => {
  it('keeps the corners and drops interior and collinear points', () => {
    const points: Point[] = [
      [0, 0], [5, 0], [10, 0],
      [0, 5], [5, 5], [10, 5],
      [0, 10], [5, 10], [10, 10],
    ];
    const hull = convexHull(flat(points), points.length);
    expect(hull).toHaveLength(4);
    expect(new Set(hull.map((p) => p.join(',')))).toEqual(new Set(['0,0', '10,0', '10,10', '0,10']));
  });

  it.each([
    { name: 'no points', points: [] as Point[], size: 0 },
    { name: 'one point', points: [[3, 4]] as Point[], size: 1 },
    { name: 'two points', points: [[0, 0], [4, 0]] as Point[], size: 2 },
  ])('handles $name', ({ points, size }) => {
    expect(convexHull(flat(points), points.length)).toHaveLength(size);
  });
});

describe('minAreaRect', () => {
  it('fits an axis-aligned rectangle exactly', () => {
    const rect = minAreaRect(convexHull(flat([[2, 3], [12, 3], [12, 7], [2, 7]]), 4))!;
    expect(rect.width * rect.height).toBeCloseTo(40, 9);
    expect(rect.shortSide).toBeCloseTo(4, 9);
    expect(rect.corners.map((p) => p.map((v) => Math.round(v)))).toEqual([[2, 3], [12, 3], [12, 7], [2, 7]]);
  });

  it('finds the rotation of a tilted rectangle', () => {
    const angle = Math.PI / 6;
    const corner = (u: number, v: number): Point => [u * Math.cos(angle) - v * Math.sin(angle), u * Math.sin(angle) + v * Math.cos(angle)];
    const points = [corner(0, 0), corner(20, 0), corner(20, 5), corner(0, 5), corner(10, 2)];
    const rect = minAreaRect(convexHull(flat(points), points.length))!;
    expect(rect.width * rect.height).toBeCloseTo(100, 6);
    expect(rect.shortSide).toBeCloseTo(5, 6);
  });

  it('gives nothing for a degenerate hull', () => {
    expect(minAreaRect([[0, 0], [5, 0]])).toBeUndefined();
  });

  it('expands every side by the distance', () => {
    const rect = expandRect(minAreaRect([[0, 0], [10, 0], [10, 4], [0, 4]])!, 2);
    expect(rect.corners.map((p) => p.map((v) => Math.round(v)))).toEqual([[-2, -2], [12, -2], [12, 6], [-2, 6]]);
  });
});

describe('orderCorners', () => {
  it('orders any permutation clockwise from top-left', () => {
    expect(orderCorners([[10, 10], [0, 0], [0, 10], [10, 0]])).toEqual([[0, 0], [10, 0], [10, 10], [0, 10]]);
  });
});
