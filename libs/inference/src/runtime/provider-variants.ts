import { readFile } from 'node:fs/promises';
import type { ExecutionMeasurement, Precision, ProviderName } from '#contracts';
import { onnx } from '../onnx/onnx-proto.js';
import { errorText } from '../onnx/error-text.js';
import type { ModelVariantCache } from '../onnx/variant-cache.js';
import { isComputeOp, isDataMovement, ortProviderName, precisionOfType, summarizeExecution, type ProfiledNode } from './execution-profile.js';

/** An op type a variant keeps in float32, and why (onnxruntime's own words where it gave the reason). */
export interface KeptOp {
  op: string;
  reason: string;
}

/** A model's variant that loads and runs on one provider, with what its trial run was measured to compute in. */
export interface ProviderVariant {
  path: string;
  precision: Precision;
  provider: ProviderName;
  kept: KeptOp[];
  measurement: ExecutionMeasurement;
}

/** A float32 input to run a model once with. */
export interface ProbeInput {
  name: string;
  data: Float32Array;
  dims: number[];
}

/**
 * Creates a session for `path` on `provider`, runs `input` once and returns the run's profiled nodes; throws
 * onnxruntime's error when the session cannot be created.
 */
export type TrialRun = (path: string, provider: ProviderName, input: ProbeInput) => Promise<readonly ProfiledNode[]>;

/**
 * How onnxruntime says an op has no kernel in a precision: no provider has one ("Could not find an
 * implementation"), or, when the CUDA or WebGPU provider is asked, the node was left with no provider at all
 * (seen on the H200 with onnxruntime 1.29 for a bf16 BatchNormalization: "Provider type for … node … is not set").
 */
const MISSING_KERNEL = [/Could not find an implementation for (\w+)\(\d+\) node with name '[^']*'/, /Provider type for (\w+) node with name '[^']*' is not set/];

/**
 * Model ops that ONNX defines by a function body, which onnxruntime expands into simpler nodes (with no names) when
 * no provider has a kernel for the op itself: a missing kernel is then reported for a node the model does not
 * have (seen on the H200: a bf16 variant of PP-OCRv4 failed on a `Less` node, from an expanded Clip). Tried first.
 */
const FUNCTION_OPS = ['Clip', 'HardSigmoid', 'HardSwish', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'ThresholdedRelu', 'Shrink', 'Mish', 'Gelu', 'PRelu', 'Softmax', 'LogSoftmax', 'LayerNormalization', 'Range'];

type Attempt = { nodes: readonly ProfiledNode[] } | { error: unknown; missing?: string; said?: string };

/**
 * Variants fitted to a provider's kernels. Which ops a provider runs in bf16 (or fp16) differs by provider and
 * onnxruntime build (the 1.29 CUDA provider has no bf16 ConvTranspose, for one), so instead of a table that
 * goes stale the variant is tried: an op that onnxruntime has no kernel for in that precision ("Could not find an
 * implementation for …"), or that it quietly placed on another provider, is kept in float32 and the variant
 * converted again, until a trial run loads and runs entirely on the provider. When the node named is not one of the
 * model's (an expanded function body), the model's op behind it is found by keeping candidates one at a time.
 * Each fitted variant is tried once per process.
 */
export class ProviderVariants {
  private readonly fitted = new Map<string, Promise<ProviderVariant>>();

  constructor(private readonly variants: ModelVariantCache, private readonly trial: TrialRun) {}

  fit(fp32Path: string, precision: Precision, provider: ProviderName, keepFp32Ops: readonly string[], input: ProbeInput): Promise<ProviderVariant> {
    const key = [fp32Path, precision, provider, [...keepFp32Ops].sort().join(',')].join('|');
    let work = this.fitted.get(key);
    if (!work) {
      work = this.fitOnce(fp32Path, precision, provider, keepFp32Ops, input);
      this.fitted.set(key, work);
      work.catch(() => this.fitted.delete(key)); // a failure is not remembered: the next caller tries (and reports) again
    }
    return work;
  }

