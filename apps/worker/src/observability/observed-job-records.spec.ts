import { afterAll, describe, expect, inject, it } from 'vitest';
import type { JobEvent } from '#contracts';
import { createRedis, Keys } from '#queue';
import { ObservedJobRecords } from './observed-job-records.js';
import { WorkerMetrics } from './worker-metrics.js';

const identity = { workerId: 'w1', device: 'Tesla T4', gpuIndex: '0', provider: 'cuda', source: 'probed' as const, classes: ['gpu-fp16-16g'] };
const event = (kind: JobEvent['kind'], message: string, data?: Record<string, unknown>): JobEvent => ({ at: new Date().toISOString(), kind, message, data });

describe('ObservedJobRecords counts what the placement loop writes, and still writes it', () => {
  const redis = createRedis(inject('redisUrl'));
  const keys = new Keys(`obs${Date.now().toString(36)}`);
  afterAll(() => redis.disconnect());

  it('turns events into OOMs, waits, drift, calibrations and the running batch size, per class', async () => {
    const metrics = new WorkerMetrics(identity, async () => ({ totalBytes: 16e9, freeBytes: 10e9, reservedBytes: 2e9 }));
    const jobs = new ObservedJobRecords(redis, keys, metrics);
    metrics.placementStarted('job-1', 'gpu-fp16-16g');
    await jobs.addEvent('job-1', event('batch', 'micro-batch 8: …', { batchSize: 8 }));
    await jobs.addEvent('job-1', event('oom', 'out of memory at micro-batch 8: …; retry at 4', { action: 'retry' }));
    await jobs.addEvent('job-1', event('oom', 'not even one image fits: …; waiting', { action: 'wait' }));
    await jobs.addEvent('job-1', event('drift', 'precision drift at batch 4: …'));
    await jobs.addEvent('job-1', event('info', 'calibrated ppocr-v4-det in fp16 on Tesla T4: 0.31 GB + 0.12 GB per image (…)'));
    await jobs.addEvent('job-1', event('info', 'ran in fp16: measured 97.0 % of the arithmetic in fp16'));

    expect((await jobs.eventsSince('job-1', 0)).map((e) => e.kind)).toEqual(['batch', 'oom', 'oom', 'drift', 'info', 'info']);
    expect(metrics.stats()).toMatchObject({ ooms: 1, waits: 1, drifts: 1, calibrations: 1, running: [{ jobId: 'job-1', className: 'gpu-fp16-16g', batchSize: 8 }] });
    metrics.placementEnded('job-1', 'gpu-fp16-16g', 'completed');
    expect(metrics.stats()).toMatchObject({ completed: 1, running: [] });

    const { body } = await metrics.exposition();
    expect(body).toMatch(/^gpuq_oom_total\{class="gpu-fp16-16g",worker="w1"\} 1$/m);
    expect(body).toMatch(/^gpuq_memory_waits_total\{class="gpu-fp16-16g",worker="w1"\} 1$/m);
    expect(body).toMatch(/^gpuq_precision_drift_total\{class="gpu-fp16-16g",worker="w1"\} 1$/m);
    expect(body).toMatch(/^gpuq_calibrations_total\{model="ppocr-v4-det",precision="fp16",worker="w1"\} 1$/m);
    expect(body).toMatch(/^gpuq_placements_total\{class="gpu-fp16-16g",outcome="completed",worker="w1"\} 1$/m);
    expect(body).toMatch(/^gpuq_device_memory_bytes\{device="Tesla T4",state="used",worker="w1"\} 6000000000$/m);
    expect(body).toMatch(/^gpuq_device_memory_bytes\{device="Tesla T4",state="reserved",worker="w1"\} 2000000000$/m);
  });

  it('counts a batch by its images and size, and shows images/s over the last minute per class', () => {
    const metrics = new WorkerMetrics(identity, async () => ({ totalBytes: 1, freeBytes: 1, reservedBytes: 0 }));
    metrics.batchRan('gpu-fp16-16g', 8, 8, 400);
    metrics.batchRan('gpu-fp16-16g', 8, 4, 300);
    const now = Date.now();
    expect(metrics.stats(now)).toMatchObject({ images: 12, batches: 2, imagesPerSecond: 0.2, imagesPerSecondByClass: { 'gpu-fp16-16g': 0.2 } });
    expect(metrics.stats(now + 61_000)).toMatchObject({ images: 12, imagesPerSecond: 0, imagesPerSecondByClass: {} });
  });
});
