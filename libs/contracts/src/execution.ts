import type { Precision } from './precision.js';

/** The precision a node computed in, from the element type of its activations; `other` for integer and double work. */
export type ComputedIn = Precision | 'other';

/** A compute node (Conv, MatMul, Gemm, …) that did not run as the session was meant to: another precision or provider. */
export interface ExecutionException {
  node: string;
  op: string;
  precision: ComputedIn;
  provider: string;
}

/**
 * What a session was measured to compute in, read from onnxruntime's profile of a real run of that session:
 * the element type each node's activations had and the execution provider each node ran on. A precision is
 * a promise only when this says so; it is recorded on the job and (summarized) on every result.
 */
export interface ExecutionMeasurement {
  /** The execution provider the session was created for, as onnxruntime names it (`CUDAExecutionProvider`). */
  provider: string;
  /**
   * Share of the arithmetic by the precision it ran in, weighted by floating-point operations of the compute
   * nodes (Conv, ConvTranspose, MatMul, Gemm, attention): `{ bf16: 0.97, fp32: 0.03 }`.
   */
  flopsShare: Partial<Record<ComputedIn, number>>;
  /** Compute nodes by the precision they ran in. */
  computeNodes: Partial<Record<ComputedIn, number>>;
  /** Every node of the run, by the provider it ran on: `{ CUDAExecutionProvider: 381, CPUExecutionProvider: 3 }`. */
  placement: Record<string, number>;
  /** Compute nodes in another precision than the dominant one or on another provider (at most 12). */
  exceptions: ExecutionException[];
  /** Total floating-point operations of one run of the measured batch. */
  flops: number;
}

/** The part of a measurement every result carries. */
export interface ExecutionSummary {
  /** The precision most of the arithmetic ran in, and its share. */
  computedIn: ComputedIn;
  share: number;
  provider: string;
  /** Nodes per provider. */
  placement: Record<string, number>;
}