  private async fitOnce(fp32Path: string, precision: Precision, provider: ProviderName, keepFp32Ops: readonly string[], input: ProbeInput): Promise<ProviderVariant> {
    const kept: KeptOp[] = keepFp32Ops.map((op) => ({ op, reason: 'configured (VARIANT_KEEP_FP32_OPS)' }));
    const isKept = (op: string) => kept.some((k) => k.op === op);
    const onProvider = ortProviderName(provider);
    const modelOps = await opTypesOf(fp32Path);
    const attempt = async (keep: readonly string[]): Promise<Attempt> => {
      const path = await this.variants.getVariant(fp32Path, precision, keep);
      try {
        return { nodes: await this.trial(path, provider, input) };
      } catch (error) {
        const text = errorText(error, 2000);
        const said = MISSING_KERNEL.map((pattern) => pattern.exec(text)).find(Boolean);
        return { error, missing: said?.[1], said: said?.[0] };
      }
    };
    // Each round keeps at least one more op type in float32, so a model has at most as many rounds as op types.
    for (let round = 0; round <= modelOps.size; round++) {
      const tried = await attempt(kept.map((k) => k.op));
      if ('error' in tried) {
        const { missing, said } = tried;
        if (precision === 'fp32' || !missing || isKept(missing)) throw tried.error;
        if (modelOps.has(missing)) {
          kept.push({ op: missing, reason: `no ${precision} kernel on ${provider}: onnxruntime says "${said}"` });
          continue;
        }
        const behind = await this.expandedOpBehind(missing, modelOps, kept, attempt);
        if (!behind) throw tried.error;
        kept.push({ op: behind, reason: `no ${precision} kernel on ${provider}: onnxruntime expanded ${behind} into its ONNX function, whose ${missing} node has none ("${said}")` });
        continue;
      }
      const { nodes } = tried;
      // Casts and copies run where onnxruntime finds convenient (shape work on the CPU); only arithmetic counts.
      const fellBack = provider === 'cpu' || precision === 'fp32' ? [] : nodes.filter((n) => n.provider !== onProvider && !isDataMovement(n.op) && touches(n, precision));
      const ops = [...new Set(fellBack.map((n) => n.op))].filter((op) => !isKept(op));
      if (ops.length === 0) {
        const path = await this.variants.getVariant(fp32Path, precision, kept.map((k) => k.op));
        return { path, precision, provider, kept, measurement: summarizeExecution(nodes, provider) };
      }
      for (const op of ops) {
        const where = [...new Set(fellBack.filter((n) => n.op === op).map((n) => n.provider))].join(', ');
        kept.push({ op, reason: `no ${precision} kernel on ${provider}: onnxruntime ran ${fellBack.filter((n) => n.op === op).length} ${op} node(s) in ${precision} on ${where}` });
      }
    }
    throw new Error(`could not fit the ${precision} variant of ${fp32Path} to ${provider}: still changing after every op type was tried (kept ${kept.map((k) => k.op).join(', ')})`);
  }

  /**
   * The model op whose expanded function body holds the `missing` node: the first candidate that, kept in float32,
   * makes the trial stop failing on that node (function-bodied ops first, then the other non-compute ops).
   */
  private async expandedOpBehind(missing: string, modelOps: ReadonlySet<string>, kept: readonly KeptOp[], attempt: (keep: readonly string[]) => Promise<Attempt>): Promise<string | undefined> {
    const open = [...modelOps].filter((op) => !kept.some((k) => k.op === op) && !isComputeOp(op) && op !== 'Constant');
    const candidates = [...FUNCTION_OPS.filter((op) => open.includes(op)), ...open.filter((op) => !FUNCTION_OPS.includes(op))];
    for (const op of candidates) {
      const outcome = await attempt([...kept.map((k) => k.op), op]);
      if (!('error' in outcome) || outcome.missing !== missing) return op;
    }
    return undefined;
  }
}

/** The op types of a model's main graph. */
async function opTypesOf(path: string): Promise<Set<string>> {
  const model = onnx.ModelProto.decode(await readFile(path));
  return new Set((model.graph?.node ?? []).map((n) => n.opType ?? ''));
}

function touches(node: ProfiledNode, precision: Precision): boolean {
  return [...node.inputs, ...node.outputs].some((t) => precisionOfType(t.type) === precision);
}
