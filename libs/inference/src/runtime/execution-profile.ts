import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ComputedIn, ExecutionException, ExecutionMeasurement, ExecutionSummary } from '#contracts';

/** One node of one profiled run, as onnxruntime's profiler saw it execute. */
export interface ProfiledNode {
  name: string;
  op: string;
  provider: string;
  /** Element type and shape of each input and output (`float`, `float16`, `bfloat16`, `int64_t`, …). */
  inputs: TypedShape[];
  outputs: TypedShape[];
}

export interface TypedShape {
  type: string;
  shape: number[];
}

/**
 * Compute nodes: where the arithmetic (and the point of a precision) is. Fused forms are onnxruntime's
 * optimizer's names for the same work (FusedConv = Conv + activation).
 */
const COMPUTE_OPS = /^(Fused)?(Conv|ConvTranspose|NhwcConv|MatMul|Gemm|Attention|MultiHeadAttention|GroupQueryAttention|Einsum)$/;

export function isComputeOp(op: string): boolean {
  return COMPUTE_OPS.test(op);
}

/** Nodes that only move or re-type data (Casts, copies between host and device) and carry no arithmetic. */
const DATA_MOVEMENT = /^(Cast|Identity|MemcpyFromHost|MemcpyToHost)$/;

export function isDataMovement(op: string): boolean {
  return DATA_MOVEMENT.test(op);
}

/** Where onnxruntime writes a session's profile: `<prefix>_<date>.json` (the node binding does not return the name). */
export async function takeProfileFile(prefix: string): Promise<unknown[]> {
  const dir = dirname(prefix);
  const stem = basename(prefix);
  const files = (await readdir(dir)).filter((f) => f.startsWith(`${stem}_`) && f.endsWith('.json'));
  if (files.length === 0) throw new Error(`onnxruntime wrote no profile under ${prefix}`);
  try {
    return JSON.parse(await readFile(join(dir, files.sort().at(-1)!), 'utf8')) as unknown[];
  } finally {
    await Promise.all(files.map((f) => rm(join(dir, f), { force: true })));
  }
}

interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string; provider?: string; input_type_shape?: Array<Record<string, number[]>>; output_type_shape?: Array<Record<string, number[]>> };
}

/**
 * The nodes of the last run in an onnxruntime profile (Chrome trace events). A profile can hold several runs;
 * the last one is taken, after any warm-up.
 */
export function parseProfile(events: unknown[]): ProfiledNode[] {
  const trace = events as TraceEvent[];
  const runs = trace.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const last = runs.at(-1);
  const inLastRun = (e: TraceEvent) => !last || ((e.ts ?? 0) >= (last.ts ?? 0) && (e.ts ?? 0) <= (last.ts ?? 0) + (last.dur ?? Infinity));
  return trace
    .filter((e) => e.cat === 'Node' && e.name?.endsWith('_kernel_time') && e.args?.op_name && inLastRun(e))
    .map((e) => ({
      name: e.name!.slice(0, -'_kernel_time'.length),
      op: e.args!.op_name!,
      provider: e.args!.provider ?? 'unknown',
      inputs: typedShapes(e.args!.input_type_shape),
      outputs: typedShapes(e.args!.output_type_shape),
    }));
}

function typedShapes(list: Array<Record<string, number[]>> | undefined): TypedShape[] {
  return (list ?? []).flatMap((entry) => Object.entries(entry).map(([type, shape]) => ({ type, shape })));
}

/** The precision an onnxruntime element type name stands for. */
export function precisionOfType(type: string | undefined): ComputedIn {
  switch (type) {
    case 'float':
      return 'fp32';
    case 'float16':
    case 'MLFloat16':
      return 'fp16';
    case 'bfloat16':
    case 'BFloat16':
      return 'bf16';
    default:
      return 'other';
  }
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * Math.max(1, b), 1);

