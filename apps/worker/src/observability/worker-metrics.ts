import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkerStats } from '#contracts';

/** What a worker's memory gauges read at scrape time (bytes). */
export interface MemoryReading {
  totalBytes: number;
  freeBytes: number;
  reservedBytes: number;
}

/** Who this worker is, on every series it exports (a worker is one device). */
export interface WorkerIdentity {
  workerId: string;
  /** GPU name, or `cpu`. */
  device: string;
  gpuIndex: string;
  provider: string;
  source: 'probed' | 'declared';
  classes: string[];
}

/** Images/s is shown as the rate over this window (the dashboard's figure; Prometheus computes its own from the counter). */
const RATE_WINDOW_MS = 60_000;
/** Batch sizes a worker runs: powers of two up to the largest manifest batch, and the odd sizes calibration measures fall between. */
const BATCH_BUCKETS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128];

/**
 * A worker's Prometheus metrics and the running totals its advert carries to the dashboard. Each method is one
 * thing that happened; the names follow Prometheus conventions (`_total` counters, base units, `class` label).
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly batchSize: Histogram<'class'>;
  private readonly batchSeconds: Histogram<'class'>;
  private readonly images: Counter<'class'>;
  private readonly ooms: Counter<'class'>;
  private readonly waits: Counter<'class'>;
  private readonly drifts: Counter<'class'>;
  private readonly calibrations: Counter<'model' | 'precision'>;
  private readonly placements: Counter<'class' | 'outcome'>;
  private readonly totals: Omit<WorkerStats, 'imagesPerSecond' | 'imagesPerSecondByClass' | 'running'> = {
    images: 0, batches: 0, ooms: 0, waits: 0, drifts: 0, calibrations: 0, completed: 0, failed: 0,
  };
  private readonly recent: { at: number; className: string; images: number }[] = [];
  private readonly running = new Map<string, { className: string; batchSize?: number }>();

  constructor(identity: WorkerIdentity, readMemory: () => Promise<MemoryReading>) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ worker: identity.workerId });
    collectDefaultMetrics({ register: this.registry });
    this.batchSize = new Histogram({ name: 'gpuq_batch_size', help: 'Images per micro-batch run', labelNames: ['class'], buckets: BATCH_BUCKETS, registers });
    this.batchSeconds = new Histogram({
      name: 'gpuq_batch_duration_seconds', help: 'Inference time of one micro-batch', labelNames: ['class'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers,
    });
    this.images = new Counter({ name: 'gpuq_images_processed_total', help: 'Images whose results were written', labelNames: ['class'], registers });
    this.ooms = new Counter({ name: 'gpuq_oom_total', help: 'Micro-batches that ran out of memory (or found not even one image fits)', labelNames: ['class'], registers });
    this.waits = new Counter({ name: 'gpuq_memory_waits_total', help: 'Jobs put back to wait for memory other work held', labelNames: ['class'], registers });
    this.drifts = new Counter({ name: 'gpuq_precision_drift_total', help: 'Batches whose memory ran past the profile by DRIFT_FACTOR', labelNames: ['class'], registers });
    this.calibrations = new Counter({ name: 'gpuq_calibrations_total', help: 'Memory calibrations run', labelNames: ['model', 'precision'], registers });
    this.placements = new Counter({ name: 'gpuq_placements_total', help: 'Deliveries of a job to this worker, by how they ended', labelNames: ['class', 'outcome'], registers });
    new Gauge({
      name: 'gpuq_worker_info', help: 'This worker: its device, provider and whether the device was probed or declared',
      labelNames: ['device', 'gpu_index', 'provider', 'source'], registers,
    }).set({ device: identity.device, gpu_index: identity.gpuIndex, provider: identity.provider, source: identity.source }, 1);
    const serves = new Gauge({ name: 'gpuq_worker_serves', help: 'Capability classes this worker serves (1 per class)', labelNames: ['class'], registers });
    for (const className of identity.classes) serves.set({ class: className }, 1);
    const running = this.running;
    new Gauge({
      name: 'gpuq_worker_running_jobs', help: 'Jobs running on this worker now', registers,
      collect() {
        this.set(running.size);
      },
    });
    new Gauge({
      name: 'gpuq_device_memory_bytes', help: 'Device memory: total, free (what jobs may still use), used (total - free), reserved (the VRAM ledger)',
      labelNames: ['device', 'state'], registers,
      async collect() {
        const m = await readMemory();
        const device = identity.device;
        this.set({ device, state: 'total' }, m.totalBytes);
        this.set({ device, state: 'free' }, m.freeBytes);
        this.set({ device, state: 'used' }, Math.max(0, m.totalBytes - m.freeBytes));
        this.set({ device, state: 'reserved' }, m.reservedBytes);
      },
    });
  }

  placementStarted(jobId: string, className: string): void {
    this.running.set(jobId, { className });
  }

  /** A delivery ended (`completed`, `failed`, `rerouted`, `released`, …): counted per class and outcome. */
  placementEnded(jobId: string, className: string, outcome: string): void {
    this.running.delete(jobId);
    this.placements.inc({ class: className, outcome });
    if (outcome === 'completed') this.totals.completed++;
    if (outcome === 'failed') this.totals.failed++;
  }

  /** The class a running job was taken from (events carry only the job id). */
  classOf(jobId: string): string {
    return this.running.get(jobId)?.className ?? 'unknown';
  }

  batchChosen(jobId: string, batchSize: number): void {
    const job = this.running.get(jobId);
    if (job) job.batchSize = batchSize;
  }

  batchRan(className: string, size: number, images: number, ms: number): void {
    this.batchSize.observe({ class: className }, size);
    this.batchSeconds.observe({ class: className }, ms / 1000);
    this.images.inc({ class: className }, images);
    this.totals.images += images;
    this.totals.batches++;
    this.recent.push({ at: Date.now(), className, images });
  }

  oom(className: string): void {
    this.ooms.inc({ class: className });
    this.totals.ooms++;
  }

  waited(className: string): void {
    this.waits.inc({ class: className });
    this.totals.waits++;
  }

  drift(className: string): void {
    this.drifts.inc({ class: className });
    this.totals.drifts++;
  }

  calibrated(model: string, precision: string): void {
    this.calibrations.inc({ model, precision });
    this.totals.calibrations++;
  }

  /** Totals since start, images/s over the last minute, and the batch size of each running job (for the advert). */
  stats(now = Date.now()): WorkerStats {
    while (this.recent.length > 0 && this.recent[0]!.at < now - RATE_WINDOW_MS) this.recent.shift();
    const perSecond = (images: number) => Number((images / (RATE_WINDOW_MS / 1000)).toFixed(2));
    const byClass: Record<string, number> = {};
    for (const b of this.recent) byClass[b.className] = (byClass[b.className] ?? 0) + b.images;
    return {
      ...this.totals,
      imagesPerSecond: perSecond(this.recent.reduce((sum, b) => sum + b.images, 0)),
      imagesPerSecondByClass: Object.fromEntries(Object.entries(byClass).map(([c, images]) => [c, perSecond(images)])),
      running: [...this.running].map(([jobId, job]) => ({ jobId, className: job.className, batchSize: job.batchSize })),
    };
  }

  /** The text exposition format, for GET /metrics. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
