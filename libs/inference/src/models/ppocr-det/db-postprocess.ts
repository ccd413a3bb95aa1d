import type { TextBox } from '#contracts';
import { meanInsideQuad } from './box-score.js';
import { findComponents } from './connected-components.js';
import { DEFAULT_DB_POSTPROCESS_OPTIONS, type DbPostprocessOptions } from './db-postprocess-options.js';
import { convexHull, expandRect, minAreaRect, orderCorners, type Point } from './min-area-rect.js';
import type { LetterboxMeta } from './preprocess.js';
import { sortReadingOrder } from './reading-order.js';

/**
 * One image's S×S probability map out of a batch output [N, 1, S, S], as a view (no copy).
 * @throws RangeError when the batch holds no image at `index`.
 */
export function sliceMap(output: Float32Array, index: number, S: number): Float32Array {
  const plane = S * S;
  if (!Number.isInteger(index) || index < 0 || (index + 1) * plane > output.length) {
    throw new RangeError(`no map ${index} in an output of ${output.length} values (S=${S})`);
  }
  return output.subarray(index * plane, (index + 1) * plane);
}

/**
 * Turns one letterboxed probability map into text boxes in the original image's pixels, following
 * PaddleOCR's `DBPostProcess` (quad boxes, fast score): binarize, take each connected blob's
 * minimum-area rectangle, keep it if the map is confident inside it, grow it back by the unclip
 * distance (the model predicts shrunk text kernels), then undo the letterbox scale.
 *
 * @returns boxes in reading order (top-to-bottom, then left-to-right).
 */
export function dbPostprocess(
  prob: Float32Array,
  S: number,
  meta: LetterboxMeta,
  opts: DbPostprocessOptions = DEFAULT_DB_POSTPROCESS_OPTIONS,
): TextBox[] {
  if (prob.length !== S * S) throw new RangeError(`probability map has ${prob.length} values, expected ${S}×${S}`);
  // Only the image's part of the letterbox can hold text; the padding is skipped outright.
  const validWidth = Math.min(S, Math.ceil(meta.width * meta.scale));
  const validHeight = Math.min(S, Math.ceil(meta.height * meta.scale));
  const mask = binarize(prob, S, validWidth, validHeight, opts.thresh);

  const boxes: TextBox[] = [];
  for (const component of findComponents(mask, S, S, opts.maxCandidates)) {
    const rect = minAreaRect(convexHull(component.outline, component.outline.length / 2));
    if (!rect || rect.shortSide < opts.minSize) continue;
    const score = meanInsideQuad(prob, S, S, rect.corners);
    if (score < opts.boxThresh) continue;
    const perimeter = 2 * (rect.width + rect.height);
    const expanded = expandRect(rect, (rect.width * rect.height * opts.unclipRatio) / perimeter);
    if (expanded.shortSide < opts.minSize + 2) continue;
    const box = toOriginalPixels(expanded.corners, meta, score);
    if (box) boxes.push(box);
  }
  return sortReadingOrder(boxes);
}

function binarize(prob: Float32Array, S: number, width: number, height: number, thresh: number): Uint8Array {
  const mask = new Uint8Array(S * S);
  for (let y = 0; y < height; y++) {
    const row = y * S;
    for (let x = 0; x < width; x++) if (prob[row + x]! > thresh) mask[row + x] = 1;
  }
  return mask;
}

/**
 * Undoes the letterbox scale, rounds to whole pixels and clips to the image, like PaddleOCR; a box
 * whose sides end up 3 pixels or less (`filter_tag_det_res`) is dropped.
 */
function toOriginalPixels(corners: readonly Point[], meta: LetterboxMeta, score: number): TextBox | undefined {
  const points = orderCorners(
    corners.map((p): Point => [
      clamp(Math.round(p[0] / meta.scale), 0, meta.width),
      clamp(Math.round(p[1] / meta.scale), 0, meta.height),
    ]),
  );
  const [topLeft, topRight, , bottomLeft] = points;
  const side = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);
  if (side(topLeft, topRight) <= 3 || side(topLeft, bottomLeft) <= 3) return undefined;

  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return {
    points,
    box: { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y },
    score,
  };
}

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value;
}
