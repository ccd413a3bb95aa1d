import type { Job } from 'bullmq';
import type { BlobStore } from '#blobs';
import type { DeviceCapability, ExecutionMeasurement, ImageRef, ImageResult, JobEvent, JobRecord, MemoryProfile, Precision, PrecisionSource } from '#contracts';
import type { Config, Logger } from '#config';
import { detectBatch, executionSummary, getManifest, type ModelManifest, type ModelSession, type SessionCache } from '#inference';
import { jobDoc, type ClassQueues, type JobRecordRepository, type PlacementData, type ProfileRepository, type WorkerRegistry } from '#queue';
import {
  classifyError, decideAfterOom, detectDrift, judgeExecution, withMargin, fitBatchToVram, formatGb, largerClasses, lowerProfileAfterOom, parseClassName, variantCheckOf,
  type DriftCheck, type VramLedger,
} from '#scheduling';
import { calibrateModel, type DeviceMemory } from '#device';
import { ImagePrefetcher } from './image-prefetcher.js';
import { loadProfile } from './profile-source.js';

export interface ExecutorDeps {
  config: Config;
  log: Logger;
  workerId: string;
  device: DeviceCapability;
  deviceName: string;
  memory: DeviceMemory;
  ledger: VramLedger;
  jobs: JobRecordRepository;
  queues: ClassQueues;
  profiles: ProfileRepository;
  registry: WorkerRegistry;
  blobs: BlobStore;
  sessions: SessionCache;
  /** True once SIGTERM arrived: finish the current micro-batch, then hand the job back. */
  isDraining: () => boolean;
  /** Publishes the worker's advert now (after the device's capability changed), not at the next heartbeat. */
  advertiseNow: () => Promise<void>;
}

/** How a delivery ended, for the worker loop's log and the BullMQ placement. */
export type PlacementOutcome =
  | 'completed' | 'failed' | 'cancelled' | 'rerouted' | 'released' | 'waiting-for-memory' | 'not-for-this-worker' | 'skipped' | 'fenced-off';

/** How long a placement this worker may not run waits before it is offered again (to any worker). */
const VARIANT_RETRY_MS = 5000;

/** Ends a delivery early: the job was fenced off (another worker owns it now). */
class LostOwnership extends Error {}

/**
 * Runs one placement of a job on this worker's device: micro-batches sized to free memory, results
 * written per batch (exactly once, fenced), OOMs turned into smaller batches or a move to a larger class.
 */
export class RunPlacement {
  constructor(private readonly deps: ExecutorDeps) {}

  async execute(placement: Job<PlacementData>, token: string): Promise<PlacementOutcome> {
    const { jobs, config, workerId, log } = this.deps;
    const { jobId } = placement.data;
    const delivery = await jobs.beginDelivery(jobId, workerId, token, config.MAX_CRASHES);
    if (delivery.outcome !== 'ok') {
      log.warn({ jobId, ...delivery }, `placement not run: ${delivery.outcome}`);
      await placement.moveToCompleted({ outcome: delivery.outcome }, token, false);
      return delivery.outcome === 'poison' ? 'failed' : 'skipped';
    }
    const lockTimer = setInterval(() => placement.extendLock(token, config.LOCK_MS).catch(() => undefined), Math.max(500, config.LOCK_MS / 3));
    try {
      const outcome = await this.run(placement, token);
      // A placement handed back (drain) or delayed (waiting for memory) is in its queue again, not ours to complete.
      const handedBack = outcome === 'released' || outcome === 'waiting-for-memory' || outcome === 'not-for-this-worker';
      if (!handedBack) await placement.moveToCompleted({ outcome }, token, false).catch((err) => log.warn({ jobId, err: String(err) }, 'could not complete placement'));
      return outcome;
    } catch (err) {
      if (err instanceof LostOwnership) {
        log.warn({ jobId }, 'lost ownership of the job (lock expired and it moved on); stopping without writing');
        return 'fenced-off';
      }
      // Anything unexpected: fail the job with the message rather than re-deliver it forever.
      const message = err instanceof Error ? err.message : String(err);
      log.error({ jobId, err: message }, 'job failed');
      // Only the delivery that still owns the job may end it, and only that one tells why in the events.
      if (await jobs.fencedUpdate(jobId, token, this.terminal('failed', { code: 'fatal', message }), true)) {
        await jobs.addEvent(jobId, this.event('failed', `fatal: ${message}`)).catch(() => undefined);
      }
      await placement.moveToFailed(new Error(message), token, false).catch(() => undefined);
      return 'failed';
    } finally {
      clearInterval(lockTimer);
      this.deps.ledger.release(jobId);
    }
  }

