import { PRECISIONS, type JobRequirement, type MemoryProfile, type PrecisionNeed, type PrecisionPolicy } from '#contracts';
import { PRIOR_SCALE, predictBytes, withMargin } from '#scheduling';

export interface ModelMemoryFacts {
  id: string;
  separable: boolean;
  /** fp32 prior from the manifest, used until a profile is calibrated. */
  defaultProfile: { fixedBytes: number; perItemBytes: number };
}

/**
 * What a job needs in each precision. Calibrated profiles of the model win over the manifest's prior;
 * with several devices' profiles, the largest prediction is used so routing never under-asks.
 */
export function jobRequirement(input: {
  model: ModelMemoryFacts;
  imageCount: number;
  policy: PrecisionPolicy;
  allowCpu: boolean;
  profiles: MemoryProfile[];
  marginFraction: number;
}): JobRequirement {
  const { model, imageCount, marginFraction } = input;
  const needs: PrecisionNeed[] = PRECISIONS.map((precision) => {
    const known = input.profiles.filter((p) => p.model === model.id && p.precision === precision);
    const predict = (n: number) =>
      known.length > 0
        ? Math.max(...known.map((p) => withMargin(predictBytes(p, n), p.marginFraction)))
        : withMargin(PRIOR_SCALE[precision] * (model.defaultProfile.fixedBytes + model.defaultProfile.perItemBytes * n), marginFraction);
    return { precision, bytesOneImage: Math.round(predict(1)), bytesWholeJob: Math.round(predict(imageCount)) };
  });
  return { model: model.id, policy: input.policy, imageCount, separable: model.separable, allowCpu: input.allowCpu, needs };
}
