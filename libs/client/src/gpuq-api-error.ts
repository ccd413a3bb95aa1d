import type { Problem } from '#contracts';

/** A refusal from the API, with its problem document (`code`, `detail`, and any numbers). */
export class GpuqApiError extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.name = this.constructor.name;
  }

  get status(): number {
    return this.problem.status;
  }

  get code(): Problem['code'] {
    return this.problem.code;
  }
}
