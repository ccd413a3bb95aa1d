import { DEFAULT_FP32_OPS, FP32_INPUT_SLOTS, TYPE_AGNOSTIC_OPS } from './fp32-blocklist.js';
import { FLOAT16_MAX, type HalfFormat } from './half.js';
import { ElemType, onnx, toNumber, type OnnxTypes } from './onnx-proto.js';
import { BF16_OPSET, raiseOpset } from './opset-raise.js';
import { makeCast } from './proto-helpers.js';
import { ELEM_TYPE_OF, makeFloatTensor, readFloat32Tensor } from './tensor-data.js';
import { inferElemTypes } from './tensor-types.js';

/**
 * Bumped whenever the converter's output changes for the same input, so cached variants are rebuilt.
 */
export const CONVERTER_VERSION = 2;

/** Options of {@link convertModelPrecision}. */
export interface ConvertPrecisionOptions {
  /** Op types kept in float32 in addition to {@link DEFAULT_FP32_OPS}. */
  keepFp32Ops?: string[];
}

/** A node the converter left in float32, and why. */
export interface KeptFp32Node {
  name: string;
  opType: string;
  reason: string;
}

/** The converted model and what the converter decided. */
export interface PrecisionConversion {
  model: Uint8Array;
  target: HalfFormat;
  keptFp32Nodes: KeptFp32Node[];
  /** Float tensors (initializers and Constant values) now stored in the target format. */
  convertedTensors: number;
  insertedCasts: number;
  /** The opset the model declared before a bf16 conversion raised it (see opset-raise.ts); absent when unchanged. */
  opsetRaisedFrom?: number;
}

/** Thrown for models the converter cannot convert faithfully (subgraphs, external data). */
export class UnsupportedModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/**
 * Converts a float32 ONNX model to fp16 or bf16, like onnxconverter-common's float16 converter:
 * graph inputs and outputs stay float32 (Casts are inserted after inputs and before outputs: onnxruntime-node
 * cannot pass bf16 tensors), float32 initializers and Constant tensors are stored in the target format,
 * value_info types follow, and ops that must stay float32 get Casts around them. For bf16 the model's opset is
 * raised to 22 first, where Conv and its kin admit bf16.
 */
export function convertModelPrecision(fp32Model: Uint8Array, target: HalfFormat, opts: ConvertPrecisionOptions = {}): Uint8Array {
  return convertModelPrecisionDetailed(fp32Model, target, opts).model;
}

/** {@link convertModelPrecision}, also reporting which nodes stayed float32 and why. */
export function convertModelPrecisionDetailed(
  fp32Model: Uint8Array,
  target: HalfFormat,
  opts: ConvertPrecisionOptions = {},
): PrecisionConversion {
  const model = onnx.ModelProto.decode(fp32Model);
  const graph = model.graph;
  if (!graph) throw new UnsupportedModelError('model has no graph');
  rejectSubgraphs(graph);
  const opsetBefore = target === 'bf16' ? raiseOpset(model, BF16_OPSET) : undefined;
  // protobufjs decodes every message as its class (arrays and strings present); the I-types only say "maybe".
  const converter = new GraphConverter(graph as unknown as DecodedGraph, target, new Set([...DEFAULT_FP32_OPS, ...(opts.keepFp32Ops ?? [])]));
  converter.run();
  return {
    model: onnx.ModelProto.encode(model).finish(),
    target,
    keptFp32Nodes: converter.kept,
    convertedTensors: converter.convertedTensors,
    insertedCasts: converter.insertedCasts,
    ...(opsetBefore !== undefined && opsetBefore < BF16_OPSET ? { opsetRaisedFrom: opsetBefore } : {}),
  };
}

const FLOAT = ElemType.FLOAT;
/** A graph as protobufjs decodes it: every repeated field present, every element its class. */
interface DecodedGraph {
  node: OnnxTypes.NodeProto[];
  initializer: OnnxTypes.TensorProto[];
  sparseInitializer: OnnxTypes.SparseTensorProto[];
  input: OnnxTypes.ValueInfoProto[];
  output: OnnxTypes.ValueInfoProto[];
  valueInfo: OnnxTypes.ValueInfoProto[];
}

/** A consumer slot's need: float32, the target format, or whatever the tensor already is. */
type Need = 'fp32' | 'target' | 'any';

/** One pass over one graph; mutates the decoded graph in place. */
class GraphConverter {
  readonly kept: KeptFp32Node[] = [];
  convertedTensors = 0;
  insertedCasts = 0;