  private async run(placement: Job<PlacementData>, token: string): Promise<PlacementOutcome> {
    const deps = this.deps;
    const { jobs, device } = deps;
    const jobId = placement.data.jobId;
    const record = (await jobs.get(jobId))!;
    const manifest = getManifest(record.model);
    if (!manifest) return this.fail(record, token, 'fatal', `model ${record.model} is not installed on this worker`);
    const cls = parseClassName(placement.queueName);
    const precision = record.precision.promised;
    // The promise is checked, never bent: a worker runs a job only in the precision the job was promised.
    if (cls.precision !== precision || !device.provenPrecisions.includes(precision)) {
      return this.fail(record, token, 'fatal', `worker ${deps.workerId} cannot run ${precision} (proven: ${device.provenPrecisions.join(', ')}); refusing to change precision silently`);
    }
    // This device's check of the model's variant failed: another worker (where it passed) must run it.
    const check = variantCheckOf(device, record.model, precision);
    if (check && !check.passed) {
      // Handed on only while some other live worker could take it; else it would circle between queue and here.
      const others = (await deps.registry.list()).filter((w) => w.status === 'ready' && w.workerId !== deps.workerId
        && w.classes.includes(placement.queueName) && variantCheckOf(w.device, record.model, precision)?.passed !== false);
      if (others.length === 0 && !record.waitForCapacity) {
        return this.fail(record, token, 'no-capacity', `no live worker can run ${record.model} in ${precision}: on ${deps.workerId} its variant failed (${check.error ?? 'check failed'}), and no other live worker serves ${placement.queueName}`);
      }
      const last = record.events.at(-1);
      if (last?.data?.reason !== 'variant-check') {
        await jobs.addEvent(jobId, this.event('info', `${deps.workerId} will not run ${record.model} in ${precision}: its variant failed the check against fp32 here; left for a worker where it passed`, { reason: 'variant-check' }));
      }
      return this.postpone(placement, record, token, VARIANT_RETRY_MS, 'not-for-this-worker');
    }
    // A declared device computes fp32 on the CPU provider; that is what its runs are measured against.
    const executed = device.source === 'declared' ? 'fp32' : precision;
    const session = await deps.sessions.get(manifest, executed, device.provider);
    const memory = deps.memory.forSession(session.key);
    let profile = await loadProfile(deps.profiles, manifest, precision, device.provider, deps.deviceName, deps.config.MEMORY_MARGIN);
    if (profile.source === 'manifest' && deps.config.AUTO_CALIBRATE && device.kind === 'gpu' && device.source === 'probed') {
      profile = await this.calibrateFirst(record, manifest, precision);
    }
    const done = await jobs.doneIndexes(jobId);
    let remaining = record.images.filter((i) => !done.has(i.index));
    const prefetcher = new ImagePrefetcher(deps.blobs, manifest);
    const started = performance.now();
    let inferenceMs = 0;
    let peakBytes = record.peakBytes ?? 0;
    let predictedPeak = 0;
    let lastBatch = 0;
    let measured: ExecutionMeasurement | undefined;

    try {
      while (remaining.length > 0) {
        if (await jobs.isCancelRequested(jobId)) return this.cancelled(record, token);
        if (deps.isDraining()) return this.release(placement, record, token, 'worker draining (SIGTERM): job handed back after its last finished micro-batch');

        const available = await memory.availableBytes();
        const fit = fitBatchToVram({
          profile, freeBytes: available, reservedBytes: deps.ledger.reservedBytes - this.reservedFor(jobId),
          remainingImages: remaining.length, maxBatch: manifest.maxBatch, throughput: throughputOf(profile),
        });
        if (fit.batchSize === 0) {
          // Nothing ran, so nothing was learned: the profile stays; only the decision (reroute or fail) matters.
          const { outcome } = await this.onOom(placement, record, token, 1, remaining.length, profile, available, `not even one image fits: ${fit.why}`, false);
          if (outcome) return outcome;
          continue;
        }
        if (fit.batchSize !== lastBatch) {
          await jobs.addEvent(jobId, this.event('batch', `micro-batch ${fit.batchSize}: ${fit.why}`, { batchSize: fit.batchSize, availableBytes: available }));
          lastBatch = fit.batchSize;
        }
        deps.ledger.reserve(jobId, withMargin(fit.predictedBytes, profile.marginFraction), available + this.reservedFor(jobId));
        const batch = remaining.slice(0, fit.batchSize);
        prefetcher.prefetch(remaining.slice(fit.batchSize, fit.batchSize * 2));
        try {
          const inputs = await prefetcher.take(batch);
          const { result, peakBytes: batchPeak, growthBytes } = await memory.track(() => detectBatch(session, manifest, inputs), { settle: false });
          inferenceMs += result.inferenceMs;
          peakBytes = Math.max(peakBytes, batchPeak);
          predictedPeak = Math.max(predictedPeak, fit.predictedBytes);
          // Judged on what the batch added: memory held from earlier (larger) runs is not this batch's drift.
          const drift = await this.checkDrift(record, fit.predictedBytes, growthBytes, fit.batchSize);
          if (!measured) {
            // Before the first results are written: a run that did not compute in the promised precision is never reported as one.
            const held = await this.holdPromise(record, token, session, executed, drift);
            if ('outcome' in held) return held.outcome;
            measured = held.measured;
          }
          await this.writeResults(record, token, batch, result.boxes, executed, fit.batchSize, result.inferenceMs, measured);
          remaining = remaining.slice(batch.length);
        } catch (err) {
          if (err instanceof LostOwnership) throw err;
          const kind = classifyError(err);
          if (kind.kind === 'oom') {
            const msg = `out of memory at micro-batch ${fit.batchSize}: ${kind.message.slice(0, 300)}`;
            const after = await this.onOom(placement, record, token, fit.batchSize, remaining.length, profile, available, msg, true);
            if (after.outcome) return after.outcome;
            profile = after.profile;
            continue;
          }
          if (kind.kind === 'bad-input') return this.fail(record, token, 'bad-input', kind.message);
          throw err;
        } finally {
          deps.ledger.release(jobId);
        }
      }
    } finally {
      prefetcher.clear();
    }

    const runMs = performance.now() - started;
    const timings = {
      queueMs: record.startedAt ? undefined : Date.now() - Date.parse(record.createdAt),
      runMs: Math.round(runMs), inferenceMs: Math.round(inferenceMs), preprocessMs: Math.round(prefetcher.totalPreprocessMs),
      imagesPerSecond: Number((record.images.length / (runMs / 1000)).toFixed(2)),
    };
    await this.fenced(jobId, token, {
      ...this.terminal('completed'), peakBytes: Math.round(peakBytes), predictedPeakBytes: Math.round(predictedPeak), timings: JSON.stringify(timings),
    }, true);
    deps.log.info({ jobId, images: record.images.length, ...timings, peakBytes }, 'job completed');
    return 'completed';
  }

