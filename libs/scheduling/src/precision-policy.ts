import type { DeviceKind, Precision, PrecisionPolicy } from '#contracts';

/** One way to run a job: a device kind and a precision. */
export interface PrecisionCandidate {
  device: DeviceKind;
  precision: Precision;
}

/**
 * The (device, precision) pairs a policy may use, in preference order.
 *
 * - `auto`: gpu bf16, gpu fp16; and only when the client allows the last resort (`allowCpu`), gpu fp32
 *   then cpu fp32. fp32 doubles memory and is much slower, so auto never falls to it unasked.
 * - `bf16`: gpu bf16 only (no CPU fallback: CPU bf16 is emulated and would break the promise's point).
 * - `fp16` / `fp32`: that precision on a GPU, then on the CPU when `allowCpu`.
 */
export function precisionCandidates(policy: PrecisionPolicy, allowCpu: boolean): PrecisionCandidate[] {
  switch (policy) {
    case 'auto':
      return [
        { device: 'gpu', precision: 'bf16' },
        { device: 'gpu', precision: 'fp16' },
        ...(allowCpu
          ? ([
              { device: 'gpu', precision: 'fp32' },
              { device: 'cpu', precision: 'fp32' },
            ] as const)
          : []),
      ];
    case 'bf16':
      return [{ device: 'gpu', precision: 'bf16' }];
    case 'fp16':
    case 'fp32':
      return [
        { device: 'gpu', precision: policy },
        ...(allowCpu ? [{ device: 'cpu', precision: policy } as const] : []),
      ];
  }
}
