import type { InsufficientResource } from '#contracts';
import { formatGb } from './units.js';

export type ReserveResult = { ok: true } | { ok: false; reason: InsufficientResource };

/**
 * In-memory VRAM reservations of the jobs running on one device (one worker process).
 *
 * Semantics: every reservation counts as memory the job may still allocate. A reservation of `bytes`
 * succeeds when `reservedBytes + bytes <= min(totalBytes, freeBytesNow)`, with `freeBytesNow` the free
 * memory the caller measured just now. Memory a running job has already allocated is then counted twice
 * (in its reservation and as missing from free memory): the ledger errs towards admitting less, never
 * towards an OOM. A caller that can measure what its own running jobs hold may add that to
 * `freeBytesNow` to remove the double count. It is the same rule `fitBatchToVram` uses
 * (available = free − reserved).
 */
export class VramLedger {
  private readonly reservations = new Map<string, number>();

  /** @param label names the device in refusal reasons (e.g. the worker id or GPU name). */
  constructor(
    readonly totalBytes: number,
    private readonly label = 'device',
  ) {}

  /** Sum of all reservations. */
  get reservedBytes(): number {
    let sum = 0;
    for (const bytes of this.reservations.values()) sum += bytes;
    return sum;
  }

  /**
   * Reserves `bytes` for `jobId` if they fit (see the class comment). Reserving again for the same job
   * replaces its reservation, checked without counting the old one.
   */
  reserve(jobId: string, bytes: number, freeBytesNow: number): ReserveResult {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`invalid reservation of ${bytes} bytes for ${jobId}`);
    const others = this.reservedBytes - (this.reservations.get(jobId) ?? 0);
    const capacity = Math.min(this.totalBytes, freeBytesNow);
    if (others + bytes > capacity) {
      const available = Math.max(0, capacity - others);
      return {
        ok: false,
        reason: {
          target: this.label,
          resource: 'memory',
          reason: `job ${jobId} needs ${formatGb(bytes)}; ${this.label} has ${formatGb(available)} unreserved (${formatGb(Math.min(this.totalBytes, freeBytesNow))} free - ${formatGb(others)} reserved by ${this.reservations.size - (this.reservations.has(jobId) ? 1 : 0)} other job(s))`,
          requested: bytes,
          available,
        },
      };
    }
    this.reservations.set(jobId, bytes);
    return { ok: true };
  }

  /** Drops a job's reservation; releasing an unknown job is a no-op, so a finally-block can always call it. */
  release(jobId: string): void {
    this.reservations.delete(jobId);
  }

  /**
   * Sets a job's reservation without a capacity check: for shrinking after a smaller batch was chosen,
   * or recording a measured peak. To grow with a check, call `reserve` again. Throws for unknown jobs.
   */
  resize(jobId: string, bytes: number): void {
    if (!this.reservations.has(jobId)) throw new Error(`no reservation for job ${jobId}`);
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`invalid reservation of ${bytes} bytes for ${jobId}`);
    this.reservations.set(jobId, bytes);
  }

  has(jobId: string): boolean {
    return this.reservations.has(jobId);
  }

  /** Current reservations, in the order they were made (for the worker's advert). */
  entries(): { jobId: string; bytes: number }[] {
    return [...this.reservations].map(([jobId, bytes]) => ({ jobId, bytes }));
  }
}
