import type { JobRequirement, PrecisionPolicy } from '#contracts';

/** A job requirement with the same need in bf16 and fp16 and twice that in fp32 (4 bytes per element). */
export function requirement(
  opts: Partial<Omit<JobRequirement, 'needs'>> & { oneImage?: number; wholeJob?: number; policy?: PrecisionPolicy } = {},
): JobRequirement {
  const { oneImage = 3.6e9, wholeJob, ...rest } = opts;
  const imageCount = rest.imageCount ?? 12;
  const whole = wholeJob ?? oneImage * imageCount;
  return {
    model: 'mistral',
    policy: 'auto',
    imageCount,
    separable: true,
    allowCpu: false,
    ...rest,
    needs: [
      { precision: 'bf16', bytesOneImage: oneImage, bytesWholeJob: whole },
      { precision: 'fp16', bytesOneImage: oneImage, bytesWholeJob: whole },
      { precision: 'fp32', bytesOneImage: oneImage * 2, bytesWholeJob: whole * 2 },
    ],
  };
}
