// The IR: a graph of named tensors and nodes. Activations are NHWC; weights keep the
// model.json layouts below (Conv2D OHWI [Co,KH,KW,Ci/groups], Dense [out,in]).
// Frontends build it, passes rewrite it, lowering turns it into bundle steps.
import type { OPS } from './ops/index.ts';

export type DType = 'float32' | 'int8' | 'uint8' | 'int32' | 'int64';

export type TensorData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

/** Per-tensor (axis undefined, one entry) or per-channel (axis set) quantisation. */
export interface QuantParams {
  scale: number[];
  zeroPoint: number[];
  axis?: number;
}

export interface Tensor {
  name: string;
  dtype: DType;
  /** Static shape in elements; every dim ≥ 1 once shape inference has run. */
  shape: number[];
  /** Present for constants (weights, folded values). Row-major in `shape`. */
  data?: TensorData;
  quant?: QuantParams;
}

/** The op set of model.json v1 and the IR: the keys of the op table (compiler/ir/ops/index.ts). */
export type OpType = keyof typeof OPS;

export type AttrValue = number | string | boolean | number[] | string[];
export type Attrs = Record<string, AttrValue>;

/**
 * Fused activation on Conv2D / Dense / Add: attrs.activation = 'none' | 'relu' | 'clip'
 * with attrs.clip = [min, max] for 'clip' (Relu6 = clip [0, 6]).
 */
export type FusedActivation = 'none' | 'relu' | 'clip';

export interface Node {
  name: string;
  op: OpType;
  /** Tensor names; '' marks an absent optional input (e.g. Conv2D without bias). */
  inputs: string[];
  outputs: string[];
  attrs: Attrs;
}

export interface Graph {
  name: string;
  tensors: Map<string, Tensor>;
  /** Topologically ordered. */
  nodes: Node[];
  inputs: string[];
  outputs: string[];
  /** Where the graph came from, for error messages ("model.json", "model.onnx"). */
  source: string;
  /**
   * The int8 arithmetic of the runtime the model comes from, set by its importer (docs/quantization.md): absent =
   * edgec's own; 'tflite' = TFLite's interpreter (XNNPACK delegate): Conv2D / Dense requantise in float32 (the
   * *_QS8_FP32 kernels), Add with XNNPACK's constants; its quant params are int8-domain. 'onnxruntime' = set for
   * pre-quantised ONNX graphs (QDQ / QLinear, compiler/quantize/index.ts): Conv / Dense / depthwise requantise in float32
   * as onnxruntime's QLinearConv / QLinearMatMul do (the *_QS8_FP32 kernels: f32(acc)·f32(f32(s_x·s_w) / s_y), ties to
   * even); everything else edgec's own.
   */
  int8Arithmetic?: 'tflite' | 'onnxruntime';
  /**
   * Training graphs: mutable state (weights, optimiser moments) by tensor name, with its initial
   * value (undefined = zeros). Defined before the first node like an input, kept across runs; the
   * tensors themselves hold no data (they are not constants). compiler/train/training-graph.ts.
   */
  state?: Map<string, Float32Array | undefined>;
}

export function elementSize(dtype: DType): number {
  switch (dtype) {
    case 'float32':
    case 'int32':
      return 4;
    case 'int8':
    case 'uint8':
      return 1;
    case 'int64':
      return 8;
  }
}

export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function isConstant(g: Graph, name: string): boolean {
  return g.tensors.get(name)?.data !== undefined;
}

/** Error in a model the user gave us: names the file, the node and the field. */
export class ModelError extends Error {
  constructor(
    readonly file: string,
    readonly where: string,
    readonly detail: string,
  ) {
    super(`${file}: ${where}: ${detail}`);
    this.name = 'ModelError';
  }
}
