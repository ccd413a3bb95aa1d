import type { ExecutionMeasurement, PrecisionSource } from '#contracts';
import { executionSummary } from '#inference';
import { judgeExecution, type DriftCheck } from '#scheduling';
import type { PlacementOutcome, PlacementRun } from './placement-run.js';

/**
 * Judges what the session was measured to compute in (onnxruntime's profile of its first run) against the
 * precision this worker runs the job in. Kept: the measurement is recorded on the job with the precision used.
 * Broken: the job fails `precision-mismatch` with the figures (and the memory drift, when the batch drifted
 * too), and this worker stops advertising the model in that precision, so no later job is routed here for it.
 */
export async function holdPromise(run: PlacementRun, drift: DriftCheck | undefined): Promise<{ outcome: PlacementOutcome } | { measured: ExecutionMeasurement }> {
  const { deps, record, executed } = run;
  const measured = run.session.measurement();
  const source: PrecisionSource = deps.device.source === 'declared' ? 'declared' : 'measured';
  if (!measured) return { outcome: await run.fail('fatal', `onnxruntime gave no profile of the session's run: the precision ${executed} cannot be confirmed`) };
  const verdict = judgeExecution(executed, measured, deps.config.PRECISION_MIN_SHARE);
  if (!verdict.ok) {
    const why = `promised ${record.precision.promised}; ${verdict.message}${drift?.drifted ? `; and ${drift.message}` : ''}`;
    withdraw(run, verdict.message, measured);
    await run.lease.recordRun({ ...record.precision, provider: deps.device.provider, source, measured });
    return { outcome: await run.fail('precision-mismatch', why) };
  }
  const declaredNote = source === 'declared' ? `; declared device ${deps.deviceName}: computed in fp32 on the CPU provider` : '';
  await run.lease.recordRun({ ...record.precision, reason: `${record.precision.reason}${declaredNote}`, used: executed, provider: deps.device.provider, source, measured });
  await run.lease.addEvent(run.event('info', `${source === 'declared' ? 'declared device; ' : ''}ran in ${executed}: ${verdict.message}`, { share: verdict.share }));
  return { measured };
}

/** This worker no longer serves (model, precision): its next heartbeat says so, and routing sends such jobs elsewhere. */
function withdraw(run: PlacementRun, why: string, measured: ExecutionMeasurement): void {
  const { device, log } = run.deps;
  const { model } = run.record;
  const precision = run.executed;
  const check = { model, precision, passed: false, error: why, measured: executionSummary(measured) };
  device.variantChecks = [...(device.variantChecks ?? []).filter((c) => !(c.model === model && c.precision === precision)), check];
  log.error({ jobId: run.jobId, model, precision, why }, 'precision promise broken: no longer advertising this model in this precision');
  void run.deps.advertiseNow().catch((err) => log.warn({ err: String(err) }, 'could not advertise the withdrawal now; the next heartbeat will'));
}
