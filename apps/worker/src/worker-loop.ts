import type { WorkerAdvert } from '#contracts';
import type { Config, Logger } from '#config';
import type { JobDeliveries, WorkerRegistry } from '#queue';
import type { RunPlacement } from './execution/run-placement.js';
import type { DeviceMemory } from '#device';
import type { VramLedger } from '#scheduling';
import type { WorkerMetrics } from './observability/worker-metrics.js';

export interface WorkerLoopDeps {
  config: Config;
  log: Logger;
  advert: Omit<WorkerAdvert, 'freeBytes' | 'reservedBytes' | 'runningJobs' | 'loadedModels' | 'lastBeatAt' | 'status' | 'stats'>;
  deliveries: JobDeliveries;
  registry: WorkerRegistry;
  executor: RunPlacement;
  memory: DeviceMemory;
  ledger: VramLedger;
  loadedModels: () => string[];
  /** Least memory a second concurrent job must find free before this worker takes it. */
  minAdmitBytes: number;
  metrics: WorkerMetrics;
}

const IDLE_POLL_MS = 200;

/**
 * The worker's main loop: take placements from its classes, most specific first, only while it has a free
 * slot and room in its VRAM ledger; advertise itself on a heartbeat; drain on SIGTERM.
 */
export class WorkerLoop {
  private readonly running = new Map<string, Promise<void>>();
  private draining = false;
  private stopped = false;
  private heartbeat?: NodeJS.Timeout;
  private loopDone?: Promise<void>;

  constructor(private readonly deps: WorkerLoopDeps) {}

  get isDraining(): boolean {
    return this.draining;
  }

  /** Taking work: started, not draining (readiness). */
  get isServing(): boolean {
    return this.heartbeat !== undefined && !this.draining;
  }

  async start(): Promise<void> {
    await this.deps.deliveries.start();
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch((err) => this.deps.log.warn({ err: String(err) }, 'heartbeat failed')), this.deps.config.HEARTBEAT_S * 1000);
    this.loopDone = this.loop();
    this.deps.log.info({ classes: this.deps.advert.classes, httpPort: this.deps.advert.httpPort }, 'worker ready');
  }

  /** SIGTERM: take nothing new, let running jobs hand back after their current micro-batch, leave the registry. */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.deps.log.info({ running: [...this.running.keys()] }, 'draining');
    await this.beat().catch(() => undefined);
    await Promise.allSettled(this.running.values());
    this.stopped = true;
    await this.loopDone;
    clearInterval(this.heartbeat);
    await this.deps.registry.remove(this.deps.advert.workerId).catch(() => undefined);
    await this.deps.deliveries.close();
  }

  private async loop(): Promise<void> {
    let lastError = 0;
    while (!this.stopped && !this.draining) {
      try {
        const took = (await this.hasRoom()) && (await this.takeOne());
        if (!took) await sleep(IDLE_POLL_MS);
      } catch (err) {
        // Redis down or similar: log at most every 10 s instead of flooding, and keep trying.
        if (Date.now() - lastError > 10_000) this.deps.log.error({ err: String(err) }, 'worker loop error; retrying');
        lastError = Date.now();
        await sleep(1000);
      }
    }
  }

  private async hasRoom(): Promise<boolean> {
    if (this.running.size >= this.deps.config.WORKER_CONCURRENCY) return false;
    if (this.running.size === 0) return true;
    const available = await this.deps.memory.availableBytes();
    return available - this.deps.ledger.reservedBytes >= this.deps.minAdmitBytes;
  }

  private async takeOne(): Promise<boolean> {
    const delivery = await this.deps.deliveries.next();
    if (!delivery) return false;
    if ('skipped' in delivery) {
      const { jobId, outcome, ...rest } = delivery.skipped;
      this.deps.log.warn({ jobId, ...rest }, `placement not run: ${outcome}`);
      return true;
    }
    const { lease } = delivery;
    const { jobId, className } = lease;
    this.deps.metrics.placementStarted(jobId, className);
    let outcome = 'crashed';
    const run = this.deps.executor
      .execute(lease)
      .then((ended) => {
        outcome = ended;
        this.deps.log.info({ jobId, className, outcome }, 'placement finished');
      })
      .catch((err) => this.deps.log.error({ jobId, className, err: String(err) }, 'placement crashed'))
      .finally(() => {
        this.running.delete(jobId);
        this.deps.metrics.placementEnded(jobId, className, outcome);
      });
    this.running.set(jobId, run);
    return true;
  }

  /** Publishes the advert now: a capability withdrawn mid-run must stop routing at once, not a heartbeat later. */
  advertiseNow(): Promise<void> {
    return this.beat();
  }

  private async beat(): Promise<void> {
    const { advert, memory, ledger, registry, config } = this.deps;
    await registry.advertise({
      ...advert,
      freeBytes: await memory.availableBytes(),
      reservedBytes: ledger.reservedBytes,
      runningJobs: [...this.running.keys()],
      loadedModels: this.deps.loadedModels(),
      lastBeatAt: new Date().toISOString(),
      status: this.draining ? 'draining' : 'ready',
      stats: this.deps.metrics.stats(),
    }, config.WORKER_TTL_S);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
