import type { BlobStore } from '#blobs';
import type { DeviceCapability, ExecutionMeasurement, ImageRef, JobError, JobEvent, MemoryProfile, Precision } from '#contracts';
import type { Config, Logger } from '#config';
import type { DeviceMemory } from '#device';
import type { ModelManifest, ModelSession, SessionCache } from '#inference';
import type { JobLease, ProfileRepository, WorkerRegistry } from '#queue';
import type { VramLedger } from '#scheduling';
import type { ImagePrefetcher } from './image-prefetcher.js';

export interface ExecutorDeps {
  config: Config;
  log: Logger;
  workerId: string;
  device: DeviceCapability;
  deviceName: string;
  /** This device instance (host and GPU UUID): memory profiles are kept per instance. */
  deviceId: string;
  memory: DeviceMemory;
  ledger: VramLedger;
  profiles: ProfileRepository;
  registry: WorkerRegistry;
  blobs: BlobStore;
  sessions: SessionCache;
  /** Measures a model's memory profile on this device (the first time a GPU worker meets it). */
  calibrate: (manifest: ModelManifest, precision: Precision) => Promise<{ profile: MemoryProfile; summary: string }>;
  /** True once SIGTERM arrived: finish the current micro-batch, then hand the job back. */
  isDraining: () => boolean;
  /** Publishes the worker's advert now (after the device's capability changed), not at the next heartbeat. */
  advertiseNow: () => Promise<void>;
  /** Counts what the placements do, for the worker's /metrics. */
  metrics: PlacementMetrics;
}

/** What the placement loop reports to the worker's metrics (observability/worker-metrics.ts implements it). */
export interface PlacementMetrics {
  batchChosen(jobId: string, batchSize: number): void;
  batchRan(className: string, batchSize: number, images: number, ms: number): void;
  oom(className: string): void;
  waited(className: string): void;
  drift(className: string): void;
  calibrated(model: string, precision: string): void;
}

/** How a delivery ended, for the worker loop's log. */
export type PlacementOutcome =
  | 'completed' | 'failed' | 'cancelled' | 'rerouted' | 'released' | 'waiting-for-memory' | 'not-for-this-worker' | 'fenced-off';

/**
 * One job running on this worker: its lease, what it runs with (session, memory view, profile) and what it has
 * done so far. The steps of a placement (fit → reserve → infer → write; after an OOM) read and update it.
 */
export class PlacementRun {
  remaining: ImageRef[];
  measured?: ExecutionMeasurement;
  lastBatch = 0;
  peakBytes: number;
  predictedPeakBytes = 0;
  inferenceMs = 0;
  /** Images of this job that could not be read, with why (earlier deliveries' included). */
  failedImages: number;
  firstFailure?: string;
  readonly started = performance.now();

  constructor(
    readonly deps: ExecutorDeps,
    readonly lease: JobLease,
    readonly manifest: ModelManifest,
    /** What the session computes in: the promise, or fp32 on a declared device (it runs on the CPU provider). */
    readonly executed: Precision,
    public session: ModelSession,
    public memory: DeviceMemory,
    public profile: MemoryProfile,
    readonly prefetcher: ImagePrefetcher,
    done: ReadonlySet<number>,
  ) {
    this.remaining = lease.record.images.filter((i) => !done.has(i.index));
    this.peakBytes = lease.record.peakBytes ?? 0;
    this.failedImages = lease.record.progress.failed ?? 0;
  }

  get jobId(): string {
    return this.lease.jobId;
  }

  get record() {
    return this.lease.record;
  }

  /** Bytes the other jobs on this device have reserved. */
  get othersReservedBytes(): number {
    const own = this.deps.ledger.entries().find((e) => e.jobId === this.jobId)?.bytes ?? 0;
    return this.deps.ledger.reservedBytes - own;
  }

  event(kind: JobEvent['kind'], message: string, data?: Record<string, unknown>): JobEvent {
    return this.lease.event(kind, message, data);
  }

  /** Ends the job failed, with the reason in its events and the worker's log. */
  async fail(code: JobError['code'], message: string): Promise<PlacementOutcome> {
    await this.lease.fail({ code, message });
    this.deps.log.warn({ jobId: this.jobId, code, message }, 'job failed');
    return 'failed';
  }
}
