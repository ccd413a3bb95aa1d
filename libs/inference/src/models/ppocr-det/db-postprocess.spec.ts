import { describe, expect, it } from 'vitest';
import { dbPostprocess, sliceMap } from './db-postprocess.js';
import { DEFAULT_DB_POSTPROCESS_OPTIONS } from './db-postprocess-options.js';
import type { LetterboxMeta } from './preprocess.js';

interface Blob {
  x: number;
  y: number;
  width: number;
  height: number;
  p: number;
}

function mapWith(S: number, blobs: Blob[]): Float32Array {
  const map = new Float32Array(S * S);
  for (const b of blobs) {
    for (let y = b.y; y < b.y + b.height; y++) map.fill(b.p, y * S + b.x, y * S + b.x + b.width);
  }
  return map;
}

const S = 320;
const identity: LetterboxMeta = { width: S, height: S, scale: 1 };

/** Where PaddleOCR's geometry puts a blob's box: pixel-centre rectangle grown by area × 1.5 / perimeter. */
function expectedBox(b: Blob, scale = 1) {
  const w = b.width - 1;
  const h = b.height - 1;
  const d = (w * h * DEFAULT_DB_POSTPROCESS_OPTIONS.unclipRatio) / (2 * (w + h));
  const x0 = Math.round((b.x - d) / scale);
  const y0 = Math.round((b.y - d) / scale);
  const x1 = Math.round((b.x + w + d) / scale);
  const y1 = Math.round((b.y + h + d) / scale);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

function expectBoxNear(actual: { x: number; y: number; width: number; height: number }, expected: typeof actual) {
  for (const key of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(actual[key] - expected[key])).toBeLessThanOrEqual(1);
}

describe('dbPostprocess', () => {
  it('turns one rectangular blob into one box around it, scored by its probability', () => {
    const blob = { x: 100, y: 50, width: 100, height: 20, p: 0.9 };
    const boxes = dbPostprocess(mapWith(S, [blob]), S, identity);

    expect(boxes).toHaveLength(1);
    const [box] = boxes;
    expect(box!.score).toBeCloseTo(0.9, 5);
    expectBoxNear(box!.box, expectedBox(blob));
    const { x, y, width, height } = box!.box;
    expect(box!.points).toEqual([
      [x, y],
      [x + width, y],
      [x + width, y + height],
      [x, y + height],
    ]);
  });

  it('finds separate blobs separately, in reading order', () => {
    const lower = { x: 40, y: 200, width: 150, height: 16, p: 0.8 };
    const upperRight = { x: 200, y: 40, width: 80, height: 16, p: 0.95 };
    const upperLeft = { x: 20, y: 42, width: 80, height: 16, p: 0.85 };
    const boxes = dbPostprocess(mapWith(S, [lower, upperRight, upperLeft]), S, identity);

    expect(boxes.map((b) => +b.score.toFixed(2))).toEqual([0.85, 0.95, 0.8]);
    expectBoxNear(boxes[0]!.box, expectedBox(upperLeft));
    expectBoxNear(boxes[1]!.box, expectedBox(upperRight));
    expectBoxNear(boxes[2]!.box, expectedBox(lower));
  });

  it.each([
    { name: 'a blob above thresh but below box_thresh', blob: { x: 50, y: 50, width: 100, height: 20, p: 0.5 } },
    { name: 'a confident blob thinner than min_size', blob: { x: 50, y: 50, width: 100, height: 2, p: 1 } },
    { name: 'a confident speck', blob: { x: 50, y: 50, width: 2, height: 2, p: 1 } },
    { name: 'a blob at or below thresh', blob: { x: 50, y: 50, width: 100, height: 20, p: 0.3 } },
  ])('drops $name', ({ blob }) => {
    expect(dbPostprocess(mapWith(S, [blob]), S, identity)).toEqual([]);
  });

  it('keeps confident boxes and drops weak ones in the same map', () => {
    const strong = { x: 10, y: 10, width: 60, height: 12, p: 0.7 };
    const weak = { x: 10, y: 100, width: 60, height: 12, p: 0.55 };
    const boxes = dbPostprocess(mapWith(S, [strong, weak]), S, identity);
    expect(boxes).toHaveLength(1);
    expect(boxes[0]!.score).toBeCloseTo(0.7, 5);
  });

  it('maps boxes back to original pixels and ignores the letterbox padding', () => {
    // A 2000×1000 image letterboxed into 320: scale 0.16, content rows 0..159, padding below.
    const meta: LetterboxMeta = { width: 2000, height: 1000, scale: 0.16 };
    const text = { x: 40, y: 60, width: 120, height: 10, p: 0.9 };
    const inPadding = { x: 40, y: 250, width: 120, height: 10, p: 0.9 };
    const boxes = dbPostprocess(mapWith(S, [text, inPadding]), S, meta);

    expect(boxes).toHaveLength(1);
    expectBoxNear(boxes[0]!.box, expectedBox(text, 0.16));
    expect(boxes[0]!.box.x).toBeGreaterThan(150);
    expect(boxes[0]!.box.width).toBeGreaterThan(750);
  });

  it('clips boxes to the image', () => {
    const atCorner = { x: 0, y: 0, width: 80, height: 12, p: 0.9 };
    const [box] = dbPostprocess(mapWith(S, [atCorner]), S, identity);
    expect(box!.box.x).toBe(0);
    expect(box!.box.y).toBe(0);
    for (const [x, y] of box!.points) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(y).toBeGreaterThanOrEqual(0);
    }
  });

  it('fits a rotated rectangle to a slanted line, corners clockwise from top-left', () => {
    const map = new Float32Array(S * S);
    const angle = (15 * Math.PI) / 180;
    const [cx, cy, halfLength, halfThickness] = [160, 160, 100, 8];
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const along = (x - cx) * Math.cos(angle) + (y - cy) * Math.sin(angle);
        const across = -(x - cx) * Math.sin(angle) + (y - cy) * Math.cos(angle);
        if (Math.abs(along) <= halfLength && Math.abs(across) <= halfThickness) map[y * S + x] = 0.9;
      }
    }
    const boxes = dbPostprocess(map, S, identity);

    expect(boxes).toHaveLength(1);
    const [tl, tr, br, bl] = boxes[0]!.points as [number, number][];
    const topAngle = (Math.atan2(tr![1] - tl![1], tr![0] - tl![0]) * 180) / Math.PI;
    expect(topAngle).toBeGreaterThan(13);
    expect(topAngle).toBeLessThan(17);
    // Clockwise on screen (y down): positive signed area in image coordinates.
    const corners = [tl!, tr!, br!, bl!];
    const signedArea = corners.reduce((s, p, i) => {
      const q = corners[(i + 1) % 4]!;
      return s + p[0] * q[1] - q[0] * p[1];
    }, 0);
    expect(signedArea).toBeGreaterThan(0);
    expect(boxes[0]!.score).toBeGreaterThan(0.8);
  });

  it('handles a map that is text everywhere without overflowing the stack', () => {
    const full = new Float32Array(960 * 960).fill(0.9);
    const boxes = dbPostprocess(full, 960, { width: 960, height: 960, scale: 1 });
    expect(boxes).toHaveLength(1);
    expect(boxes[0]!.box).toEqual({ x: 0, y: 0, width: 960, height: 960 });
  });

  it('post-processes a busy 960×960 map in a few milliseconds', () => {
    const blobs: Blob[] = [];
    for (let row = 0; row < 30; row++) {
      for (let col = 0; col < 4; col++) blobs.push({ x: 10 + col * 235, y: 10 + row * 31, width: 200, height: 14, p: 0.8 });
    }
    const map = mapWith(960, blobs);
    const meta = { width: 960, height: 960, scale: 1 };
    dbPostprocess(map, 960, meta); // warm up the JIT
    const runs = 10;
    const started = performance.now();
    for (let i = 0; i < runs; i++) expect(dbPostprocess(map, 960, meta)).toHaveLength(120);
    const perMap = (performance.now() - started) / runs;
    // Typically ~5 ms; generous so a loaded CI machine does not flake.
    expect(perMap).toBeLessThan(50);
  });

  it('rejects a map of the wrong size', () => {
    expect(() => dbPostprocess(new Float32Array(10), S, identity)).toThrow(RangeError);
  });
});

describe('sliceMap', () => {
  it('views one image of a batch output without copying', () => {
    const output = new Float32Array(3 * 4 * 4).map((_, i) => i);
    const second = sliceMap(output, 1, 4);
    expect(Array.from(second)).toEqual(Array.from({ length: 16 }, (_, i) => 16 + i));
    expect(second.buffer).toBe(output.buffer);
  });

  it.each([-1, 3, 1.5])('refuses index %s', (index) => {
    expect(() => sliceMap(new Float32Array(3 * 16), index, 4)).toThrow(RangeError);
  });
});