  /** The first job of a model on this GPU calibrates its memory profile; every later job reuses it. */
  private async calibrateFirst(record: JobRecord, manifest: ModelManifest, precision: Precision): Promise<MemoryProfile> {
    const deps = this.deps;
    const report = await calibrateModel({
      manifest, precision, device: deps.device, deviceName: deps.deviceName, sessions: deps.sessions, memory: deps.memory,
      minMarginFraction: deps.config.MEMORY_MARGIN_MIN,
    });
    await deps.profiles.put(report.profile);
    const summary = `calibrated ${manifest.id} in ${precision} on ${deps.deviceName}: ${formatGb(report.profile.fixedBytes)} + ${formatGb(report.profile.perItemBytes)} per image `
      + `(batches ${report.points.map((p) => p.batch).join(', ')}; r² ${report.r2.toFixed(3)}; best ${report.bestImagesPerSecond.toFixed(1)} images/s at ${report.bestBatch})`;
    await deps.jobs.addEvent(record.id, this.event('info', summary));
    deps.log.info({ model: manifest.id, precision, profile: report.profile }, 'calibrated');
    return report.profile;
  }

  /**
   * Judges what the session was measured to compute in (onnxruntime's profile of its first run) against the
   * precision this worker runs the job in. Kept: the measurement is recorded on the job with the precision used.
   * Broken: the job fails `precision-mismatch` with the figures (and the memory drift, when the batch drifted
   * too), and this worker stops advertising the model in that precision, so no later job is routed here for it.
   */
  private async holdPromise(record: JobRecord, token: string, session: ModelSession, executed: Precision, drift: DriftCheck | undefined):
    Promise<{ outcome: PlacementOutcome } | { measured: ExecutionMeasurement }> {
    const deps = this.deps;
    const measured = session.measurement();
    const source: PrecisionSource = deps.device.source === 'declared' ? 'declared' : 'measured';
    if (!measured) return { outcome: await this.fail(record, token, 'fatal', `onnxruntime gave no profile of the session's run: the precision ${executed} cannot be confirmed`) };
    const verdict = judgeExecution(executed, measured, deps.config.PRECISION_MIN_SHARE);
    if (!verdict.ok) {
      const why = `promised ${record.precision.promised}; ${verdict.message}${drift?.drifted ? `; and ${drift.message}` : ''}`;
      this.withdraw(record.model, executed, verdict.message, measured);
      await this.fenced(record.id, token, { precision: JSON.stringify({ ...record.precision, provider: deps.device.provider, source, measured }) });
      return { outcome: await this.fail(record, token, 'precision-mismatch', why) };
    }
    const declaredNote = source === 'declared' ? `; declared device ${deps.deviceName}: computed in fp32 on the CPU provider` : '';
    await this.fenced(record.id, token, {
      precision: JSON.stringify({ ...record.precision, reason: `${record.precision.reason}${declaredNote}`, used: executed, provider: deps.device.provider, source, measured }),
    });
    await deps.jobs.addEvent(record.id, this.event('info', `${source === 'declared' ? 'declared device; ' : ''}ran in ${executed}: ${verdict.message}`, { share: verdict.share }));
    return { measured };
  }

