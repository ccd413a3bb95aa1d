import { BF16_MIN_COMPUTE_CAPABILITY, VRAM_TIERS_GB } from '#contracts';
import type { DeviceCapability, InsufficientResource, JobRequirement, Precision } from '#contracts';
import { bytesNeeded, describeNeed } from './bytes-needed.js';
import { className, classesServedBy, servesPrecision, tierFor, tierOf, tierThresholdBytes } from './classes.js';
import { deviceLabel } from './device-label.js';
import { fits } from './fits.js';
import { precisionCandidates, type PrecisionCandidate } from './precision-policy.js';
import { formatGb } from './units.js';

/** Where a job goes, and why; or why nowhere, with every reason and its numbers. */
export type RouteDecision =
  | {
      ok: true;
      className: string;
      precision: Precision;
      reason: string;
      /** true when no live worker can serve the class yet: the job waits for capacity to join. */
      waiting: boolean;
    }
  | { ok: false; reasons: InsufficientResource[]; message: string };

/** What one candidate (device kind × precision) found in the fleet. */
interface CandidateOutcome {
  candidate: PrecisionCandidate;
  /** Absent when no class can ever hold the job in this precision (no variant, or beyond the largest tier). */
  className?: string;
  live: DeviceCapability[];
  reasons: InsufficientResource[];
  /** One phrase saying why no live worker serves it (meaningful when `live` is empty). */
  summary: string;
}

/**
 * Maps a job's requirement onto the live fleet: the first precision candidate (in policy order) that some
 * live worker serves wins. When none does, the job either waits on the most preferred class that could
 * exist (`waitForCapacity`) or is refused with one reason per refused device and class.
 */
export function route(
  requirement: JobRequirement,
  fleet: DeviceCapability[],
  opts: { waitForCapacity: boolean },
): RouteDecision {
  const candidates = precisionCandidates(requirement.policy, requirement.allowCpu);
  const outcomes: CandidateOutcome[] = [];
  for (const candidate of candidates) {
    const outcome = evaluate(requirement, candidate, fleet);
    if (outcome.className !== undefined && outcome.live.length > 0) {
      return {
        ok: true,
        className: outcome.className,
        precision: candidate.precision,
        reason: chosenReason(requirement, outcomes, outcome),
        waiting: false,
      };
    }
    outcomes.push(outcome);
  }

  const reasons: InsufficientResource[] = [];
  if (fleet.length === 0) reasons.push({ target: 'fleet', resource: 'workers', reason: 'no live workers are registered' });
  for (const o of outcomes) reasons.push(...o.reasons);
  const cpuRefused = !requirement.allowCpu && fleet.some((d) => d.kind === 'cpu');
  if (cpuRefused) {
    reasons.push({ target: 'cpu', resource: 'device', reason: 'cpu: the job does not allow cpu (allowCpu is false)' });
  }

  const why = fleet.length === 0 ? 'no live workers are registered' : summarize(outcomes);
  const waitOn = outcomes.find((o) => o.className !== undefined);
  if (opts.waitForCapacity && waitOn?.className !== undefined) {
    return {
      ok: true,
      className: waitOn.className,
      precision: waitOn.candidate.precision,
      reason: `${requirement.policy}: waiting for capacity on ${waitOn.className}; no live worker can run it now (${why})`,
      waiting: true,
    };
  }

  const scope =
    candidates.length === 1 ? ` in ${candidateLabel(candidates[0]!)}` : ` (policy ${requirement.policy})`;
  const cpuNote = cpuRefused ? '; cpu workers are not allowed (allowCpu is false)' : '';
  return { ok: false, reasons: dedupe(reasons), message: `no live worker can run ${requirement.model}${scope}: ${why}${cpuNote}` };
}

