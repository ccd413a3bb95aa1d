import { readFile } from 'node:fs/promises';
import type { ImageFormat } from '#contracts';
import type { Config } from '#config';
import { inspectImage } from '#images';
import { probeImage } from '#models';
import { ApiError } from '../problems/api-error.js';

/** One uploaded file as the upload interceptor left it on disk. */
export interface UploadedFile {
  originalname?: string;
  path: string;
  size: number;
}

export interface CheckedImage {
  file: UploadedFile;
  format: ImageFormat;
  width: number;
  height: number;
}

/** sharp names AVIF by its container. */
const SHARP_FORMAT: Partial<Record<string, ImageFormat>> = { heif: 'avif' };

/**
 * Checks every upload before anything is stored: the format from its bytes against ACCEPTED_FORMATS, its
 * structure (truncation, damage), its header as the decoder reads it, and its pixel count. The first image that
 * fails refuses the whole job, named by index and file name.
 */
export async function checkImages(files: readonly UploadedFile[], config: Config): Promise<CheckedImage[]> {
  if (files.length === 0) throw new ApiError('no-images', 'no images: send one or more files in the multipart field "images"');
  const checked: CheckedImage[] = [];
  for (const [index, file] of files.entries()) {
    const name = `image ${index}${file.originalname ? ` (${JSON.stringify(file.originalname)})` : ''}`;
    const bytes = await readFile(file.path);
    const inspection = inspectImage(bytes, config.ACCEPTED_FORMATS);
    if (!inspection.ok) {
      throw new ApiError(inspection.problem, `${name}: ${inspection.reason}`, { index, accepted: config.ACCEPTED_FORMATS });
    }
    let probe;
    try {
      probe = await probeImage(bytes);
    } catch (err) {
      throw new ApiError('corrupt-image', `${name}: ${(err as Error).message}`, { index });
    }
    const decodedAs = SHARP_FORMAT[probe.format] ?? probe.format;
    if (decodedAs !== inspection.format) {
      throw new ApiError('corrupt-image', `${name}: its bytes start as ${inspection.format} but the decoder reads ${probe.format}`, { index });
    }
    const pixels = probe.width * probe.height;
    if (pixels > config.MAX_IMAGE_PIXELS) {
      throw new ApiError('too-many-pixels', `${name} has ${probe.width}x${probe.height} = ${pixels} pixels > MAX_IMAGE_PIXELS=${config.MAX_IMAGE_PIXELS}`,
        { index, limit: config.MAX_IMAGE_PIXELS });
    }
    checked.push({ file, format: inspection.format, width: probe.width, height: probe.height });
  }
  return checked;
}
