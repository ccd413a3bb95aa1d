import { BF16_MIN_COMPUTE_CAPABILITY } from '#contracts';
import type { DeviceCapability, InsufficientResource, JobRequirement, ModelVariantCheck, Precision } from '#contracts';
import { bytesNeeded, describeNeed } from './bytes-needed.js';
import { deviceLabel } from './device-label.js';
import { formatGb } from './units.js';

/**
 * Why `device` cannot run the job in `precision`, Kubernetes-style: one reason per missing resource,
 * each with numbers; an empty list means it fits.
 *
 * Memory is compared with the device's static capacity (`totalBytes`): routing asks whether the card
 * could ever run the job. `freeBytes`, when given, adds the admission check against memory free now.
 */
export function fits(
  requirement: JobRequirement,
  precision: Precision,
  device: DeviceCapability,
  targetName: string,
  freeBytes?: number,
): InsufficientResource[] {
  const label = deviceLabel(device);
  const reasons: InsufficientResource[] = [];
  const reason = (r: Omit<InsufficientResource, 'target'>) => reasons.push({ target: targetName, ...r });

  if (device.kind === 'cpu' && !requirement.allowCpu) {
    reason({ resource: 'device', reason: `${label}: the job does not allow cpu (allowCpu is false)` });
  }

  const cc = device.gpu?.computeCapability;
  const ccTooLow = precision === 'bf16' && device.kind === 'gpu' && (cc ?? 0) < BF16_MIN_COMPUTE_CAPABILITY;
  const test = device.selfTests.find((t) => t.precision === precision && t.provider === device.provider);
  // A card without bf16 hardware never runs the bf16 self-test; "not proven" would only repeat the cc reason.
  if (!device.provenPrecisions.includes(precision) && !(ccTooLow && !test)) {
    const detail = !test
      ? 'no self-test'
      : test.error
        ? `self-test: ${test.error}`
        : test.maxAbsError !== undefined && test.tolerance !== undefined
          ? `self-test: max error ${test.maxAbsError} > tolerance ${test.tolerance}`
          : 'self-test failed';
    reason({ resource: 'precision', reason: `${label}: ${precision} not proven on ${device.provider} (${detail})` });
  }

  const check = variantCheckOf(device, requirement.model, precision);
  if (check && !check.passed) {
    const detail = check.error
      ? check.error
      : `mean error ${check.meanAbsError?.toPrecision(3)} (tolerance ${check.tolerance?.meanAbs}), max ${check.maxAbsError?.toPrecision(3)} (tolerance ${check.tolerance?.maxAbs})`;
    reason({ resource: 'precision', reason: `${label}: the ${precision} variant of ${requirement.model} failed its check against fp32 on ${device.provider}: ${detail}` });
  }

  if (ccTooLow) {
    reason({
      resource: 'compute-capability',
      reason: `${label}: compute capability ${cc === undefined ? 'unknown' : cc.toFixed(1)} < ${BF16_MIN_COMPUTE_CAPABILITY.toFixed(1)} required for bf16`,
      requested: BF16_MIN_COMPUTE_CAPABILITY,
      available: cc,
    });
  }

  const needed = bytesNeeded(requirement, precision);
  if (needed === undefined) {
    reason({ resource: 'precision', reason: `${requirement.model} has no ${precision} variant (no memory need given for ${precision})` });
  } else if (needed > device.totalBytes) {
    reason({
      resource: 'memory',
      reason: `${describeNeed(requirement, precision, needed)}; ${label} has ${formatGb(device.totalBytes)}`,
      requested: needed,
      available: device.totalBytes,
    });
  } else if (freeBytes !== undefined && needed > freeBytes) {
    reason({
      resource: 'memory',
      reason: `${describeNeed(requirement, precision, needed)}; ${label} has ${formatGb(freeBytes)} free now`,
      requested: needed,
      available: freeBytes,
    });
  }
  return reasons;
}

/** This device's check of `model`'s variant in `precision` against fp32, if it made one (fp32 is never checked). */
export function variantCheckOf(device: Pick<DeviceCapability, 'variantChecks'>, model: string, precision: Precision): ModelVariantCheck | undefined {
  return device.variantChecks?.find((c) => c.model === model && c.precision === precision);
}
