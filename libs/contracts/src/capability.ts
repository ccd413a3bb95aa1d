import type { ExecutionSummary } from './execution.js';
import type { Precision } from './precision.js';

/** onnxruntime execution providers gpuq knows how to drive. */
export type ProviderName = 'cuda' | 'webgpu' | 'cpu';
export type DeviceKind = 'gpu' | 'cpu';

/** One GPU as `nvidia-smi` (or a declaration) describes it. */
export interface GpuInfo {
  index: number;
  uuid: string;
  name: string;
  /** e.g. 9.0 for Hopper, 8.9 for Ada, 7.5 for Turing. */
  computeCapability: number;
  totalBytes: number;
  freeBytes: number;
  driver: string;
  /** PCI bus id as nvidia-smi prints it (`00000000:1B:00.0`); the same inside and outside a GPU namespace. */
  pciBusId?: string;
}

/** Outcome of running the self-test model in one precision on one provider. */
export interface SelfTestResult {
  provider: ProviderName;
  precision: Precision;
  passed: boolean;
  /** Largest absolute difference from the JavaScript reference output. */
  maxAbsError?: number;
  tolerance?: number;
  ms?: number;
  /** Why it failed, in onnxruntime's own words. */
  error?: string;
}

/**
 * A model's fp16/bf16 variant on this device's provider: fitted to its kernels, measured (what its trial run
 * computed in) and checked against its fp32 original.
 */
export interface ModelVariantCheck {
  model: string;
  precision: Precision;
  passed: boolean;
  meanAbsError?: number;
  maxAbsError?: number;
  tolerance?: { meanAbs: number; maxAbs: number };
  /** Op types the variant keeps in float32 on this provider, and why. */
  keptFp32?: Array<{ op: string; reason: string }>;
  /** What the variant's trial run computed in, and where. */
  measured?: ExecutionSummary;
  error?: string;
}

/**
 * What one execution slot (one device) of a worker really is. A worker process drives exactly one device:
 * a multi-GPU host runs one process per GPU, so an OOM or crash on one card never disturbs another.
 */
export interface DeviceCapability {
  /** `probed`: measured at start. `declared`: configured (tests, CPU-only development); shown everywhere. */
  source: 'probed' | 'declared';
  kind: DeviceKind;
  /** The provider the worker runs jobs with on this device. */
  provider: ProviderName;
  /** Present for GPUs. */
  gpu?: GpuInfo;
  /** Memory the device offers jobs: VRAM for a GPU, the process memory budget for the CPU. */
  totalBytes: number;
  /** Precisions whose self-test passed on `provider` (or that were declared). Only these are advertised. */
  provenPrecisions: Precision[];
  selfTests: SelfTestResult[];
  /** Execution providers that loaded in this process. */
  availableProviders: ProviderName[];
  /**
   * Per-model checks of the reduced-precision variants (a precision can pass the self-test and still be too
   * inaccurate for one model). A failed check removes that (model, precision) from what the device serves.
   */
  variantChecks?: ModelVariantCheck[];
}

/** A worker's advertisement in the registry, refreshed by its heartbeat under a TTL key. */
export interface WorkerAdvert {
  workerId: string;
  host: string;
  pid: number;
  device: DeviceCapability;
  /** Capability classes (queue names) served, most specific first. */
  classes: string[];
  freeBytes: number;
  /** Bytes reserved by jobs running now (the VRAM ledger). */
  reservedBytes: number;
  runningJobs: string[];
  loadedModels: string[];
  startedAt: string;
  lastBeatAt: string;
  /** `draining` after SIGTERM: takes no new work. */
  status: 'ready' | 'draining';
  /** What the worker has run since it started, for the operators' dashboard (Prometheus has the same as series). */
  stats?: WorkerStats;
  /** The worker's own HTTP port (/metrics, /health/live, /health/ready). */
  httpPort?: number;
}

/** A worker's running totals since start, and what it runs now. */
export interface WorkerStats {
  images: number;
  batches: number;
  ooms: number;
  /** Jobs put back to wait for memory that other work held. */
  waits: number;
  drifts: number;
  calibrations: number;
  completed: number;
  failed: number;
  /** Over the last minute, in all and per class. */
  imagesPerSecond: number;
  imagesPerSecondByClass: Record<string, number>;
  /** Jobs running now, with the class they were taken from and their current micro-batch size. */
  running: { jobId: string; className: string; batchSize?: number }[];
}