  private readonly targetType: number;
  private readonly types: Map<string, number>;
  private readonly graphInputs: Set<string>;
  private readonly initializers = new Map<string, OnnxTypes.TensorProto>();
  private readonly constantNodes = new Map<string, OnnxTypes.NodeProto>();
  private readonly keptNodes = new Set<OnnxTypes.NodeProto>();
  /** Float constants and the formats they must be provided in. */
  private readonly constantNeeds = new Map<string, Set<Need>>();
  private readonly maxAbsCache = new Map<string, number>();
  /** (tensor, format) → name of the Cast output already made for it. */
  private readonly castNames = new Map<string, string>();
  /** Source tensor → Casts to emit right after it is produced. */
  private readonly pendingCasts = new Map<string, OnnxTypes.NodeProto[]>();

  constructor(
    private readonly graph: DecodedGraph,
    private readonly target: HalfFormat,
    private readonly blocked: Set<string>,
  ) {
    this.targetType = ELEM_TYPE_OF[target];
    this.types = inferElemTypes(graph);
    this.graphInputs = new Set(graph.input.map((i) => i.name));
    for (const tensor of graph.initializer) {
      // An initializer listed as a graph input can be overridden by the caller, so it stays float32 like an input.
      if (tensor.dataType === FLOAT && !this.graphInputs.has(tensor.name)) this.initializers.set(tensor.name, tensor);
    }
    for (const node of graph.node) {
      if (node.opType === 'Constant' && this.isFloat(node.output[0])) this.constantNodes.set(node.output[0]!, node);
    }
    for (const sparse of graph.sparseInitializer) {
      if (sparse.values?.dataType === FLOAT) throw new UnsupportedModelError('float sparse initializers are not supported');
    }
  }

  run(): void {
    this.decideKeptNodes();
    this.collectConstantNeeds();
    this.renameConvertedGraphOutputs();
    const rewritten = this.graph.node.flatMap((node) => this.rewriteNode(node));
    // Casts of graph inputs and initializers go first; every other Cast right after its producer.
    this.graph.node = this.topologicallyPlaceCasts([...this.castsAfterSources(), ...rewritten]);
    this.convertInitializers();
    this.updateValueInfo();
  }

  private isFloat(name: string | undefined | null): name is string {
    return !!name && this.types.get(name) === FLOAT;
  }

  private isConstant(name: string): boolean {
    return this.initializers.has(name) || this.constantNodes.has(name);
  }

  private decideKeptNodes(): void {
    for (const node of this.graph.node) {
      if (node.opType === 'Constant') continue;
      if (this.blocked.has(node.opType)) {
        this.keep(node, `${node.opType} is in the float32 op list`);
        continue;
      }
      if (this.target !== 'fp16') continue;
      // fp16 tops out at 65504: a weight beyond that would become infinity (e.g. a BatchNorm running variance).
      node.input.forEach((name, slot) => {
        if (this.keptNodes.has(node) || !this.isFloat(name) || !this.isConstant(name) || this.slotNeed(node, slot) !== 'target') return;
        const maxAbs = this.constantMaxAbs(name);
        if (maxAbs > FLOAT16_MAX) this.keep(node, `input ${name} holds ${maxAbs.toPrecision(4)}, beyond fp16's ${FLOAT16_MAX}`);
      });
    }
  }

  private keep(node: OnnxTypes.NodeProto, reason: string): void {
    this.keptNodes.add(node);
    this.kept.push({ name: node.name || node.output[0] || '', opType: node.opType, reason });
  }

  /** What format a node's input slot must receive, given the node's own decision. */
  private slotNeed(node: OnnxTypes.NodeProto, slot: number): Need {
    if (this.keptNodes.has(node)) return 'fp32';
    if (TYPE_AGNOSTIC_OPS.has(node.opType)) return 'any';
    if (FP32_INPUT_SLOTS[node.opType]?.includes(slot)) return 'fp32';
    return 'target';
  }

  private collectConstantNeeds(): void {
    const need = (name: string, what: Need) => {
      if (!this.isConstant(name)) return;
      const needs = this.constantNeeds.get(name) ?? new Set<Need>();
      needs.add(what);
      this.constantNeeds.set(name, needs);
    };
    for (const node of this.graph.node) node.input.forEach((name, slot) => this.isFloat(name) && need(name, this.slotNeed(node, slot)));
    for (const output of this.graph.output) if (this.isFloat(output.name)) need(output.name, 'fp32');
  }