  /** This worker no longer serves (model, precision): its next heartbeat says so, and routing sends such jobs elsewhere. */
  private withdraw(model: string, precision: Precision, why: string, measured: ExecutionMeasurement): void {
    const device = this.deps.device;
    const check = { model, precision, passed: false, error: why, measured: executionSummary(measured) };
    device.variantChecks = [...(device.variantChecks ?? []).filter((c) => !(c.model === model && c.precision === precision)), check];
    this.deps.log.error({ model, precision, why }, 'precision promise broken: no longer advertising this model in this precision');
    void this.deps.advertiseNow().catch((err) => this.deps.log.warn({ err: String(err) }, 'could not advertise the withdrawal now; the next heartbeat will'));
  }

  /**
   * After an OOM: retry smaller (returns the lowered profile to fit the next batch with), or move the job to
   * a larger class, or fail it. When a batch really ran out (`measured`), the stored profile for this device
   * is lowered and capped at the retry size (at least a halving), so the next job starts below the failure too.
   */
  private async onOom(placement: Job<PlacementData>, record: JobRecord, token: string, batchSize: number, remainingImages: number,
    profile: MemoryProfile, available: number, message: string, measured: boolean): Promise<{ outcome?: PlacementOutcome; profile: MemoryProfile }> {
    const lowered = measured ? lowerProfileAfterOom(profile, batchSize, available, new Date().toISOString()) : profile;
    const decision = decideAfterOom({
      className: placement.queueName, batchSize, remainingImages, separable: record.requirement.separable, profile: lowered,
      availableBytes: available, capacityBytes: this.deps.device.totalBytes,
    });
    const next = decision.action === 'retry' ? { ...lowered, capBatch: Math.min(lowered.capBatch ?? decision.batchSize, decision.batchSize) } : lowered;
    if (measured) await this.deps.profiles.put(next);
    // A job that keeps waiting for memory logs that once, not every back-off.
    const last = record.events.at(-1);
    const repeatWait = decision.action === 'wait' && last?.kind === 'oom' && last.data?.action === 'wait';
    if (!repeatWait) await this.deps.jobs.addEvent(record.id, this.event('oom', `${message}; ${decision.why}`, { batchSize, availableBytes: available, action: decision.action }));
    this.deps.log.warn({ jobId: record.id, batchSize, available, decision }, 'out of memory');
    if (decision.action === 'retry') return { profile: next };
    if (decision.action === 'wait') return { outcome: await this.postpone(placement, record, token, decision.retryAfterMs, 'waiting-for-memory'), profile: next };
    if (decision.action === 'fail') return { outcome: await this.fail(record, token, 'out-of-memory', `${message}; ${decision.why}`), profile: next };
    return { outcome: await this.reroute(placement, record, token, decision.toClassName, `${message}; ${decision.why}`), profile: next };
  }

