import { getManifest, type ModelManifest } from '#inference';
import type { JobLease } from '#queue';
import { parseClassName, variantCheckOf } from '#scheduling';
import { handBack } from './hand-back.js';
import type { ExecutorDeps, PlacementOutcome } from './placement-run.js';

/** How long a placement this worker may not run waits before it is offered again (to any worker). */
const VARIANT_RETRY_MS = 5000;

/**
 * Whether this worker may run the job at all: the model is installed, the precision is the one the job was
 * promised and this device proved it, and the model's variant passed its check here. Returns the manifest, or
 * how the delivery ended (failed, or handed on to a worker where the variant passed).
 */
export async function admit(deps: ExecutorDeps, lease: JobLease): Promise<{ manifest: ModelManifest } | { outcome: PlacementOutcome }> {
  const { device, workerId } = deps;
  const { record } = lease;
  const fail = async (code: 'fatal' | 'no-capacity', message: string) => {
    await lease.fail({ code, message });
    deps.log.warn({ jobId: lease.jobId, code, message }, 'job failed');
    return { outcome: 'failed' as const };
  };
  const manifest = getManifest(record.model);
  if (!manifest) return fail('fatal', `model ${record.model} is not installed on this worker`);
  const precision = record.precision.promised;
  // The promise is checked, never bent: a worker runs a job only in the precision the job was promised.
  if (parseClassName(lease.className).precision !== precision || !device.provenPrecisions.includes(precision)) {
    return fail('fatal', `worker ${workerId} cannot run ${precision} (proven: ${device.provenPrecisions.join(', ')}); refusing to change precision silently`);
  }
  const check = variantCheckOf(device, record.model, precision);
  if (!check || check.passed) return { manifest };
  // Handed on only while some other live worker could take it; else it would circle between queue and here.
  const others = (await deps.registry.list()).filter((w) => w.status === 'ready' && w.workerId !== workerId
    && w.classes.includes(lease.className) && variantCheckOf(w.device, record.model, precision)?.passed !== false);
  if (others.length === 0 && !record.waitForCapacity) {
    return fail('no-capacity', `no live worker can run ${record.model} in ${precision}: on ${workerId} its variant failed (${check.error ?? 'check failed'}), and no other live worker serves ${lease.className}`);
  }
  return {
    outcome: await handBack(deps, lease, {
      why: `${workerId} will not run ${record.model} in ${precision}: its variant failed the check against fp32 here; left for a worker where it passed`,
      delayMs: VARIANT_RETRY_MS, outcome: 'not-for-this-worker', failWith: 'no-capacity', reason: 'variant-check',
    }),
  };
}
