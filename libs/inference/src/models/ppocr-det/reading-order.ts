import type { TextBox } from '#contracts';

/**
 * Sorts boxes top-to-bottom, then left-to-right within a line, as PaddleOCR's `sorted_boxes` does:
 * boxes whose top-left corners differ by less than `lineTolerance` pixels vertically count as one
 * line, so slightly uneven baselines still read left to right.
 */
export function sortReadingOrder(boxes: readonly TextBox[], lineTolerance = 10): TextBox[] {
  const sorted = [...boxes].sort((a, b) => a.points[0]![1] - b.points[0]![1] || a.points[0]![0] - b.points[0]![0]);
  for (let i = 0; i < sorted.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const upper = sorted[j]!.points[0]!;
      const lower = sorted[j + 1]!.points[0]!;
      if (Math.abs(lower[1] - upper[1]) >= lineTolerance || lower[0] >= upper[0]) break;
      [sorted[j], sorted[j + 1]] = [sorted[j + 1]!, sorted[j]!];
    }
  }
  return sorted;
}
