import type { BlobStore } from '#blobs';
import { BadInputError, type ImageRef } from '#contracts';
import { preprocessImage, type ModelManifest, type PreprocessedImage } from '#inference';

/** One image of a batch as taken: ready to run, or unreadable (its bytes do not decode), with why. */
export type TakenImage = { image: ImageRef; ready: PreprocessedImage } | { image: ImageRef; unreadable: BadInputError };

/**
 * Decodes and letterboxes images on the CPU ahead of the device: while batch k runs, batch k+1 is being
 * prepared. Keyed by image index, so a batch size that changes after an OOM reuses what is ready.
 */
export class ImagePrefetcher {
  private readonly pending = new Map<number, Promise<PreprocessedImage>>();
  private preprocessMs = 0;

  constructor(private readonly blobs: BlobStore, private readonly manifest: ModelManifest) {}

  /** Starts preparing these images (no-op for those already started). */
  prefetch(images: readonly ImageRef[]): void {
    for (const image of images) {
      if (this.pending.has(image.index)) continue;
      const started = performance.now();
      const work = this.blobs.get(image.blobKey).then((buffer) => preprocessImage(buffer, this.manifest));
      work.then(() => (this.preprocessMs += performance.now() - started), () => undefined);
      this.pending.set(image.index, work);
    }
  }

  /**
   * The batch's images: each ready, or unreadable with the decoder's words (one bad image never stops the
   * others). Any other failure (the blob store out of reach, memory) throws, and the images it hit are fetched
   * afresh next time.
   */
  async take(images: readonly ImageRef[]): Promise<TakenImage[]> {
    this.prefetch(images);
    const settled = await Promise.allSettled(images.map((i) => this.pending.get(i.index)!));
    for (const image of images) this.pending.delete(image.index);
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && !(s.reason instanceof BadInputError));
    if (failure) throw failure.reason;
    return settled.map((s, i) => {
      const image = images[i]!;
      if (s.status === 'fulfilled') return { image, ready: s.value };
      const why = s.reason as BadInputError;
      return { image, unreadable: new BadInputError(`image ${image.index}${image.filename ? ` (${JSON.stringify(image.filename)})` : ''}: ${why.message}`, { imageIndex: image.index, filename: image.filename, cause: why }) };
    });
  }

  get totalPreprocessMs(): number {
    return this.preprocessMs;
  }

  /** Drops work not taken (a job that ends early); errors of dropped work are ignored. */
  clear(): void {
    for (const work of this.pending.values()) work.catch(() => undefined);
    this.pending.clear();
  }
}