  /** Moves the job to a larger class: a new placement, finished images kept, the user's job id unchanged. */
  private async reroute(placement: Job<PlacementData>, record: JobRecord, token: string, nextLarger: string, why: string): Promise<PlacementOutcome> {
    const { jobs, queues } = this.deps;
    // The next larger class some live worker serves; with none, the job fails with the numbers (or waits, if asked to).
    const live = (await this.deps.registry.list()).filter((w) => w.status === 'ready');
    const served = [nextLarger, ...largerClasses(nextLarger)].find((c) => live.some((w) => w.classes.includes(c)));
    if (!served && !record.waitForCapacity) {
      return this.fail(record, token, 'out-of-memory', `${why}; no live worker serves ${nextLarger} or any larger class`);
    }
    const toClassName = served ?? nextLarger;
    const next = record.placements.length;
    const minTierGb = parseClassName(toClassName).tierGb;
    const requirement = { ...record.requirement, minTierGb };
    const ok = await jobs.fencedUpdate(record.id, token, { state: 'queued', className: toClassName, doc: JSON.stringify({ ...jobDoc(record), requirement }) }, true);
    if (!ok) throw new LostOwnership();
    const queueJobId = await queues.place(toClassName, { jobId: record.id, placement: next }, record.priority);
    await jobs.addPlacement(record.id, { className: toClassName, queueJobId, at: new Date().toISOString(), reason: why, workerId: this.deps.workerId });
    await jobs.addEvent(record.id, this.event('reroute', `moved from ${placement.queueName} to ${toClassName}: ${why}`));
    return 'rerouted';
  }

  /**
   * Not now or not here (memory held by other work; a model this worker may not run in that precision): end the
   * delivery cleanly and put the placement back after a pause, for this or any worker.
   */
  private async postpone(placement: Job<PlacementData>, record: JobRecord, token: string, delayMs: number, outcome: PlacementOutcome): Promise<PlacementOutcome> {
    await this.fenced(record.id, token, { state: 'queued' }, true);
    await placement.moveToDelayed(Date.now() + delayMs, token);
    return outcome;
  }

