import sharp, { type Metadata } from 'sharp';
import { BadInputError, MAX_DECODE_PIXELS } from '#contracts';
import type { ModelInput } from '../manifest.js';
import { recognizeDecodeError } from '../../errors/recognize-error.js';

/** Where a letterboxed image sits in the model input, so boxes can be mapped back to its pixels. */
export interface LetterboxMeta {
  /** Original width and height, after EXIF orientation. */
  width: number;
  height: number;
  /** Model-input pixels per original pixel (≤ 1: images are shrunk to fit, never enlarged). */
  scale: number;
}

/** One image ready for batching: a CHW float tensor of side `S`, and how it got there. */
export interface PreprocessedImage {
  data: Float32Array;
  meta: LetterboxMeta;
}

/** What the API needs to validate an upload without decoding its pixels. */
export interface ImageProbe {
  width: number;
  height: number;
  format: string;
}

/**
 * Reads only the image header: enough to reject non-images and record dimensions at upload time.
 * Width and height are after EXIF orientation, like everything downstream.
 *
 * @throws BadInputError when the bytes are not an image sharp can read (OutOfMemoryError when decoding ran out).
 */
export async function probeImage(input: Buffer): Promise<ImageProbe> {
  let metadata: Metadata;
  try {
    metadata = await sharp(input, { limitInputPixels: MAX_DECODE_PIXELS }).metadata();
  } catch (err) {
    throw recognizeDecodeError(err, 'not a decodable image');
  }
  const width = metadata.autoOrient?.width ?? metadata.width;
  const height = metadata.autoOrient?.height ?? metadata.height;
  if (!width || !height) throw new BadInputError(`image has no dimensions (format ${metadata.format})`);
  return { width, height, format: metadata.format };
}

/**
 * Decodes one image and letterboxes it into the model's fixed `S`×`S` input: shrunk to fit with its
 * aspect ratio kept, placed top-left, the rest filled with normalized black. A fixed size keeps the
 * memory per batch item constant, which VRAM-fit batching depends on.
 *
 * @throws BadInputError when sharp cannot decode the bytes (OutOfMemoryError when decoding ran out).
 */
export async function preprocessImage(input: Buffer, manifest: { input: ModelInput }): Promise<PreprocessedImage> {
  const S = manifest.input.size;
  const { width, height } = await probeImage(input);
  // Never enlarge: PaddleOCR's test-time resize (limit_type "max") only shrinks, and the model was
  // tuned on text at its native size.
  const scale = Math.min(1, S / width, S / height);
  const resizedWidth = Math.min(S, Math.max(1, Math.round(width * scale)));
  const resizedHeight = Math.min(S, Math.max(1, Math.round(height * scale)));

  let pixels: Buffer;
  try {
    // The decoder's own pixel limit: a header claiming a huge canvas is refused before memory is allocated.
    pixels = await sharp(input, { limitInputPixels: MAX_DECODE_PIXELS })
      .rotate()
      // Flatten onto white rather than dropping alpha: transparent pixels often store black,
      // which would swallow black text drawn on a transparent background.
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize(resizedWidth, resizedHeight, { fit: 'fill' })
      .raw()
      .toBuffer();
  } catch (err) {
    throw recognizeDecodeError(err, 'cannot decode image');
  }
  if (pixels.length !== resizedWidth * resizedHeight * 3) {
    throw new BadInputError(`decoded ${pixels.length} bytes, expected ${resizedWidth}×${resizedHeight}×3`);
  }

  return {
    data: normalizeIntoSquare(pixels, resizedWidth, resizedHeight, manifest.input),
    meta: { width, height, scale },
  };
}

/**
 * Concatenates per-image CHW tensors into one NCHW batch for `x`.
 * @throws RangeError when an item is not a 3×S×S tensor.
 */
export function packBatch(items: readonly { data: Float32Array }[], S: number): Float32Array {
  const itemLength = 3 * S * S;
  const batch = new Float32Array(items.length * itemLength);
  items.forEach((item, index) => {
    if (item.data.length !== itemLength) {
      throw new RangeError(`batch item ${index} has ${item.data.length} values, expected 3×${S}×${S}`);
    }
    batch.set(item.data, index * itemLength);
  });
  return batch;
}

/** Interleaved RGB bytes → planar normalized floats in the model's channel order, padded to S×S. */
function normalizeIntoSquare(rgb: Buffer, width: number, height: number, input: ModelInput): Float32Array {
  const S = input.size;
  const plane = S * S;
  const data = new Float32Array(3 * plane);
  // Model channel c reads source byte offset sourceOf[c] of each RGB pixel.
  const sourceOf = input.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  for (let c = 0; c < 3; c++) {
    const lut = normalizationTable(input.mean[c]!, input.std[c]!);
    const offset = c * plane;
    const source = sourceOf[c]!;
    // Padding is black (byte 0) after normalization, as if the canvas were extended with black.
    data.fill(lut[0]!, offset, offset + plane);
    for (let y = 0; y < height; y++) {
      const row = offset + y * S;
      let i = y * width * 3 + source;
      for (let x = 0; x < width; x++, i += 3) data[row + x] = lut[rgb[i]!]!;
    }
  }
  return data;
}

/** (byte/255 − mean)/std for every byte value: one lookup per pixel instead of a divide. */
function normalizationTable(mean: number, std: number): Float32Array {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = (v / 255 - mean) / std;
  return table;
}
