import type { BlobStore } from '#blobs';
import type { ImageRef } from '#contracts';
import { preprocessImage, type ModelManifest, type PreprocessedImage } from '#inference';

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

  async take(images: readonly ImageRef[]): Promise<PreprocessedImage[]> {
    this.prefetch(images);
    const ready = await Promise.all(images.map((i) => this.pending.get(i.index)!));
    for (const image of images) this.pending.delete(image.index);
    return ready;
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