/**
 * Floating-point operations of a compute node, from the shapes it ran with (multiply-adds count 2; a layout that
 * pads channels, like the CPU provider's NCHWc blocks, counts the padding too):
 * Conv: output × (Cin/groups × kernel); ConvTranspose: input × (Cout/groups × kernel); MatMul/Gemm: output × K.
 * Other compute ops count their output elements twice, a floor rather than a guess.
 */
export function flopsOf(node: ProfiledNode): number {
  const [a, w] = node.inputs;
  const out = node.outputs[0];
  if (!out) return 0;
  const op = node.op.replace(/^Fused/, '');
  if ((op === 'Conv' || op === 'NhwcConv') && w && w.shape.length >= 3) return 2 * product(out.shape) * product(w.shape.slice(1));
  if (op === 'ConvTranspose' && a && w && w.shape.length >= 3) return 2 * product(a.shape) * product(w.shape.slice(1));
  if (op === 'MatMul' && a && a.shape.length > 0) return 2 * product(out.shape) * a.shape.at(-1)!;
  if (op === 'Gemm' && a && out.shape.length === 2) return 2 * product(out.shape) * (product(a.shape) / Math.max(1, out.shape[0]!));
  return 2 * product(out.shape);
}

/** The precision a node computed in: that of its first floating-point input (its activations), else its first output. */
export function computedIn(node: ProfiledNode): ComputedIn {
  const float = node.inputs.find((t) => precisionOfType(t.type) !== 'other') ?? node.outputs.find((t) => precisionOfType(t.type) !== 'other');
  return precisionOfType(float?.type);
}

/** onnxruntime's name of a gpuq provider, as profiles and placement logs spell it. */
export function ortProviderName(provider: string): string {
  return { cuda: 'CUDAExecutionProvider', webgpu: 'WebGpuExecutionProvider', cpu: 'CPUExecutionProvider' }[provider] ?? provider;
}

const MAX_EXCEPTIONS = 12;

/** What a profiled run computed in and where: the figures a precision promise is judged on. */
export function summarizeExecution(nodes: readonly ProfiledNode[], provider: string): ExecutionMeasurement {
  const ortProvider = ortProviderName(provider);
  const placement: Record<string, number> = {};
  const flopsBy: Partial<Record<ComputedIn, number>> = {};
  const computeNodes: Partial<Record<ComputedIn, number>> = {};
  let flops = 0;
  const compute = nodes.filter((n) => isComputeOp(n.op));
  for (const node of nodes) placement[node.provider] = (placement[node.provider] ?? 0) + 1;
  for (const node of compute) {
    const p = computedIn(node);
    const f = flopsOf(node);
    flops += f;
    flopsBy[p] = (flopsBy[p] ?? 0) + f;
    computeNodes[p] = (computeNodes[p] ?? 0) + 1;
  }
  const flopsShare = Object.fromEntries(Object.entries(flopsBy).map(([p, f]) => [p, flops > 0 ? round4(f / flops) : 0])) as ExecutionMeasurement['flopsShare'];
  const dominant = dominantOf(flopsShare);
  const exceptions: ExecutionException[] = compute
    .filter((n) => computedIn(n) !== dominant || n.provider !== ortProvider)
    .slice(0, MAX_EXCEPTIONS)
    .map((n) => ({ node: n.name, op: n.op, precision: computedIn(n), provider: n.provider }));
  return { provider: ortProvider, flopsShare, computeNodes, placement, exceptions, flops };
}

/** The short form every result carries. */
export function executionSummary(m: ExecutionMeasurement): ExecutionSummary {
  const computed = dominantOf(m.flopsShare);
  return { computedIn: computed, share: m.flopsShare[computed] ?? 0, provider: m.provider, placement: m.placement };
}

function dominantOf(share: ExecutionMeasurement['flopsShare']): ComputedIn {
  const entries = Object.entries(share) as Array<[ComputedIn, number]>;
  return entries.length ? entries.reduce((a, b) => (b[1] > a[1] ? b : a))[0] : 'other';
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
