import type { DeviceCapability, InsufficientResource, JobRequirement, Precision } from '#contracts';
import { route } from './route.js';

export interface StrandedInput {
  /** The class the job is queued in, which no live worker serves. */
  className: string;
  requirement: JobRequirement;
  /** The precision the job was promised: a move never changes it. */
  promised: Precision;
  waitForCapacity: boolean;
  /** How long the class has had no live worker. */
  unservedForMs: number;
  /** How long a job waits in an unserved class before it is moved or failed (STRANDED_AFTER_S). */
  strandedAfterMs: number;
  /** How long a job submitted with waitForCapacity waits for a worker to join (CAPACITY_WAIT_S). */
  capacityWaitMs: number;
  /** Devices of the live workers. */
  fleet: DeviceCapability[];
}

export type StrandedDecision =
  | { action: 'keep' }
  | { action: 'move'; toClassName: string; why: string }
  | { action: 'fail'; reasons: InsufficientResource[]; why: string };

/**
 * What to do with a job whose class lost every worker: nothing yet (within the bound, a restarted worker takes
 * it); move it to a class a live worker serves in the precision it was promised; or, where none does, fail it
 * with the reasons, unless it was submitted to wait for capacity (then it waits up to its own, longer bound).
 */
export function decideStranded(input: StrandedInput): StrandedDecision {
  const { className, unservedForMs } = input;
  if (unservedForMs < input.strandedAfterMs) return { action: 'keep' };
  const seconds = Math.round(unservedForMs / 1000);
  const decision = route({ ...input.requirement, policy: input.promised }, input.fleet, { waitForCapacity: false });
  if (decision.ok) {
    // The same class: a worker serves it after all (it joined since the fleet was read).
    if (decision.className === className) return { action: 'keep' };
    return { action: 'move', toClassName: decision.className, why: `no live worker has served ${className} for ${seconds} s; moved to ${decision.className}: ${decision.reason}` };
  }
  if (input.waitForCapacity && unservedForMs < input.capacityWaitMs) return { action: 'keep' };
  const bound = input.waitForCapacity ? `waited for capacity ${seconds} s (CAPACITY_WAIT_S=${Math.round(input.capacityWaitMs / 1000)})` : `no live worker has served ${className} for ${seconds} s`;
  return { action: 'fail', reasons: decision.reasons, why: `${bound}, and no other class can take it in ${input.promised}: ${decision.message}` };
}