  /** The format a float tensor is produced in after conversion. */
  private homeOf(name: string): 'fp32' | 'target' {
    if (this.graphInputs.has(name)) return 'fp32';
    if (this.isConstant(name)) return this.constantNeeds.get(name)?.has('target') || !this.constantNeeds.get(name)?.has('fp32') ? 'target' : 'fp32';
    const producer = this.producers().get(name);
    return producer && this.keptNodes.has(producer) ? 'fp32' : 'target';
  }

  private producerMap?: Map<string, OnnxTypes.NodeProto>;
  private producers(): Map<string, OnnxTypes.NodeProto> {
    if (!this.producerMap) {
      this.producerMap = new Map();
      for (const node of this.graph.node) for (const output of node.output) if (output) this.producerMap.set(output, node);
    }
    return this.producerMap;
  }

  /**
   * A graph output computed in the target format is renamed inside the graph, so a Cast can write the
   * float32 value under the name callers know.
   */
  private renameConvertedGraphOutputs(): void {
    const renames = new Map<string, string>();
    for (const output of this.graph.output) {
      const name = output.name;
      if (!this.isFloat(name) || this.graphInputs.has(name) || this.isConstant(name)) continue;
      if (this.homeOf(name) !== 'target') continue;
      renames.set(name, `${name}__gpuq_${this.target}`);
    }
    if (renames.size === 0) return;
    for (const node of this.graph.node) {
      node.output = node.output.map((n) => renames.get(n) ?? n);
      node.input = node.input.map((n) => renames.get(n) ?? n);
    }
    for (const [from, to] of renames) {
      this.types.set(to, FLOAT);
      this.castTo(to, 'fp32', from);
    }
    this.producerMap = undefined;
  }

  private rewriteNode(node: OnnxTypes.NodeProto): OnnxTypes.NodeProto[] {
    if (node.opType === 'Constant') return this.rewriteConstant(node);
    const keptFp32 = this.keptNodes.has(node);
    node.input = node.input.map((name, slot) => {
      if (!this.isFloat(name)) return name;
      const need = this.slotNeed(node, slot);
      return need === 'any' ? name : this.provide(name, need);
    });
    if (!keptFp32) this.retargetFloatAttributes(node);
    return [node];
  }

  /** Casts, dtype attributes and ConstantOfShape values that say "float32" now mean the target format. */
  private retargetFloatAttributes(node: OnnxTypes.NodeProto): void {
    for (const attribute of node.attribute) {
      if ((attribute.name === 'to' || attribute.name === 'dtype') && attribute.type === onnx.AttributeProto.AttributeType.INT) {
        if (toNumber(attribute.i) === FLOAT) attribute.i = this.targetType;
      }
      if (node.opType === 'ConstantOfShape' && attribute.name === 'value' && attribute.t?.dataType === FLOAT) {
        attribute.t = this.convertTensor(attribute.t);
      }
    }
  }