function evaluate(requirement: JobRequirement, candidate: PrecisionCandidate, fleet: DeviceCapability[]): CandidateOutcome {
  const { device: kind, precision } = candidate;
  const needed = bytesNeeded(requirement, precision);
  const noClass = (target: string, r: Omit<InsufficientResource, 'target'>): CandidateOutcome => ({
    candidate,
    live: [],
    reasons: [{ target, ...r }],
    summary: r.reason,
  });
  if (needed === undefined) {
    return noClass(`${kind}-${precision}`, {
      resource: 'precision',
      reason: `${requirement.model} has no ${precision} variant`,
    });
  }

  let tierGb: number | undefined;
  if (kind === 'gpu') {
    const byMemory = tierFor(needed);
    const largest = VRAM_TIERS_GB[VRAM_TIERS_GB.length - 1];
    if (byMemory === undefined) {
      return noClass(`gpu-${precision}`, {
        resource: 'memory',
        reason: `${describeNeed(requirement, precision, needed)}; more than the largest tier (${largest} GB, ${formatGb(tierThresholdBytes(largest))} usable)`,
        requested: needed,
        available: tierThresholdBytes(largest),
      });
    }
    // minTierGb skips tiers known too small (for example one where a single image already ran out of memory).
    const minTier = requirement.minTierGb ?? 0;
    tierGb = VRAM_TIERS_GB.find((t) => t >= byMemory && t >= minTier);
    if (tierGb === undefined) {
      return noClass(`gpu-${precision}`, {
        resource: 'memory',
        reason: `minTierGb ${minTier} is above the largest tier (${largest} GB)`,
        requested: minTier,
        available: largest,
      });
    }
  }
  const cls = className({ device: kind, precision, tierGb });

  const devices = fleet.filter((d) => d.kind === kind);
  const reasons: InsufficientResource[] = [];
  if (devices.length === 0 && fleet.length > 0) {
    const kinds = [...new Set(fleet.map((d) => d.kind))].join('/');
    reasons.push({ target: cls, resource: 'device', reason: `no live ${kind} worker (the fleet has only ${kinds} workers)` });
  }
  const live: DeviceCapability[] = [];
  for (const device of devices) {
    const refused = fits(requirement, precision, device, cls);
    if (refused.length > 0) {
      reasons.push(...refused);
    } else if (classesServedBy(device).includes(cls)) {
      live.push(device);
    } else {
      // It fits the bytes but sits in a smaller tier than the class: tiers are coarse, or minTierGb skips it.
      const threshold = tierThresholdBytes(tierGb ?? 0);
      reasons.push({
        target: cls,
        resource: 'memory',
        reason: `${deviceLabel(device)} has ${formatGb(device.totalBytes)}: below the ${tierGb} GB tier of ${cls} (${formatGb(threshold)})`,
        requested: threshold,
        available: device.totalBytes,
      });
    }
  }
  return { candidate, className: cls, live, reasons, summary: whyNone(requirement, candidate, needed, tierGb, devices, reasons) };
}

/** One phrase for "why no live worker serves this candidate", with the decisive numbers. */
function whyNone(
  requirement: JobRequirement,
  { device: kind, precision }: PrecisionCandidate,
  needed: number,
  tierGb: number | undefined,
  devices: DeviceCapability[],
  reasons: InsufficientResource[],
): string {
  if (devices.length === 0) return `no live ${kind} worker`;
  const capable = devices.filter((d) => servesPrecision(d, precision));
  if (capable.length === 0) {
    const texts = [...new Set(reasons.filter((r) => r.resource !== 'memory').map((r) => r.reason))];
    return `no live ${kind} worker proved ${precision}${texts.length > 0 ? ` (${texts.join('; ')})` : ''}`;
  }
  const largest = Math.max(...capable.map((d) => d.totalBytes));
  const what = kind === 'gpu' ? 'card' : 'cpu worker';
  if (needed > largest) return `${describeNeed(requirement, precision, needed)}; the largest ${precision} ${what} has ${formatGb(largest)}`;
  // Memory is not what stops it (e.g. the model's variant failed its check, or the cpu is not allowed): say that.
  const other = [...new Set(reasons.filter((r) => r.resource !== 'memory').map((r) => r.reason))];
  if (other.length > 0) return other.join('; ');
  const minTier = requirement.minTierGb !== undefined ? ` (minTierGb ${requirement.minTierGb})` : '';
  return `needs the ${tierGb} GB tier${minTier}; the largest ${precision} card has ${formatGb(largest)} (tier ${tierOf(largest) ?? 'none'})`;
}

function chosenReason(requirement: JobRequirement, skipped: CandidateOutcome[], chosen: CandidateOutcome): string {
  const { precision } = chosen.candidate;
  const cc = chosen.candidate.device === 'gpu' && precision === 'bf16' ? ` with compute capability >= ${BF16_MIN_COMPUTE_CAPABILITY.toFixed(1)}` : '';
  const proven = `${candidateLabel(chosen.candidate)} ${provenOn(chosen.live)}${cc}; class ${chosen.className}`;
  if (skipped.length === 0) return `${requirement.policy}: ${proven}`;
  const before = skipped.map((o) => `no live worker can run ${candidateLabel(o.candidate)} (${o.summary})`).join('; ');
  return `${requirement.policy}: ${before}; ${candidateLabel(chosen.candidate)} chosen: ${proven}`;
}

/**
 * "proven on 2 live worker(s)", "declared (not measured) on 1 live worker(s)": a declared worker's precisions are
 * configuration (tests, development), and the reason says so rather than calling them proven.
 */
function provenOn(live: DeviceCapability[]): string {
  const declared = live.filter((d) => d.source === 'declared').length;
  const proven = live.length - declared;
  const parts = [proven > 0 ? `proven on ${proven}` : '', declared > 0 ? `declared (not measured) on ${declared}` : ''].filter(Boolean);
  return `${parts.join(' and ')} live worker(s)`;
}

function summarize(outcomes: CandidateOutcome[]): string {
  if (outcomes.length === 1) return outcomes[0]!.summary;
  return outcomes.map((o) => `${candidateLabel(o.candidate)}: ${o.summary}`).join('; ');
}

function candidateLabel(c: PrecisionCandidate): string {
  return c.device === 'gpu' ? c.precision : `${c.precision} on cpu`;
}

function dedupe(reasons: InsufficientResource[]): InsufficientResource[] {
  const seen = new Set<string>();
  return reasons.filter((r) => {
    const key = `${r.target}\u0000${r.resource}\u0000${r.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
