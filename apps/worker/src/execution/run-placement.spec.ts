import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { FsBlobStore } from '#blobs';
import { OutOfMemoryError, TERMINAL_STATES, TransientError, type DeviceCapability, type ExecutionMeasurement, type JobRecord, type MemoryProfile, type WorkerAdvert } from '#contracts';
import { createLogger, loadConfig, type Config } from '#config';
import { CpuMemory } from '#device';
import { getManifest, memoryPrior, type ModelSession, type SessionCache } from '#inference';
import { createRedis, ProfileRepository, WorkerRegistry, type JobDeliveries, type JobLease } from '#queue';
import { predictBytes, priorProfile, VramLedger } from '#scheduling';
import { jobRecord, QueueBench } from '../../../../libs/queue/test/job-fixture.js';
import type { ExecutorDeps, PlacementOutcome } from './placement-run.js';
import { RunPlacement } from './run-placement.js';

const manifest = getManifest('ppocr-v4-det-640')!;
const CLASS = 'cpu-fp32';
const S = manifest.input.size;
const prior = priorProfile(memoryPrior(manifest), 'fp32', 'cpu', 'cpu', 0.1, '');
/** A device that holds 4.5 images of the model with their margin: one job's batch fits, two jobs' batches do not. */
const CAPACITY = Math.round((prior.fixedBytes + 4.5 * prior.perItemBytes) * 1.1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const MEASURED: ExecutionMeasurement = {
  provider: 'CPUExecutionProvider', flopsShare: { fp32: 1 }, computeNodes: { fp32: 10 }, placement: { CPUExecutionProvider: 100 }, exceptions: [], flops: 1e9,
};

/**
 * Stands in for onnxruntime on a device of CAPACITY bytes: a batch of n images holds what the model's profile
 * says while it runs, and batches that run at once together past the capacity fail out of memory, as a card
 * would. `failures` are thrown by the next runs, one each.
 */
class FakeDevice {
  inFlightBytes = 0;
  peakInFlightBytes = 0;
  runs = 0;
  discarded = 0;
  readonly failures: Error[] = [];

  session(): ModelSession {
    return {
      key: `${manifest.id}|fp32|cpu`, precision: 'fp32', provider: 'cpu', kept: [], inputNames: [manifest.input.name], outputNames: [manifest.output.name],
      measurement: () => MEASURED,
      release: async () => undefined,
      run: async (feeds) => {
        this.runs += 1;
        const failure = this.failures.shift();
        if (failure) throw failure;
        const n = feeds[manifest.input.name]!.dims[0]!;
        const bytes = predictBytes(prior, n);
        this.inFlightBytes += bytes;
        this.peakInFlightBytes = Math.max(this.peakInFlightBytes, this.inFlightBytes);
        try {
          if (this.inFlightBytes > CAPACITY) throw new OutOfMemoryError(`Failed to allocate memory for requested buffer of size ${bytes}`);
          await sleep(40);
          return { [manifest.output.name]: new ort.Tensor('float32', new Float32Array(n * S * S), [n, 1, S, S]) };
        } finally {
          this.inFlightBytes -= bytes;
        }
      },
    };
  }

  /** Session creations that fail, one each, before the session is given. */
  readonly creationFailures: Error[] = [];

  sessions(): SessionCache {
    const session = this.session();
    const get = async () => {
      const failure = this.creationFailures.shift();
      if (failure) throw failure;
      return session;
    };
    return { get, discard: async () => void (this.discarded += 1), loadedModels: () => [] } as unknown as SessionCache;
  }
}

describe('running placements on one device (real Redis, a stand-in for onnxruntime)', () => {
  const redis = createRedis(inject('redisUrl'));
  const blobs = new FsBlobStore(mkdtempSync(join(tmpdir(), 'gpuq-run-')));
  let bench: QueueBench;
  let page: Buffer;

  beforeAll(async () => {
    page = await sharp({ create: { width: 200, height: 80, channels: 3, background: '#ffffff' } }).png().toBuffer();
  });
  // A deployment of its own per test (its own key prefix): what one test leaves in its queue stays there.
  beforeEach(() => {
    bench = new QueueBench(redis);
  });
  afterEach(async () => {
    await bench.close();
  });
  afterAll(() => {
    redis.disconnect();
  });

  /** A worker of this device: its executor, its deliveries of the CPU's class, and its ledger. */
  function worker(fake: FakeDevice, over: { env?: Record<string, string>; device?: Partial<DeviceCapability>; calibrate?: ExecutorDeps['calibrate'] } = {}) {
    const config: Config = loadConfig({ TRANSIENT_BACKOFF_MS: '20', LOG_LEVEL: 'silent', ...over.env });
    const device: DeviceCapability = {
      source: 'probed', kind: 'cpu', provider: 'cpu', totalBytes: CAPACITY, provenPrecisions: ['fp32'], selfTests: [], availableProviders: ['cpu'], ...over.device,
    };
    const ledger = new VramLedger(CAPACITY);
    const workerId = 'test-worker';
    /** What the placements reported to the worker's metrics. */
    const counted = { images: 0, ooms: 0, waits: 0 };
    const deps: ExecutorDeps = {
      config, log: createLogger('test', 'silent'), workerId, device, deviceName: 'cpu', deviceId: 'test-host/cpu', memory: new CpuMemory(CAPACITY), ledger,
      profiles: new ProfileRepository(redis, bench.keys), registry: new WorkerRegistry(redis, bench.keys), blobs, sessions: fake.sessions(),
      calibrate: over.calibrate ?? (async () => { throw new Error('not a GPU'); }), isDraining: () => false, advertiseNow: async () => undefined,
      metrics: {
        batchChosen: () => undefined, batchRan: (_c, _s, images) => void (counted.images += images), oom: () => void counted.ooms++,
        waited: () => void counted.waits++, drift: () => undefined, calibrated: () => undefined,
      },
    };
    return { executor: new RunPlacement(deps), ledger, deliveries: bench.worker(workerId, [CLASS]), counted };
  }

  async function submit(images: number, corrupt: number[] = []): Promise<JobRecord> {
    const record = jobRecord(CLASS, { progress: { done: 0, total: images } });
    for (const image of record.images) await blobs.put(image.blobKey, corrupt.includes(image.index) ? page.subarray(0, 60) : page);
    return bench.submit(record);
  }

  /**
   * The worker loop's part: take deliveries while fewer than `concurrency` run, until every job has finished.
   * Deliveries taken together start together, so jobs race for the memory from their first step.
   */
  async function runUntilFinished(executor: RunPlacement, deliveries: JobDeliveries, jobIds: string[], concurrency = 1): Promise<PlacementOutcome[]> {
    const outcomes: PlacementOutcome[] = [];
    const running = new Set<Promise<void>>();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const states = await bench.jobs.states(jobIds);
      if (states.every((s) => s && TERMINAL_STATES.has(s)) && running.size === 0) return outcomes;
      const taken: JobLease[] = [];
      while (running.size + taken.length < concurrency) {
        const delivery = await deliveries.next();
        if (!delivery) break;
        if ('lease' in delivery) taken.push(delivery.lease);
      }
      for (const lease of taken) {
        const run: Promise<void> = executor.execute(lease).then((o) => void outcomes.push(o)).finally(() => running.delete(run));
        running.add(run);
      }
      if (taken.length === 0) await sleep(20);
    }
    throw new Error(`jobs not finished: ${JSON.stringify(await bench.jobs.states(jobIds))}; outcomes ${outcomes.join(', ')}`);
  }

  it('two jobs racing for one device\'s memory never over-commit it: the second waits for the memory, then completes', async () => {
    const fake = new FakeDevice();
    const { executor, deliveries, counted } = worker(fake);
    const jobs = [await submit(8), await submit(8)];
    const outcomes = await runUntilFinished(executor, await deliveries, jobs.map((j) => j.id), 2);
    expect(fake.peakInFlightBytes).toBeLessThanOrEqual(CAPACITY);
    const records = await Promise.all(jobs.map((j) => bench.jobs.get(j.id)));
    for (const record of records) {
      expect(record, JSON.stringify(record?.events)).toMatchObject({ state: 'completed', progress: { done: 8, total: 8 } });
      expect(record!.events.filter((e) => e.kind === 'oom')).toEqual([]);
      // Every batch was reserved within the device: what all jobs had reserved never passed its capacity.
      for (const batch of record!.events.filter((e) => e.kind === 'batch')) expect(batch.data!.reservedBytes as number).toBeLessThanOrEqual(CAPACITY);
    }
    expect(outcomes).toContain('waiting-for-memory');
    const waits = records.flatMap((r) => r!.events.filter((e) => e.kind === 'wait'));
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits[0]!.message).toMatch(/^not even one image fits: .* \(0\.\d\d GB free - 0\.\d\d GB reserved\); .*\(held by other work\); waiting for memory instead of moving to a larger card$/);
    // The worker's metrics saw it as the records tell it: every image once, the waits, no OOM.
    expect(counted).toMatchObject({ images: 16, ooms: 0 });
    expect(counted.waits).toBeGreaterThanOrEqual(1);
  });

  it('completes the readable images of a job with one corrupt image, and reports that image\'s error', async () => {
    const { executor, deliveries } = worker(new FakeDevice());
    const job = await submit(4, [2]);
    await runUntilFinished(executor, await deliveries, [job.id]);
    const record = (await bench.jobs.get(job.id))!;
    expect(record).toMatchObject({ state: 'completed', progress: { done: 4, total: 4, failed: 1 } });
    const results = await bench.jobs.getResults(job.id);
    expect(results.map((r) => ('error' in r ? 'failed' : 'ok'))).toEqual(['ok', 'ok', 'failed', 'ok']);
    expect(results[2]).toMatchObject({ index: 2, error: { code: 'bad-input', message: expect.stringMatching(/^image 2: .*(decod|png|Input)/i) } });
    expect(record.events.some((e) => /^image 2: .*the other images go on$/.test(e.message))).toBe(true);
  });

  it('fails a job as bad input when not one of its images can be read', async () => {
    const { executor, deliveries } = worker(new FakeDevice());
    const job = await submit(2, [0, 1]);
    await runUntilFinished(executor, await deliveries, [job.id]);
    expect(await bench.jobs.get(job.id)).toMatchObject({ state: 'failed', progress: { done: 2, failed: 2 }, error: { code: 'bad-input', message: expect.stringMatching(/^none of the 2 image\(s\) could be read: image 0/) } });
  });

  it('retries transient errors with a bounded backoff (a lost device gets a new session), then goes on', async () => {
    const fake = new FakeDevice();
    fake.failures.push(new TransientError('Device lost: the GPU was reset'), Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    const { executor, deliveries } = worker(fake);
    const job = await submit(3);
    await runUntilFinished(executor, await deliveries, [job.id]);
    const record = (await bench.jobs.get(job.id))!;
    expect(record.state).toBe('completed');
    const retries = record.events.filter((e) => e.kind === 'retry');
    expect(retries.map((e) => e.data)).toEqual([{ attempt: 1, backoffMs: 20 }, { attempt: 2, backoffMs: 40 }]);
    expect(retries[0]!.message).toMatch(/Device lost.*transient, trying again in 0\.0 s \(retry 1 of 4\)/);
    // The lost device's session was created again; the connection reset left the session alone.
    expect(fake.discarded).toBe(1);
  });

  it('fails a job `transient` once its retries are spent', async () => {
    const fake = new FakeDevice();
    fake.failures.push(...Array.from({ length: 10 }, () => new Error('Connection is closed.')));
    const { executor, deliveries } = worker(fake, { env: { TRANSIENT_RETRIES: '2' } });
    const job = await submit(1);
    await runUntilFinished(executor, await deliveries, [job.id]);
    expect(await bench.jobs.get(job.id)).toMatchObject({ state: 'failed', error: { code: 'transient', message: expect.stringMatching(/^gave up after 3 attempts over 0\.1 s: Connection is closed/) } });
    expect(fake.runs).toBe(3);
  });

  it('runs on the manifest\'s prior when the first calibration on a GPU runs out of memory, and does not calibrate on every job', async () => {
    let calibrations = 0;
    const calibrate = async () => {
      calibrations += 1;
      throw new OutOfMemoryError('calibration of ppocr-v4-det-640 in fp32 measured 0 size(s) (out of memory at 1): need two');
    };
    const gpu = { kind: 'gpu' as const, gpu: { index: 0, uuid: 'GPU-test', name: 'Test GPU', computeCapability: 8, totalBytes: CAPACITY, freeBytes: CAPACITY, driver: 'x' } };
    const { executor, deliveries } = worker(new FakeDevice(), { calibrate, device: gpu });
    const open = await deliveries;
    const first = await submit(2);
    await runUntilFinished(executor, open, [first.id]);
    const record = (await bench.jobs.get(first.id))!;
    expect(record.state, JSON.stringify(record.events)).toBe('completed');
    expect(record.events.some((e) => /^calibration of ppocr-v4-det-640 in fp32 on cpu failed \(.*out of memory at 1.*\); running on the manifest's prior/.test(e.message))).toBe(true);
    const stored = await new ProfileRepository(redis, bench.keys).get(manifest.id, 'fp32', 'cpu', 'test-host/cpu');
    expect(stored).toMatchObject({ source: 'manifest', calibrationError: expect.stringMatching(/out of memory/) } satisfies Partial<MemoryProfile>);
    const second = await submit(2);
    await runUntilFinished(executor, open, [second.id]);
    expect((await bench.jobs.get(second.id))!.state).toBe('completed');
    expect(calibrations).toBe(1);
  });

  it('bounds the hand-on of a job whose variant failed here: after MAX_WAIT_S it fails with the reason', async () => {
    const check = { model: manifest.id, precision: 'fp32' as const, passed: false, error: 'max abs error 0.9 > 0.05' };
    const { executor, deliveries } = worker(new FakeDevice(), { env: { MAX_WAIT_S: '1' }, device: { variantChecks: [check] } });
    // Another live worker serves the class (and its variant passed): the job is left for it, which never takes it.
    await new WorkerRegistry(redis, bench.keys).advertise({ workerId: 'elsewhere', status: 'ready', classes: [CLASS], device: { variantChecks: [] } } as unknown as WorkerAdvert, 60);
    const job = await submit(1);
    const outcomes = await runUntilFinished(executor, await deliveries, [job.id]);
    expect(outcomes).toEqual(['not-for-this-worker', 'failed']);
    const record = (await bench.jobs.get(job.id))!;
    expect(record.error).toMatchObject({ code: 'no-capacity', message: expect.stringMatching(/will not run ppocr-v4-det-640 in fp32: its variant failed the check.*; waited \d+ s \(MAX_WAIT_S=1\)/) });
    expect(record.events.filter((e) => e.kind === 'wait')).toHaveLength(1);
  });

  it('bounds the wait for memory: a job that cannot get its memory for MAX_WAIT_S fails with the numbers', async () => {
    const { executor, ledger, deliveries } = worker(new FakeDevice(), { env: { MAX_WAIT_S: '1' } });
    // Another job holds nearly the whole device for as long as this test runs.
    ledger.reserve('someone-else', CAPACITY - prior.fixedBytes, CAPACITY);
    const job = await submit(2);
    const outcomes = await runUntilFinished(executor, await deliveries, [job.id]);
    expect(outcomes).toEqual(['waiting-for-memory', 'failed']);
    const record = (await bench.jobs.get(job.id))!;
    expect(record.error).toMatchObject({ code: 'out-of-memory', message: expect.stringMatching(/held by other work.*; waited [12] s \(MAX_WAIT_S=1\) without running a batch$/) });
    expect(record.events.filter((e) => e.kind === 'wait')).toHaveLength(1);
  });

  it('a session that runs out of memory while it is created makes the job wait for memory, not fail', async () => {
    const fake = new FakeDevice();
    // As on the H200 with another process holding the card: the variant's trial run failed in the CUDA arena.
    fake.creationFailures.push(new OutOfMemoryError("Non-zero status code returned while running Clip node. Name:'p2o.Clip.2' Status Message: bfc_arena.cc:359 Failed to allocate memory for requested buffer of size 3276800"));
    const { executor, deliveries, counted } = worker(fake);
    const job = await submit(2);
    const outcomes = await runUntilFinished(executor, await deliveries, [job.id]);
    expect(outcomes).toEqual(['waiting-for-memory', 'completed']);
    const record = (await bench.jobs.get(job.id))!;
    expect(record.state).toBe('completed');
    expect(record.events.find((e) => e.kind === 'wait')?.message).toMatch(/out of memory creating the model's session: .*Failed to allocate memory/);
    expect(counted.ooms).toBe(1);
  });
});
