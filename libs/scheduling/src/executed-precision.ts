import type { ExecutionMeasurement, Precision } from '#contracts';

/** Whether a measured run kept a precision promise, and the figures that say so. */
export interface ExecutionVerdict {
  ok: boolean;
  /** Share of the arithmetic that ran in the promised precision. */
  share: number;
  message: string;
}

/**
 * Judges a measured run against the precision it was promised: at least `minShare` of its arithmetic (by
 * floating-point operations of the compute nodes) in that precision, and every compute node on the session's own
 * provider (a node that fell back to the CPU is a silent change of device, and usually of precision too).
 * A converter may keep a few nodes in fp32 on purpose (no kernel in the target precision); `minShare` says how
 * much of that a promise tolerates. With no compute node measured there is nothing to confirm the promise with.
 */
export function judgeExecution(promised: Precision, m: ExecutionMeasurement, minShare: number): ExecutionVerdict {
  const share = m.flopsShare[promised] ?? 0;
  const computeTotal = Object.values(m.computeNodes).reduce((a, b) => a + (b ?? 0), 0);
  const offProvider = m.exceptions.filter((e) => e.provider !== m.provider);
  const others = Object.entries(m.flopsShare)
    .filter(([p, s]) => p !== promised && (s ?? 0) > 0)
    .map(([p, s]) => `${pct(s ?? 0)} in ${p} (${m.computeNodes[p as keyof typeof m.computeNodes] ?? 0} nodes${opsIn(m, p)})`);
  const placement = Object.entries(m.placement).map(([p, n]) => `${p} ${n}`).join(', ');
  const figures = `${pct(share)} of the arithmetic in ${promised} (${m.computeNodes[promised] ?? 0} of ${computeTotal} compute nodes)`
    + `${others.length ? `, ${others.join(', ')}` : ''}; nodes by provider: ${placement}`;
  if (computeTotal === 0) return { ok: false, share, message: `measured no compute node (Conv, MatMul, Gemm, …) in the run: ${promised} cannot be confirmed; nodes by provider: ${placement}` };
  if (offProvider.length > 0) {
    const where = [...new Set(offProvider.map((e) => e.provider))].join(', ');
    return { ok: false, share, message: `measured ${figures}: ${offProvider.length} compute node(s) ran on ${where}, not ${m.provider}` };
  }
  if (share < minShare) return { ok: false, share, message: `measured ${figures}: below the ${pct(minShare)} a ${promised} promise needs` };
  return { ok: true, share, message: `measured ${figures}` };
}

function opsIn(m: ExecutionMeasurement, precision: string): string {
  const ops = [...new Set(m.exceptions.filter((e) => e.precision === precision).map((e) => e.op))];
  return ops.length ? `: ${ops.join(', ')}` : '';
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
