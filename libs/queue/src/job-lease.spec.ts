import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImageResult, WorkerAdvert } from '#contracts';
import { jobRecord, QueueBench } from '../test/job-fixture.js';
import type { JobDeliveries } from './job-deliveries.js';
import { LeaseLostError, type JobLease } from './job-lease.js';
import { JobRetention } from './job-retention.js';
import { createRedis, scanKeys } from './redis-connection.js';
import { StrandedJobs } from './stranded-jobs.js';
import { WorkerRegistry } from './worker-registry.js';

/** A class queue of its own per test: leases a test leaves behind expire and would be delivered again. */
let classes = 0;
const nextClass = () => `cpu-fp32-t${++classes}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const result = (index: number, workerId: string): ImageResult => ({
  index, boxes: [], precision: 'fp32', precisionSource: 'measured', provider: 'cpu', device: 'cpu', workerId, batchSize: 1, ms: 1,
});

/** Takes the next delivery of `worker` (polling, as the worker loop does), expecting a lease of `jobId`. */
async function leaseOf(worker: JobDeliveries, jobId: string, timeoutMs = 10_000): Promise<JobLease> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const delivery = await worker.next();
    if (delivery && 'lease' in delivery && delivery.lease.jobId === jobId) return delivery.lease;
    if (delivery) throw new Error(`unexpected delivery: ${JSON.stringify('skipped' in delivery ? delivery.skipped : delivery.lease.jobId)}`);
    await sleep(50);
  }
  throw new Error(`no lease of ${jobId} within ${timeoutMs} ms`);
}

describe('the job lease: every transition fenced by the delivery token and its placement (real Redis)', () => {
  const redis = createRedis(inject('redisUrl'));
  let bench: QueueBench;
  const leases: JobLease[] = [];
  const take = async (worker: JobDeliveries, jobId: string) => {
    const lease = await leaseOf(worker, jobId);
    leases.push(lease);
    return lease;
  };
  const record = async (id: string) => (await bench.jobs.get(id))!;

  beforeAll(() => {
    bench = new QueueBench(redis);
  });
  afterEach(() => {
    for (const lease of leases.splice(0)) lease.close();
  });
  afterAll(async () => {
    await bench.close();
    redis.disconnect();
  });

  it('once its lock expired and another worker took the job over, every transition of the old lease is refused and writes nothing', async () => {
    const CLASS = nextClass();
    const job = await bench.submit(jobRecord(CLASS));
    const a = await take(await bench.worker('worker-a', [CLASS]), job.id);
    expect(await a.writeResults([result(0, 'worker-a')])).toEqual({ done: 1 });
    // worker-a stops renewing (paused, cut off): its lock expires and worker-b's stalled check takes the job over.
    a.close();
    const b = await take(await bench.worker('worker-b', [CLASS]), job.id);
    const before = await record(job.id);
    expect(before).toMatchObject({ state: 'running', crashes: 1, activeDelivery: { workerId: 'worker-b' } });

    const attempts: [string, () => Promise<unknown>][] = [
      ['writeResults', () => a.writeResults([result(1, 'worker-a')])],
      ['addEvent', () => a.addEvent(a.event('info', 'from the old lease'))],
      ['flagDrift', () => a.flagDrift(a.event('drift', 'from the old lease'))],
      ['recordRun', () => a.recordRun({ ...job.precision, used: 'fp32' })],
      ['requeue', () => a.requeue({ delayMs: 0, waiting: true })],
      ['reroute', () => a.reroute('gpu-fp32-16g', job.requirement, 'old lease', a.event('reroute', 'old lease'))],
      ['complete', () => a.complete({ peakBytes: 1, predictedPeakBytes: 1, timings: {} })],
      ['fail', () => a.fail({ code: 'fatal', message: 'old lease' })],
      ['cancel', () => a.cancel()],
    ];
    for (const [name, attempt] of attempts) await expect(attempt(), name).rejects.toBeInstanceOf(LeaseLostError);
    const after = await record(job.id);
    expect(after).toEqual(before);
    expect(await bench.jobs.getResults(job.id)).toEqual([result(0, 'worker-a')]);

    // worker-a is running again, so it was never dead: the crash its takeover counted is taken back.
    expect(await a.retractCrash()).toBe(true);
    expect(await a.retractCrash()).toBe(false);
    const retracted = await record(job.id);
    expect(retracted.crashes).toBe(0);
    expect(retracted.events.at(-1)).toMatchObject({ kind: 'takeover', workerId: 'worker-a', message: expect.stringMatching(/was alive.*not counted/) });

    expect(await b.writeResults([1, 2, 3].map((i) => result(i, 'worker-b')))).toEqual({ done: 4 });
    expect(await b.complete({ peakBytes: 1, predictedPeakBytes: 1, timings: { queueMs: 1 } })).toBe('completed');
    expect((await bench.jobs.getResults(job.id)).map((r) => r.workerId)).toEqual(['worker-a', 'worker-b', 'worker-b', 'worker-b']);
  });

  it('does not count a takeover as a crash while the old worker\'s heartbeat goes on past its lock', async () => {
    const CLASS = nextClass();
    const job = await bench.submit(jobRecord(CLASS));
    const a = await take(await bench.worker('worker-c', [CLASS]), job.id);
    a.close();
    // worker-c's lock lapses (say its renewals failed) while its heartbeat keeps its advert fresh.
    const registry = new WorkerRegistry(redis, bench.keys);
    const beat = setInterval(() => void registry.advertise({ workerId: 'worker-c', lastBeatAt: new Date().toISOString() } as WorkerAdvert, 5), 100);
    try {
      await take(await bench.worker('worker-d', [CLASS]), job.id);
    } finally {
      clearInterval(beat);
    }
    const taken = await record(job.id);
    expect(taken.crashes).toBe(0);
    expect(taken.events.at(-1)).toMatchObject({ kind: 'takeover', workerId: 'worker-c', message: expect.stringMatching(/heartbeat goes on: alive, so not a crash/) });
  });

  it('skips a placement re-delivered after the job moved on to another class', async () => {
    const CLASS = nextClass();
    const job = await bench.submit(jobRecord(CLASS));
    const a = await take(await bench.worker('worker-e', [CLASS]), job.id);
    await a.reroute('gpu-fp32-16g', { ...job.requirement, minTierGb: 16 }, 'out of memory at one image', a.event('reroute', 'moved'));
    const moved = await record(job.id);
    expect(moved).toMatchObject({ state: 'queued', className: 'gpu-fp32-16g', placement: 1, requirement: { minTierGb: 16 } });
    expect(moved.placements.map((p) => p.queueJobId)).toEqual([`${job.id}-p0`, `${job.id}-p1`]);

    // The old placement comes back (its worker died between recording the move and ending it): it must not run.
    await bench.queues.place(CLASS, { jobId: job.id, placement: 0 }, 5);
    const stale = await (await bench.worker('worker-f', [CLASS])).next();
    expect(stale).toMatchObject({ skipped: { jobId: job.id, outcome: 'superseded', detail: '1' } });
    expect(await record(job.id)).toEqual(moved);
    // The new placement runs where it was moved.
    const b = await take(await bench.worker('worker-g', ['gpu-fp32-16g']), job.id);
    expect(b.placement).toBe(1);
  });

  it('ends a job cancelled while it ran: results that come after the cancel are not written, and it never completes', async () => {
    const CLASS = nextClass();
    const job = await bench.submit(jobRecord(CLASS, { progress: { done: 0, total: 1 } }));
    const a = await take(await bench.worker('worker-h', [CLASS]), job.id);
    expect(await bench.jobs.requestCancel(job.id)).toBe('running');
    expect(await a.writeResults([result(0, 'worker-h')])).toEqual({ cancelled: true });
    expect(await a.complete({ peakBytes: 1, predictedPeakBytes: 1, timings: {} })).toBe('cancelled');
    expect(await record(job.id)).toMatchObject({ state: 'cancelled', error: { code: 'cancelled' }, progress: { done: 0 } });
    expect(await bench.jobs.getResults(job.id)).toEqual([]);
  });

  it('ends cancelled at the next delivery a job whose worker died after the cancel', async () => {
    const CLASS = nextClass();
    const job = await bench.submit(jobRecord(CLASS));
    const a = await take(await bench.worker('worker-i', [CLASS]), job.id);
    await bench.jobs.requestCancel(job.id);
    a.close();
    const next = await waitForDelivery(await bench.worker('worker-j', [CLASS]));
    expect(next).toMatchObject({ skipped: { jobId: job.id, outcome: 'cancelled' } });
    expect((await record(job.id)).state).toBe('cancelled');
  });

  it('records a job in one step, and a placement its submitter never placed is placed by the outbox sweep', async () => {
    const CLASS = nextClass();
    const job = jobRecord(CLASS, { idempotencyKey: 'order-1' });
    expect(await bench.jobs.create(job, 'request-a')).toEqual({ created: true, id: job.id });
    // The same key again: the first job, and whether the request was the same one.
    expect(await bench.jobs.create(jobRecord(CLASS, { idempotencyKey: 'order-1' }), 'request-a')).toEqual({ created: false, id: job.id, sameRequest: true });
    expect(await bench.jobs.create(jobRecord(CLASS, { idempotencyKey: 'order-1' }), 'request-b')).toEqual({ created: false, id: job.id, sameRequest: false });
    // Its submitter died before placing it: nothing in the queue, but the record and the outbox entry exist.
    expect(await bench.queues.placementsIn(CLASS, 100)).not.toContainEqual(expect.objectContaining({ jobId: job.id }));
    expect(await bench.outbox.drain(Date.now(), 5000)).toEqual([]);
    expect(await bench.outbox.drain(Date.now() + 6000, 5000)).toEqual([job.id]);
    expect(await bench.outbox.drain(Date.now() + 6000, 5000)).toEqual([]);
    await take(await bench.worker('worker-k', [CLASS]), job.id);
  });

  it('moves a job out of a class that lost every worker, or fails it with the reason', async () => {
    const CLASS = nextClass();
    const stranded = new StrandedJobs(redis, bench.keys, bench.queues, bench.jobs, bench.outbox);
    const lonely = 'gpu-fp16-24g';
    const [moving, failing] = [await bench.submit(jobRecord(lonely)), await bench.submit(jobRecord(lonely))];
    const since = await stranded.unserved(new Set([CLASS]), 1000);
    expect(since.get(lonely)).toBe(1000);
    expect((await stranded.unserved(new Set([CLASS]), 5000)).get(lonely)).toBe(1000);
    const found = await stranded.jobsIn(lonely);
    expect(found.map((j) => j.record.id).sort()).toEqual([moving.id, failing.id].sort());
    const [toMove, toFail] = [found.find((j) => j.record.id === moving.id)!, found.find((j) => j.record.id === failing.id)!];
    const at = new Date().toISOString();
    expect(await stranded.move(toMove, 'gpu-fp16-80g', moving.requirement, { at, kind: 'reroute', message: 'stranded' })).toBe(true);
    expect(await stranded.fail(toFail, { code: 'no-capacity', message: 'no worker' }, { at, kind: 'failed', message: 'no-capacity: no worker' })).toBe(true);
    // Done once only: the job changed, so a second sweep leaves it alone.
    expect(await stranded.move(toMove, 'gpu-fp16-80g', moving.requirement, { at, kind: 'reroute', message: 'stranded' })).toBe(false);
    expect(await record(moving.id)).toMatchObject({ state: 'queued', className: 'gpu-fp16-80g', placement: 1 });
    expect(await record(failing.id)).toMatchObject({ state: 'failed', error: { code: 'no-capacity' } });
    await take(await bench.worker('worker-l', ['gpu-fp16-80g']), moving.id);
    expect((await stranded.unserved(new Set([CLASS, lonely]), 9000)).has(lonely)).toBe(false);
  });

  it('retention deletes a finished job and every key Redis kept of it', async () => {
    const CLASS = nextClass();
    const job = await bench.submit(jobRecord(CLASS, { idempotencyKey: 'order-2', progress: { done: 0, total: 1 } }));
    const lease = await take(await bench.worker('worker-m', [CLASS]), job.id);
    await lease.writeResults([result(0, 'worker-m')]);
    await lease.complete({ peakBytes: 1, predictedPeakBytes: 1, timings: {} });
    const retention = new JobRetention(redis, bench.keys, bench.jobs);
    expect(await retention.expired(Date.now() - 60_000)).not.toContain(job.id);
    expect(await retention.expired(Date.now() + 1000)).toContain(job.id);
    expect(await scanKeys(redis, `${bench.keys.job(job.id)}*`)).not.toEqual([]);
    expect(await retention.delete(job.id)).toBe(true);
    expect(await scanKeys(redis, `${bench.keys.job(job.id)}*`)).toEqual([]);
    expect(await bench.jobs.findByIdempotencyKey('test', 'order-2')).toBeUndefined();
    for (const index of [bench.keys.jobsIndex(), bench.keys.jobsFinished(), bench.keys.tenantJobs('test')]) expect(await redis.zscore(index, job.id)).toBeNull();
    // An unfinished job is never deleted.
    const running = await bench.submit(jobRecord(CLASS));
    expect(await retention.delete(running.id)).toBe(false);
    expect((await record(running.id)).state).toBe('queued');
  });
});

async function waitForDelivery(worker: JobDeliveries, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const delivery = await worker.next();
    if (delivery) return delivery;
    await sleep(50);
  }
  throw new Error('no delivery');
}
