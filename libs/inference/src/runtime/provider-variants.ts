import type { ExecutionMeasurement, Precision, ProviderName } from '#contracts';
import { errorText } from '../onnx/error-text.js';
import type { ModelVariantCache } from '../onnx/variant-cache.js';
import { isDataMovement, ortProviderName, precisionOfType, summarizeExecution, type ProfiledNode } from './execution-profile.js';

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
 * Variants fitted to a provider's kernels. Which ops a provider runs in bf16 (or fp16) differs by provider and
 * onnxruntime build (the 1.29 CUDA provider has no bf16 ConvTranspose, for one), so instead of a table that
 * goes stale the variant is tried: an op that onnxruntime has no kernel for in that precision ("Could not find an
 * implementation for …"), or that it quietly placed on another provider, is kept in float32 and the variant
 * converted again, until a trial run loads and runs entirely on the provider. Each fitted variant is tried once
 * per process.
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
    const onProvider = ortProviderName(provider);
    // Each round keeps at least one more op type in float32, so a model has at most as many rounds as op types.
    for (let round = 0; round < 64; round++) {
      const path = await this.variants.getVariant(fp32Path, precision, kept.map((k) => k.op));
      let nodes: readonly ProfiledNode[];
      try {
        nodes = await this.trial(path, provider, input);
      } catch (error) {
        const text = errorText(error, 2000);
        const said = MISSING_KERNEL.map((p) => p.exec(text)).find(Boolean);
        const missing = said?.[1];
        if (precision === 'fp32' || !missing || kept.some((k) => k.op === missing)) throw error;
        kept.push({ op: missing, reason: `no ${precision} kernel on ${provider}: onnxruntime says "${said![0]}"` });
        continue;
      }
      // Casts and copies run where onnxruntime finds convenient (shape work on the CPU); only arithmetic counts.
      const fellBack = provider === 'cpu' || precision === 'fp32' ? [] : nodes.filter((n) => n.provider !== onProvider && !isDataMovement(n.op) && touches(n, precision));
      const ops = [...new Set(fellBack.map((n) => n.op))].filter((op) => !kept.some((k) => k.op === op));
      if (ops.length === 0) return { path, precision, provider, kept, measurement: summarizeExecution(nodes, provider) };
      for (const op of ops) {
        const where = [...new Set(fellBack.filter((n) => n.op === op).map((n) => n.provider))].join(', ');
        kept.push({ op, reason: `no ${precision} kernel on ${provider}: onnxruntime ran ${fellBack.filter((n) => n.op === op).length} ${op} node(s) in ${precision} on ${where}` });
      }
    }
    throw new Error(`could not fit the ${precision} variant of ${fp32Path} to ${provider}: still changing after 64 rounds (kept ${kept.map((k) => k.op).join(', ')})`);
  }
}

function touches(node: ProfiledNode, precision: Precision): boolean {
  return [...node.inputs, ...node.outputs].some((t) => precisionOfType(t.type) === precision);
}
