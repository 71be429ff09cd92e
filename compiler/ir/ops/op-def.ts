// What one IR op file holds (compiler/ir/ops/<op>.ts): attrs, shape/dtype rule, float64 reference,
// int8 role and integer reference, and the slots the training (issue 12) and compression (issue 14)
// work fills: a gradient rule and a channel-flow rule. The op table (ops/index.ts) lists the files.
import type { AttrValue, Attrs, DType, Graph, Node, OpType, Tensor } from '../graph.ts';

/** A float64 value of the reference evaluator: row-major data in `shape`. */
export interface Value {
  shape: number[];
  data: Float64Array;
}

export interface TypeInfo {
  shape: number[];
  dtype: DType;
}

/** 'padding' = 'valid' | 'same' | [top, left, bottom, right] with ints ≥ 0. */
export type AttrKind = 'int' | 'float' | 'string' | 'bool' | 'ints' | 'floats' | 'padding';

export interface AttrSchema {
  kind: AttrKind;
  /** Filled in when the attr is missing. No default and no `derive` = the attr is required. */
  default?: AttrValue;
  /** Allowed values of a 'string' attr. */
  values?: readonly string[];
  /** Exact element count of an 'ints'/'floats' attr. */
  length?: number;
  /** Lower bound of an 'int' value or of every element of an 'ints' attr. */
  min?: number;
  /** Default computed from the other (already checked) attrs, e.g. pool strides = kernel. */
  derive?: (attrs: Attrs) => AttrValue;
  /** What the default is, for docs and messages when `derive` is set. */
  deriveDoc?: string;
}

/** Input/output counts and typed attrs with defaults (validateNodeAttrs in ir/op-schema.ts checks a node). */
export interface OpSchema {
  /** [min, max] input count; optional inputs may also be given as '' (absent). */
  inputs: [min: number, max: number];
  outputs: number;
  attrs: Record<string, AttrSchema>;
  /** Cross-attr checks after defaults are filled: returns "attr 'x': expected … found …" or undefined. */
  check?: (attrs: Attrs) => string | undefined;
}

/**
 * The op's int8 facts (docs/quantization.md). `quantize` is how the quantize pass puts a float node on
 * int8; `evaluate` is the integer reference of the op's int8 kernel, bit for bit (integers as float64).
 */
export interface Int8Rule {
  /**
   * 'own-params': the output gets its own (calibrated) params and the kernel requantises;
   * 'input-params': the output keeps the input's params (pools, pure data movement);
   * 'clamp': becomes a Requantize (or vanishes) — int8 saturation is the clamp.
   * Absent: the quantize pass never places this op (Quantize/Dequantize/Requantize are its output).
   */
  quantize?: 'own-params' | 'input-params' | 'clamp';
  /**
   * Integer reference; evaluate() and lowering treat a node as int8 when this is set and its first input and
   * output are int8. Absent for data movement, whose float evaluation of the integers is already exact.
   */
  evaluate?: (g: Graph, n: Node, ins: (Value | undefined)[], outs: TypeInfo[]) => Float64Array[];
  /** The op converts between float32 and int8: an int8 node whatever its dtypes (Quantize, Dequantize, Requantize). */
  converts?: boolean;
}

/** Where a gradient rule writes the backward graph (compiler/train builds one per training graph). */
export interface GradBuilder {
  /** Adds a node of `op` (shape-inferred) and returns its output tensor names. */
  add(op: OpType, inputs: string[], attrs?: Attrs, outputs?: number): string[];
  shape(name: string): number[];
  /** Whether a gradient for this tensor is wanted (a trained weight or on a path from one). */
  wants(name: string): boolean;
  /** A new float32 constant tensor named after `base` (e.g. a scale a rule multiplies by); returns its name. */
  constant(base: string, shape: number[], data: Float32Array): string;
}

/**
 * Vector–Jacobian product over the IR: given the forward node and dL/d(output) `dy`, emits the nodes
 * computing dL/d(input i) for every wanted input and returns their tensor names (undefined where none).
 * The forward node's inputs and outputs stay readable. Checked against float64 finite differences.
 */
export type GradRule = (b: GradBuilder, n: Node, dy: string) => (string | undefined)[];

/** A constant input (weights, bias, per-channel params) whose `axis` runs over channels. */
export interface ChannelParam {
  input: number;
  axis: number;
}

/**
 * How channels (the last axis of NHWC activations, features of Dense) flow from inputs to outputs, for
 * channel pruning's dependency groups (compiler/compress/groups.ts):
 * - 'elementwise': output channel c comes from channel c of each `data` input; `params` follow the output
 *   channels (BatchNorm's vectors, a depthwise conv's filters); `update` fixes attrs after a cut (groups);
 * - 'transform': consumes input `data`'s channels on the `consumes` weight axis and produces its own on
 *   the `produces` axes; `groups` > 1 cuts the same count from each of its groups on both sides;
 * - 'concat': the inputs' channels one after another; 'reshape': input channel c becomes output features
 *   (m·C + c)·inner + k, k < inner (Flatten/Reshape to Dense: spatial × channel blocks; inner = 1 when the
 *   channels are the input's last axis), `update` rewrites a shape attr;
 * - 'boundary': channels cannot be followed through here (`why`); groups stop and keep their channels.
 * Channels sit on the last axis unless a Transpose moved them: `axes[i]` is input i's channel axis. Only an
 * elementwise rule that sets `axis` (the output's channel axis) or a reshape rule that sets `inner` has
 * followed channels off the last axis; any other rule fed such an input is taken as a boundary.
 */
export type ChannelFlow =
  | {
      kind: 'elementwise';
      data: number[];
      params: ChannelParam[];
      update?: (n: Node, channels: number) => void;
      axis?: number;
    }
  | { kind: 'transform'; data: number; consumes: ChannelParam; produces: ChannelParam[]; groups: number }
  | { kind: 'concat' }
  | { kind: 'reshape'; update?: (n: Node, channels: number, oldChannels: number) => void; inner?: number }
  | { kind: 'boundary'; why: string };

export interface OpDef {
  schema: OpSchema;
  /** Output shapes/dtypes from the input tensors (undefined = optional input absent); ModelError naming node and field. */
  infer(node: Node, ins: (Tensor | undefined)[], file: string): TypeInfo[];
  /** Float64 reference values of the outputs (slow and obvious: the oracle for float plans). */
  evaluate(node: Node, ins: (Value | undefined)[], outs: TypeInfo[]): Float64Array[];
  /** Absent: the op only runs in float32. */
  int8?: Int8Rule;
  /** Gradient rule (issue 12); absent: training refuses a graph that needs this op's gradient. */
  grad?: GradRule;
  /** Only training graphs hold this op (compiler/train/training-graph.ts): model files may not name it. */
  trainingOnly?: boolean;
  /** Channel-flow rule (issue 14) from the node and its typed inputs and outputs; absent = a boundary. */
  channelFlow?: (node: Node, ins: (Tensor | undefined)[], outs: Tensor[], axes: (number | undefined)[]) => ChannelFlow;
}
