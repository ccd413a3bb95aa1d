import type { Precision, PrecisionPolicy } from './precision.js';

/** Bytes a job needs in one precision, from the model's memory profile. */
export interface PrecisionNeed {
  precision: Precision;
  /** Bytes to run one image (fixed + one item): the least a card must offer for a separable job. */
  bytesOneImage: number;
  /** Bytes to run every image at once: what a non-separable (scene) job needs on one card. */
  bytesWholeJob: number;
}

/** What a job needs from a device, computed by the API before it is accepted. */
export interface JobRequirement {
  model: string;
  policy: PrecisionPolicy;
  imageCount: number;
  /** false for scene models whose images must all be on one card together. */
  separable: boolean;
  /** CPU is the last resort, only when the client allows it. */
  allowCpu: boolean;
  needs: PrecisionNeed[];
  /** Classes to skip (for example a tier where even one image ran out of memory). */
  minTierGb?: number;
}

/** Why one class (or worker) cannot take a job: a resource, what was asked and what is there. */
export interface InsufficientResource {
  /** Which capability class or worker this reason is about. */
  target: string;
  resource: 'precision' | 'compute-capability' | 'memory' | 'device' | 'workers';
  reason: string;
  requested?: number;
  available?: number;
}
