import type { ProviderName } from './capability.js';
import type { ExecutionMeasurement, ExecutionSummary } from './execution.js';
import type { ImageFormat } from './image-format.js';
import type { InsufficientResource, JobRequirement } from './requirement.js';
import type { Precision, PrecisionPolicy } from './precision.js';

export const JOB_STATES = ['queued', 'waiting-for-capacity', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled']);

/** One uploaded image as stored in the blob store. */
export interface ImageRef {
  index: number;
  blobKey: string;
  filename?: string;
  width: number;
  height: number;
  bytes: number;
  /** As recognised from the bytes at submit. */
  format?: ImageFormat;
}

/** One placement of the user's job on a class queue (a BullMQ job). Rerouting adds a placement; the job id stays. */
export interface Placement {
  className: string;
  queueJobId: string;
  at: string;
  reason: string;
  workerId?: string;
}

/** An event in the job's life worth showing the user: OOMs, batch changes, crashes, reroutes. */
export interface JobEvent {
  at: string;
  /**
   * `wait`: handed back until memory or a worker that may run it is free; `retry`: a transient error, tried again;
   * `takeover`: a delivery whose worker stopped renewing its lock was taken over (a crash, or a worker that was alive).
   */
  kind: 'oom' | 'batch' | 'reroute' | 'crash' | 'takeover' | 'drift' | 'drain' | 'wait' | 'retry' | 'info' | 'failed' | 'webhook';
  message: string;
  workerId?: string;
  data?: Record<string, unknown>;
}

/**
 * Why a job (or one image of it) failed, as a stable code; docs/errors.md lists them with what each means.
 * `transient`: errors worth retrying (connections, a lost device) kept failing past TRANSIENT_RETRIES.
 */
export const JOB_ERROR_CODES = ['bad-input', 'out-of-memory', 'no-capacity', 'poison', 'fatal', 'cancelled', 'precision-mismatch', 'transient'] as const;
export type JobErrorCode = (typeof JOB_ERROR_CODES)[number];

export interface JobError {
  code: JobErrorCode;
  message: string;
  reasons?: InsufficientResource[];
}

/**
 * Where a precision claim comes from: `measured` (onnxruntime's profile of the run) or `declared` (a worker
 * configured with WORKER_DECLARE for tests and development, which computes fp32 on the CPU provider).
 */
export type PrecisionSource = 'measured' | 'declared';

/** The precision promise: what was promised, why, and what actually ran. Never changed silently. */
export interface PrecisionDecision {
  policy: PrecisionPolicy;
  promised: Precision;
  reason: string;
  /** The precision the job's batches ran in, once measured on the worker (`measured` says how much of it). */
  used?: Precision;
  provider?: ProviderName;
  source?: PrecisionSource;
  /** What the session that ran the job computed in and where, from onnxruntime's profile of its first run. */
  measured?: ExecutionMeasurement;
}

/** The user's job: one record for its whole life, whatever queues and workers it passes through. */
export interface JobRecord {
  id: string;
  model: string;
  state: JobState;
  priority: number;
  allowCpu: boolean;
  waitForCapacity: boolean;
  idempotencyKey?: string;
  /** The tenant of the API key that submitted the job: only that tenant sees it. */
  tenant?: string;
  /** Id of the API key that submitted it (its quotas, its webhook secret). */
  keyId?: string;
  /** Where the outcome is POSTed when the job finishes. */
  webhookUrl?: string;
  images: ImageRef[];
  requirement: JobRequirement;
  precision: PrecisionDecision;
  className: string;
  placements: Placement[];
  /** Images ended (`done`, failed ones included), of `total`; `failed`: images that could not be read (their errors are in the results). */
  progress: { done: number; total: number; failed?: number };
  events: JobEvent[];
  error?: JobError;
  /** Deliveries to a worker, and how many of them ended with the worker dying. */
  deliveries: number;
  crashes: number;
  /**
   * Set when a delivery starts, renewed with its lock, cleared when it ends cleanly; still set on the next
   * delivery: the last worker stopped renewing (died, or was cut off while alive: see `takeover` events).
   */
  activeDelivery?: { workerId: string; token: string; since: string; expiresAt?: string };
  /** The placement (index into `placements`) that may run now; a re-delivered older one is skipped. */
  placement: number;
  /** Since when the job has been handed back for memory or for a worker that may run it (bounded by MAX_WAIT_S). */
  waitingSince?: string;
  cancelRequested?: boolean;
  peakBytes?: number;
  predictedPeakBytes?: number;
  driftFlagged?: boolean;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  timings?: { queueMs?: number; runMs?: number; inferenceMs?: number; preprocessMs?: number; imagesPerSecond?: number };
}

/** A detected text box: the four corners clockwise from top-left, in the original image's pixels. */
export interface TextBox {
  points: [number, number][];
  box: { x: number; y: number; width: number; height: number };
  score: number;
}

/** An image that could not be run (its bytes do not decode): the job goes on with the others. */
export interface ImageFailure {
  index: number;
  filename?: string;
  error: { code: 'bad-input'; message: string };
  workerId: string;
}

/** What became of one image, written exactly once: its result, or why it failed. */
export type ImageOutcome = ImageResult | ImageFailure;

export const isImageFailure = (outcome: ImageOutcome): outcome is ImageFailure => 'error' in outcome;

/** One image's result, written exactly once, with what really ran it. */
export interface ImageResult {
  index: number;
  filename?: string;
  boxes: TextBox[];
  precision: Precision;
  provider: ProviderName;
  device: string;
  workerId: string;
  batchSize: number;
  ms: number;
  /** `declared` when a declared worker ran it (its precision is configuration, not measurement). */
  precisionSource: PrecisionSource;
  /** What the session computed in (share of the arithmetic) and where (nodes per provider). */
  measured?: ExecutionSummary;
}
