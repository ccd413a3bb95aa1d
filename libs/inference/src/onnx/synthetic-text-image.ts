import { seededRandom } from './seeded-random.js';

/** ImageNet mean/std that PP-OCR's detector was trained with (RGB, 0..1 scale). */
const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;

/**
 * A normalized NCHW float32 image of dark "words" on a light page: deterministic and text-like, so a text
 * detector produces real probability peaks. Uniform noise would leave its output near zero everywhere and
 * make any precision look perfect.
 */
export function syntheticTextImage(height: number, width: number, seed = 1): Float32Array {
  const random = seededRandom(seed);
  const gray = new Float32Array(height * width).fill(0.92);
  const lineHeight = Math.max(12, Math.round(height / 10));
  const stroke = Math.max(2, Math.round(lineHeight / 10));
  for (let top = lineHeight; top + lineHeight <= height - lineHeight; top += lineHeight * 2) {
    let left = Math.round(width * 0.05);
    while (left + lineHeight < width * 0.95) {
      const glyphs = 2 + Math.floor(random() * 6);
      for (let g = 0; g < glyphs && left + lineHeight < width * 0.95; g++) {
        drawGlyph(gray, width, left, top, Math.round(lineHeight * 0.7), lineHeight, stroke, random);
        left += Math.round(lineHeight * 0.8);
      }
      left += lineHeight;
    }
  }
  const out = new Float32Array(3 * height * width);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < gray.length; i++) out[c * gray.length + i] = (gray[i]! - MEAN[c]!) / STD[c]!;
  }
  return out;
}

/** A glyph-like cell: a few horizontal and vertical strokes, as CJK and Latin characters are made of. */
function drawGlyph(
  gray: Float32Array,
  width: number,
  left: number,
  top: number,
  cellWidth: number,
  cellHeight: number,
  stroke: number,
  random: () => number,
): void {
  const strokes = 2 + Math.floor(random() * 3);
  for (let s = 0; s < strokes; s++) {
    const vertical = random() < 0.5;
    const offset = Math.floor(random() * ((vertical ? cellWidth : cellHeight) - stroke));
    for (let i = 0; i < (vertical ? cellHeight : cellWidth); i++) {
      for (let t = 0; t < stroke; t++) {
        const x = left + (vertical ? offset + t : i);
        const y = top + (vertical ? i : offset + t);
        gray[y * width + x] = 0.08;
      }
    }
  }
}
