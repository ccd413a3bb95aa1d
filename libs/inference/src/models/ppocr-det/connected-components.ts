/** One 8-connected blob of set pixels. */
export interface Component {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  pixelCount: number;
  /**
   * The leftmost and rightmost pixel of each row as flat [x, y, …] pairs, sorted by (y, x):
   * every convex-hull vertex is among them, so hulls need no full pixel list.
   */
  outline: Int32Array;
}

/**
 * Labels the 8-connected components of a 0/1 mask, scanning rows top to bottom, and stops after
 * `limit` components. Iterative flood fill with an explicit stack, so a blob the size of the whole
 * image cannot overflow the call stack. The mask is consumed: visited pixels are cleared.
 */
export function findComponents(mask: Uint8Array, width: number, height: number, limit: number): Component[] {
  const total = width * height;
  const components: Component[] = [];
  // Every set pixel is pushed once and recorded once over the whole scan, so one buffer of each,
  // sized to the set pixels rather than the map, serves all blobs.
  let setPixels = 0;
  for (let i = 0; i < total; i++) setPixels += mask[i]!;
  const stack = new Int32Array(setPixels);
  const pixels = new Int32Array(setPixels);
  let recorded = 0;

  for (let start = 0; start < total && components.length < limit; start++) {
    if (mask[start] === 0) continue;
    mask[start] = 0;
    let top = 0;
    stack[top++] = start;
    const first = recorded;
    let minX = width;
    let maxX = -1;
    let minY = height;
    let maxY = -1;

    while (top > 0) {
      const p = stack[--top]!;
      pixels[recorded++] = p;
      const y = (p / width) | 0;
      const x = p - y * width;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      const x0 = x > 0 ? x - 1 : x;
      const x1 = x < width - 1 ? x + 1 : x;
      const y0 = y > 0 ? y - 1 : y;
      const y1 = y < height - 1 ? y + 1 : y;
      for (let ny = y0; ny <= y1; ny++) {
        const row = ny * width;
        for (let nx = x0; nx <= x1; nx++) {
          const q = row + nx;
          if (mask[q] !== 0) {
            mask[q] = 0;
            stack[top++] = q;
          }
        }
      }
    }

    components.push({
      minX,
      maxX,
      minY,
      maxY,
      pixelCount: recorded - first,
      outline: rowExtremes(pixels, first, recorded, width, minY, maxY),
    });
  }
  return components;
}

function rowExtremes(pixels: Int32Array, from: number, to: number, width: number, minY: number, maxY: number): Int32Array {
  const rows = maxY - minY + 1;
  const left = new Int32Array(rows).fill(width);
  const right = new Int32Array(rows).fill(-1);
  for (let i = from; i < to; i++) {
    const p = pixels[i]!;
    const y = (p / width) | 0;
    const x = p - y * width;
    const r = y - minY;
    if (x < left[r]!) left[r] = x;
    if (x > right[r]!) right[r] = x;
  }
  const outline: number[] = [];
  for (let r = 0; r < rows; r++) {
    // 8-connectivity means no row inside the bounding box is empty, but guard anyway.
    if (right[r]! < 0) continue;
    outline.push(left[r]!, minY + r);
    if (right[r] !== left[r]) outline.push(right[r]!, minY + r);
  }
  return Int32Array.from(outline);
}
