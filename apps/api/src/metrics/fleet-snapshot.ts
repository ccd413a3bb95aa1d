import { Injectable } from '@nestjs/common';
import type { WorkerAdvert } from '#contracts';
import { ClassQueues, WorkerRegistry, type ClassDepth } from '#queue';

/** One look at the fleet: every class queue's counts and every live worker's advert. */
export interface FleetSnapshot {
  at: number;
  classes: ClassView[];
  workers: WorkerAdvert[];
}

/** A class as operators see it: its queue, who serves it, and how fast it goes. */
export interface ClassView extends ClassDepth {
  /** Waiting + prioritized + delayed: the figure an autoscaler scales a class's pool on. */
  depth: number;
  /** Live workers (not draining) that serve the class. */
  workers: number;
  /** Images/s over the last minute, summed over the workers' own figures. */
  imagesPerSecond: number;
}

/** Reads are shared for this long: a scrape and the dashboard's live stream never multiply Redis round trips. */
const FRESH_MS = 500;

/**
 * The fleet as the metrics and the dashboard show it. Classes are those with a queue in Redis and those some live
 * worker serves (depth 0 until the first job), so a class's series exists before its first job.
 */
@Injectable()
export class FleetSnapshots {
  private last?: Promise<FleetSnapshot>;
  private lastAt = 0;

  constructor(private readonly queues: ClassQueues, private readonly registry: WorkerRegistry) {}

  get(now = Date.now()): Promise<FleetSnapshot> {
    if (!this.last || now - this.lastAt >= FRESH_MS) {
      this.lastAt = now;
      this.last = this.read(now);
      this.last.catch(() => (this.last = undefined));
    }
    return this.last;
  }

  private async read(now: number): Promise<FleetSnapshot> {
    const [depths, workers] = await Promise.all([this.queues.depths(), this.registry.list()]);
    const names = new Set([...depths.map((d) => d.className), ...workers.flatMap((w) => w.classes)]);
    const byName = new Map(depths.map((d) => [d.className, d]));
    const classes = [...names].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).map((className): ClassView => {
      const d = byName.get(className) ?? { className, waiting: 0, prioritized: 0, delayed: 0, active: 0, completed: 0, failed: 0, oldestWaitMs: 0 };
      const serving = workers.filter((w) => w.status === 'ready' && w.classes.includes(className));
      return {
        ...d,
        depth: d.waiting + d.prioritized + d.delayed,
        workers: serving.length,
        imagesPerSecond: Number(workers.reduce((sum, w) => sum + (w.stats?.imagesPerSecondByClass[className] ?? 0), 0).toFixed(2)),
      };
    });
    return { at: now, classes, workers };
  }
}
