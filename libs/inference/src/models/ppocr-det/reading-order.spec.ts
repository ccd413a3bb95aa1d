import { describe, expect, it } from 'vitest';
import type { TextBox } from '#contracts';
import { sortReadingOrder } from './reading-order.js';

const box = (x: number, y: number, label: number): TextBox => ({
  points: [[x, y], [x + 10, y], [x + 10, y + 5], [x, y + 5]],
  box: { x, y, width: 10, height: 5 },
  score: label,
});

describe('sortReadingOrder', () => {
  it.each([
    { name: 'lines top to bottom', input: [box(0, 50, 2), box(0, 10, 1)], order: [1, 2] },
    { name: 'a line left to right despite a slightly higher right word', input: [box(100, 20, 2), box(0, 24, 1)], order: [1, 2] },
    { name: 'separate lines by y even when the lower starts further left', input: [box(100, 20, 1), box(0, 40, 2)], order: [1, 2] },
  ])('orders $name', ({ input, order }) => {
    expect(sortReadingOrder(input).map((b) => b.score)).toEqual(order);
  });
});