  private rewriteConstant(node: OnnxTypes.NodeProto): OnnxTypes.NodeProto[] {
    const name = node.output[0];
    if (!name || !this.constantNodes.has(name)) return [node];
    const needs = this.constantNeeds.get(name) ?? new Set<Need>(['target']);
    const tensor = constantTensor(node);
    const converted = onnx.NodeProto.create({
      opType: 'Constant',
      name: node.name,
      output: [name],
      attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: this.convertTensor(tensor) }],
    });
    if (this.homeOf(name) === 'fp32') return [node];
    if (!needs.has('fp32')) return [converted];
    // Needed in both formats: the original keeps float32 precision for its float32 consumers.
    converted.output = [this.copyName(name)];
    converted.name = `${node.name || name}__gpuq_${this.target}`;
    return [node, converted];
  }

  private copyName(name: string): string {
    return `${name}__gpuq_${this.target}`;
  }

  /** The name under which `name` is available in format `need`, adding a Cast when it is not. */
  private provide(name: string, need: 'fp32' | 'target'): string {
    const home = this.homeOf(name);
    if (home === need) return name;
    if (this.isConstant(name)) {
      // Constants needed in both formats exist in both; no Cast, and no double rounding.
      return need === 'target' ? this.copyName(name) : name;
    }
    return this.castTo(name, need);
  }

  private castTo(name: string, need: 'fp32' | 'target', outputName?: string): string {
    const key = `${name}\u0000${need}`;
    const existing = this.castNames.get(key);
    if (existing) return existing;
    const output = outputName ?? `${name}__gpuq_to_${need === 'fp32' ? 'fp32' : this.target}`;
    const cast = makeCast(name, output, need === 'fp32' ? FLOAT : this.targetType);
    this.castNames.set(key, output);
    const list = this.pendingCasts.get(name) ?? [];
    list.push(cast);
    this.pendingCasts.set(name, list);
    this.insertedCasts++;
    return output;
  }

  private castsAfterSources(): OnnxTypes.NodeProto[] {
    const casts: OnnxTypes.NodeProto[] = [];
    for (const name of [...this.graphInputs, ...this.initializers.keys()]) {
      casts.push(...(this.pendingCasts.get(name) ?? []));
      this.pendingCasts.delete(name);
    }
    return casts;
  }

  private topologicallyPlaceCasts(nodes: OnnxTypes.NodeProto[]): OnnxTypes.NodeProto[] {
    const ordered: OnnxTypes.NodeProto[] = [];
    const emitAfter = (node: OnnxTypes.NodeProto) => {
      ordered.push(node);
      for (const output of node.output) {
        const casts = this.pendingCasts.get(output);
        if (!casts) continue;
        this.pendingCasts.delete(output);
        casts.forEach(emitAfter);
      }
    };
    nodes.forEach(emitAfter);
    if (this.pendingCasts.size > 0) throw new Error(`internal: casts of ${[...this.pendingCasts.keys()].join(', ')} have no producer`);
    return ordered;
  }

  private convertInitializers(): void {
    const result: OnnxTypes.TensorProto[] = [];
    for (const tensor of this.graph.initializer) {
      if (!this.initializers.has(tensor.name)) {
        result.push(tensor);
        continue;
      }
      const needs = this.constantNeeds.get(tensor.name);
      const home = this.homeOf(tensor.name);
      if (home === 'fp32') {
        result.push(tensor);
      } else if (needs?.has('fp32')) {
        result.push(tensor, this.convertTensor(tensor, this.copyName(tensor.name)));
      } else {
        result.push(this.convertTensor(tensor));
      }
    }
    this.graph.initializer = result;
  }

  private convertTensor(tensor: OnnxTypes.ITensorProto, name = tensor.name ?? ''): OnnxTypes.TensorProto {
    this.convertedTensors++;
    const dims = (tensor.dims ?? []).map((d) => toNumber(d));
    return makeFloatTensor(name, dims, readFloat32Tensor(tensor), this.target);
  }

  private constantMaxAbs(name: string): number {
    const cached = this.maxAbsCache.get(name);
    if (cached !== undefined) return cached;
    const tensor = this.initializers.get(name) ?? constantTensor(this.constantNodes.get(name)!);
    let maxAbs = 0;
    for (const v of readFloat32Tensor(tensor)) if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
    this.maxAbsCache.set(name, maxAbs);
    return maxAbs;
  }

  private updateValueInfo(): void {
    for (const info of this.graph.valueInfo) {
      const tensorType = info.type?.tensorType;
      if (!tensorType || tensorType.elemType !== FLOAT || this.graphInputs.has(info.name)) continue;
      if (this.homeOf(info.name) === 'target') tensorType.elemType = this.targetType;
    }
  }
}

/** The float tensor a Constant node holds, whichever attribute spells it. */
function constantTensor(node: OnnxTypes.INodeProto): OnnxTypes.ITensorProto {
  for (const a of node.attribute ?? []) {
    if (a.name === 'value' && a.t) return a.t;
    if (a.name === 'value_float') return { dataType: FLOAT, dims: [], floatData: [a.f ?? 0] };
    if (a.name === 'value_floats') return { dataType: FLOAT, dims: [a.floats?.length ?? 0], floatData: a.floats ?? [] };
  }
  throw new UnsupportedModelError(`Constant ${node.name ?? ''} holds no float value`);
}

function rejectSubgraphs(graph: OnnxTypes.IGraphProto): void {
  for (const node of graph.node ?? []) {
    for (const a of node.attribute ?? []) {
      if (a.g || (a.graphs?.length ?? 0) > 0) {
        throw new UnsupportedModelError(`node ${node.name || node.opType} (${node.opType}) has a subgraph; only subgraph-free models are converted`);
      }
    }
  }
}
