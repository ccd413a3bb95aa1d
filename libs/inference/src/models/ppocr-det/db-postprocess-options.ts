/**
 * Knobs of the DB (Differentiable Binarization) post-processing, named after PaddleOCR's
 * `DBPostProcess` arguments so values can be copied from its configs.
 */
export interface DbPostprocessOptions {
  /** A map pixel is text when its probability is above this (`thresh`). */
  thresh: number;
  /** A candidate is kept when the mean probability inside its box reaches this (`box_thresh`). */
  boxThresh: number;
  /** How far the shrunk text kernel is grown back: distance = area × ratio / perimeter (`unclip_ratio`). */
  unclipRatio: number;
  /** At most this many components are examined per image (`max_candidates`). */
  maxCandidates: number;
  /** Shorter side, in map pixels, below which a candidate is noise (`min_size`); +2 after unclipping. */
  minSize: number;
}

/** PaddleOCR's inference defaults for PP-OCRv4 detection (`tools/infer/utility.py`). */
export const DEFAULT_DB_POSTPROCESS_OPTIONS: Readonly<DbPostprocessOptions> = Object.freeze({
  thresh: 0.3,
  boxThresh: 0.6,
  unclipRatio: 1.5,
  maxCandidates: 1000,
  minSize: 3,
});
