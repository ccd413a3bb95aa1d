import { describe, expect, it } from 'vitest';
import { findComponents } from './connected-components.js';

function maskOf(rows: string[]): { mask: Uint8Array; width: number; height: number } {
  const width = rows[0]!.length;
  const mask = Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 1 : 0));
  return { mask, width, height: rows.length };
}

describe('findComponents', () => {
  it('joins diagonal neighbours (8-connectivity) and separates the rest', () => {
    const { mask, width, height } = maskOf(['#...#', '.#..#', '..#..', '.....', '##...']);
    const components = findComponents(mask, width, height, 100);
    expect(components.map((c) => c.pixelCount)).toEqual([3, 2, 2]);
    expect(components[0]).toMatchObject({ minX: 0, maxX: 2, minY: 0, maxY: 2 });
  });

  it('outlines each row by its leftmost and rightmost pixels', () => {
    const { mask, width, height } = maskOf(['.###.', '#####', '..#..']);
    const [component] = findComponents(mask, width, height, 100);
    expect(Array.from(component!.outline)).toEqual([1, 0, 3, 0, 0, 1, 4, 1, 2, 2]);
  });

  it('stops after the candidate limit', () => {
    const { mask, width, height } = maskOf(['#.#.#.#']);
    expect(findComponents(mask, width, height, 2)).toHaveLength(2);
  });
});
