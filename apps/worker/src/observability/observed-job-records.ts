import type { Redis } from 'ioredis';
import type { ImageResult, JobEvent } from '#contracts';
import { JobRecordRepository, type Keys } from '#queue';
import type { WorkerMetrics } from './worker-metrics.js';

/** `calibrated ppocr-v4-det in fp16 on NVIDIA H200: …`, as the placement loop words a calibration event. */
const CALIBRATED = /^calibrated (\S+) in (bf16|fp16|fp32)\b/;

/**
 * The job repository the placement loop writes through, counting what it writes: micro-batches (from the results
 * of each batch), OOMs and waits for memory (`oom` events; a wait says `action: wait`), drift, calibrations and
 * batch-size changes. The loop itself stays free of metrics; every write still goes to Redis unchanged.
 */
export class ObservedJobRecords extends JobRecordRepository {
  constructor(redis: Redis, keys: Keys, private readonly metrics: WorkerMetrics) {
    super(redis, keys);
  }

  override async addEvent(id: string, event: JobEvent): Promise<void> {
    await super.addEvent(id, event);
    const className = this.metrics.classOf(id);
    if (event.kind === 'oom') {
      if (event.data?.action === 'wait') this.metrics.waited(className);
      else this.metrics.oom(className);
    } else if (event.kind === 'drift') {
      this.metrics.drift(className);
    } else if (event.kind === 'batch' && typeof event.data?.batchSize === 'number') {
      this.metrics.batchChosen(id, event.data.batchSize);
    } else if (event.kind === 'info') {
      const calibrated = CALIBRATED.exec(event.message);
      if (calibrated) this.metrics.calibrated(calibrated[1]!, calibrated[2]!);
    }
  }

  override async writeResults(id: string, token: string, results: ImageResult[]): Promise<number> {
    const done = await super.writeResults(id, token, results);
    // Negative: fenced off, nothing written. One call is one micro-batch; every result carries its size and time.
    const first = results[0];
    if (done >= 0 && first) this.metrics.batchRan(this.metrics.classOf(id), first.batchSize, results.length, first.ms);
    return done;
  }
}