  /** Drain: end the delivery cleanly (not a crash) and put the placement back in its queue for another worker. */
  private async release(placement: Job<PlacementData>, record: JobRecord, token: string, why: string): Promise<PlacementOutcome> {
    await this.fenced(record.id, token, { state: 'queued' }, true);
    await this.deps.jobs.addEvent(record.id, this.event('drain', why));
    await placement.moveToWait(token);
    return 'released';
  }

  private async cancelled(record: JobRecord, token: string): Promise<PlacementOutcome> {
    await this.fenced(record.id, token, this.terminal('cancelled', { code: 'cancelled', message: 'cancelled by the client; finished images are kept' }), true);
    return 'cancelled';
  }

  private async fail(record: JobRecord, token: string, code: 'bad-input' | 'out-of-memory' | 'fatal' | 'precision-mismatch' | 'no-capacity', message: string): Promise<PlacementOutcome> {
    await this.fenced(record.id, token, this.terminal('failed', { code, message }), true);
    // The event too, so the job's timeline ends with why it stopped, next to the batches and OOMs before it.
    await this.deps.jobs.addEvent(record.id, this.event('failed', `${code}: ${message}`));
    this.deps.log.warn({ jobId: record.id, code, message }, 'job failed');
    return 'failed';
  }

  private async writeResults(record: JobRecord, token: string, batch: ImageRef[], boxes: ImageResult['boxes'][], executed: ImageResult['precision'], batchSize: number, ms: number,
    measured: ExecutionMeasurement) {
    const precisionSource: PrecisionSource = this.deps.device.source === 'declared' ? 'declared' : 'measured';
    const summary = executionSummary(measured);
    const results: ImageResult[] = batch.map((image, i) => ({
      index: image.index, filename: image.filename, boxes: boxes[i]!, precision: executed, precisionSource, measured: summary, provider: this.deps.device.provider,
      device: this.deps.deviceName, workerId: this.deps.workerId, batchSize, ms: Math.round(ms),
    }));
    const done = await this.deps.jobs.writeResults(record.id, token, results);
    if (done < 0) throw new LostOwnership();
  }

  private async checkDrift(record: JobRecord, predicted: number, measured: number, batchSize: number): Promise<DriftCheck | undefined> {
    if (predicted <= 0 || measured <= 0) return undefined;
    const drift = detectDrift(predicted, measured, this.deps.config.DRIFT_FACTOR);
    if (!drift.drifted) return drift;
    await this.deps.jobs.update(record.id, { drift: '1' });
    await this.deps.jobs.addEvent(record.id, this.event('drift', `precision drift at batch ${batchSize}: ${drift.message}`, { predicted, measured }));
    this.deps.log.warn({ jobId: record.id, predicted: formatGb(predicted), measured: formatGb(measured), ratio: drift.ratio }, 'precision drift');
    return drift;
  }

  private reservedFor(jobId: string): number {
    return this.deps.ledger.entries().find((e) => e.jobId === jobId)?.bytes ?? 0;
  }

  private terminal(state: 'completed' | 'failed' | 'cancelled', error?: { code: string; message: string }): Record<string, string> {
    return { state, finishedAt: new Date().toISOString(), ...(error ? { error: JSON.stringify(error) } : {}) };
  }

  private async fenced(jobId: string, token: string, fields: Record<string, string | number>, end = false): Promise<void> {
    if (!(await this.deps.jobs.fencedUpdate(jobId, token, fields, end))) throw new LostOwnership();
  }

  private event(kind: JobEvent['kind'], message: string, data?: Record<string, unknown>): JobEvent {
    return { at: new Date().toISOString(), kind, message, workerId: this.deps.workerId, data };
  }
}

/** Measured images/s per batch size, from the profile's calibration points. */
function throughputOf(profile: MemoryProfile) {
  return profile.points.filter((p) => p.ms && p.ms > 0).map((p) => ({ batch: p.batch, imagesPerSecond: (p.batch * 1000) / p.ms! }));
}


