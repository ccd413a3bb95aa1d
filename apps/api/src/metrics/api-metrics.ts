import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { FleetSnapshots } from './fleet-snapshot.js';

const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;

/**
 * The API's Prometheus metrics: the fleet as Redis holds it, read at scrape time. Every API replica exports the
 * same figures, so queries aggregate them with `max` (a KEDA trigger: `max(gpuq_queue_depth{class="…"})`).
 * What workers do (batches, images, OOMs, memory) is on each worker's own /metrics.
 */
@Injectable()
export class ApiMetrics {
  private readonly registry = new Registry();
  private readonly depth: Gauge<'class'>;
  private readonly jobs: Gauge<'class' | 'state'>;
  private readonly oldestWait: Gauge<'class'>;
  private readonly classWorkers: Gauge<'class'>;
  private readonly workers: Gauge<'status' | 'source'>;

  constructor(private readonly fleet: FleetSnapshots) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.depth = new Gauge({ name: 'gpuq_queue_depth', help: 'Placements not yet started in a class: waiting + prioritized + delayed', labelNames: ['class'], registers });
    this.jobs = new Gauge({ name: 'gpuq_queue_jobs', help: 'Placements in a class queue by BullMQ state (completed and failed as BullMQ still keeps them)', labelNames: ['class', 'state'], registers });
    this.oldestWait = new Gauge({ name: 'gpuq_queue_oldest_wait_seconds', help: 'Age of the oldest placement waiting in a class (0 when none)', labelNames: ['class'], registers });
    this.classWorkers = new Gauge({ name: 'gpuq_class_workers', help: 'Live workers (not draining) serving a class', labelNames: ['class'], registers });
    this.workers = new Gauge({ name: 'gpuq_workers', help: 'Live workers by status and by whether their device was probed or declared', labelNames: ['status', 'source'], registers });
  }

  /** Reads the fleet, sets every gauge afresh (a class or worker gone leaves no stale series), renders the text format. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    const { classes, workers } = await this.fleet.get();
    for (const gauge of [this.depth, this.jobs, this.oldestWait, this.classWorkers, this.workers]) gauge.reset();
    for (const c of classes) {
      this.depth.set({ class: c.className }, c.depth);
      for (const state of QUEUE_STATES) this.jobs.set({ class: c.className, state }, c[state]);
      this.oldestWait.set({ class: c.className }, c.oldestWaitMs / 1000);
      this.classWorkers.set({ class: c.className }, c.workers);
    }
    for (const w of workers) this.workers.inc({ status: w.status, source: w.device.source });
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
