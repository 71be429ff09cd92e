// ONNX export: an IR graph (float32) → a standard ONNX ModelProto (opset 13, IR version 8), encoded
// with protobufjs from the same onnx.proto descriptor the importer decodes with.
// Layout: every ONNX tensor keeps its IR shape (NHWC activations; graph inputs and outputs exactly
// as the IR declares them, so the exported file takes the same .npy data). The ops ONNX defines on
// NCHW (Conv, pools, BatchNormalization on rank 4) read a Transpose [0,3,1,2] of their input and
// write a Transpose [0,2,3,1] back; a tensor already available in NCHW (the previous such op's
// result) is reused, so a chain of convolutions costs one Transpose pair. Conv weights are
// re-laid out OHWI → OIHW at export. Fused activations become Relu / Clip nodes after the op.
// Quantised graphs (int8 tensors, Quantize / Dequantize / Requantize) are refused by name.
import { ModelError, type Graph, type Node, type Tensor, type TensorData } from '../ir/graph.ts';
import { cloneGraph } from '../compile.ts';
import { inferShapes } from '../passes/infer-shapes.ts';
import { resolvePadding } from '../ir/ops/helpers.ts';
import { onnxProtoRoot } from '../frontend/onnx/decode.ts';

export const EXPORT_OPSET = 13;

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];
const ONNX_TYPE = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7 } as const;

type OnnxAttr = {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
};
interface OnnxNodeOut {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: OnnxAttr[];
  domain: string;
}
interface OnnxInit {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

const ints = (name: string, v: number[]): OnnxAttr => ({ name, type: 7, ints: v });
const int = (name: string, v: number): OnnxAttr => ({ name, type: 2, i: v });
const float = (name: string, v: number): OnnxAttr => ({ name, type: 1, f: v });

function bytesOf(d: TensorData): Uint8Array {
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
}

/** Builds the ONNX graph node by node; names are the IR's, helper tensors get `<name>__<role>`. */
class Exporter {
  readonly nodes: OnnxNodeOut[] = [];
  readonly inits: OnnxInit[] = [];
  private readonly names = new Set<string>();
  private readonly nodeNames = new Set<string>();
  /** IR tensor → name of the same values in NCHW order, when one exists already. */
  private readonly nchw = new Map<string, string>();

  constructor(private readonly g: Graph) {
    for (const n of g.tensors.keys()) this.names.add(n);
    for (const n of g.nodes) this.names.add(n.name);
  }

  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  node(op: string, input: string[], output: string[], attribute: OnnxAttr[] = [], name = output[0]!): void {
    const unique = this.nodeNames.has(name) ? this.fresh(name) : name;
    this.nodeNames.add(unique);
    this.nodes.push({ name: unique, op_type: op, input, output, attribute, domain: '' });
  }

  init(name: string, dims: number[], dtype: keyof typeof ONNX_TYPE, data: TensorData): string {
    this.inits.push({ name, dims, data_type: ONNX_TYPE[dtype], raw_data: bytesOf(data) });
    return name;
  }

  int64s(base: string, v: readonly number[]): string {
    return this.init(
      this.fresh(base),
      [v.length],
      'int64',
      BigInt64Array.from(v, (x) => BigInt(x)),
    );
  }

  floatScalar(base: string, v: number): string {
    return this.init(this.fresh(base), [], 'float32', Float32Array.of(v));
  }

  shape(name: string): number[] {
    const s = this.g.tensors.get(name)?.shape;
    if (!s) throw new ModelError(this.g.source, `tensor '${name}'`, 'has no inferred shape');
    return s;
  }

  /** The NCHW version of the rank-4 NHWC IR tensor `x` (a Transpose, made once). */
  toNchw(x: string): string {
    let t = this.nchw.get(x);
    if (!t) {
      t = this.fresh(`${x}__nchw`);
      this.node('Transpose', [x], [t], [ints('perm', TO_NCHW)], this.fresh(`${x}/to_nchw`));
      this.nchw.set(x, t);
    }
    return t;
  }

  /** Runs an NCHW op producing `t` (NCHW), then the Transpose to the IR's NHWC `out` (after `act`). */
  fromNchw(n: Node, t: string, out: string): void {
    const act = activation(n);
    let y = t;
    if (act) {
      y = this.fresh(`${out}__nchw`);
      this.act(n, act, t, y);
    }
    this.node('Transpose', [y], [out], [ints('perm', TO_NHWC)], this.fresh(`${n.name}/to_nhwc`));
    this.nchw.set(out, y);
  }

  /** Emits the fused activation `act` of node n: y = act(x). */
  act(n: Node, act: { min: number; max: number; relu: boolean }, x: string, y: string): void {
    if (act.relu) this.node('Relu', [x], [y], [], this.fresh(`${n.name}/relu`));
    else
      this.node(
        'Clip',
        [x, this.floatScalar(`${n.name}__min`, act.min), this.floatScalar(`${n.name}__max`, act.max)],
        [y],
        [],
        this.fresh(`${n.name}/clip`),
      );
  }

  /** An op with a fused activation on its output `out`: the op writes a temp, the activation `out`. */
  withAct(n: Node, out: string, emit: (y: string) => void): void {
    const act = activation(n);
    if (!act) return emit(out);
    const t = this.fresh(`${out}__pre`);
    emit(t);
    this.act(n, act, t, out);
  }
}

function activation(n: Node): { min: number; max: number; relu: boolean } | undefined {
  const a = n.attrs.activation ?? 'none';
  if (a === 'relu') return { min: 0, max: Infinity, relu: true };
  if (a === 'clip') {
    const c = (n.attrs.clip as number[] | undefined) ?? [0, 6];
    return { min: c[0]!, max: c[1]!, relu: false };
  }
  return undefined;
}

const num = (n: Node, k: string, d: number) => (n.attrs[k] as number | undefined) ?? d;
const nums = (n: Node, k: string, d: number[]) => (n.attrs[k] as number[] | undefined) ?? d;

type Rule = (e: Exporter, n: Node, g: Graph) => void;

function conv(e: Exporter, n: Node, g: Graph): void {
  const [x, w, b] = n.inputs as [string, string, string?];
  const wt = g.tensors.get(w)!;
  if (!(wt.data instanceof Float32Array))
    throw new ModelError(g.source, `node '${n.name}' (Conv2D)`, 'weights must be float32 constants to export');
  const [co, kh, kw, ci] = wt.shape as [number, number, number, number];
  const oihw = new Float32Array(wt.data.length);
  for (let o = 0; o < co; o++)
    for (let y = 0; y < kh; y++)
      for (let z = 0; z < kw; z++)
        for (let c = 0; c < ci; c++) {
          oihw[((o * ci + c) * kh + y) * kw + z] = wt.data[((o * kh + y) * kw + z) * ci + c]!;
        }
  const [, h, wd] = e.shape(x) as [number, number, number, number];
  const s = nums(n, 'strides', [1, 1]),
    d = nums(n, 'dilations', [1, 1]);
  const pads = resolvePadding(n, g.source, h, wd, kh, kw, s[0]!, s[1]!, d[0]!, d[1]!);
  const inputs = [e.toNchw(x), e.init(e.fresh(`${w}__oihw`), [co, ci, kh, kw], 'float32', oihw)];
  if (b) inputs.push(b);
  const t = e.fresh(`${n.outputs[0]}__nchw_conv`);
  e.node(
    'Conv',
    inputs,
    [t],
    [
      ints('kernel_shape', [kh, kw]),
      ints('strides', s),
      ints('dilations', d),
      ints('pads', pads),
      int('group', num(n, 'groups', 1)),
    ],
    n.name,
  );
  e.fromNchw(n, t, n.outputs[0]!);
}

function pool(op: 'MaxPool' | 'AveragePool'): Rule {
  return (e, n, g) => {
    const x = n.inputs[0]!;
    const [, h, w] = e.shape(x) as [number, number, number, number];
    const k = nums(n, 'kernel', [1, 1]),
      s = nums(n, 'strides', k);
    const pads = resolvePadding(n, g.source, h, w, k[0]!, k[1]!, s[0]!, s[1]!, 1, 1);
    const attrs = [ints('kernel_shape', k), ints('strides', s), ints('pads', pads)];
    if (op === 'AveragePool') attrs.push(int('count_include_pad', n.attrs.countIncludePad ? 1 : 0));
    const t = e.fresh(`${n.outputs[0]}__nchw_pool`);
    e.node(op, [e.toNchw(x)], [t], attrs, n.name);
    e.fromNchw(n, t, n.outputs[0]!);
  };
}

const simple =
  (op: string, attrs: (n: Node) => OnnxAttr[] = () => []): Rule =>
  (e, n) =>
    e.node(op, n.inputs, n.outputs, attrs(n), n.name);

const RULES: Partial<Record<Node['op'], Rule>> = {
  Conv2D: conv,
  Dense: (e, n) =>
    e.withAct(n, n.outputs[0]!, (y) =>
      e.node(
        'Gemm',
        n.inputs.filter((i) => i !== ''),
        [y],
        [int('transB', 1)],
        n.name,
      ),
    ),
  BatchNorm: (e, n, g) => {
    const [x, scale, bias, mean, variance] = n.inputs as [string, string, string, string, string];
    const rank = e.shape(x).length;
    const attrs = [float('epsilon', num(n, 'epsilon', 1e-5))];
    if (rank === 2) return e.node('BatchNormalization', [x, scale, bias, mean, variance], n.outputs, attrs, n.name);
    if (rank !== 4)
      throw new ModelError(
        g.source,
        `node '${n.name}' (BatchNorm)`,
        `export supports rank 2 or 4 inputs, found rank ${rank}`,
      );
    const t = e.fresh(`${n.outputs[0]}__nchw_bn`);
    e.node('BatchNormalization', [e.toNchw(x), scale, bias, mean, variance], [t], attrs, n.name);
    e.fromNchw(n, t, n.outputs[0]!);
  },
  Add: (e, n) => e.withAct(n, n.outputs[0]!, (y) => e.node('Add', n.inputs, [y], [], n.name)),
  Sub: (e, n) => e.withAct(n, n.outputs[0]!, (y) => e.node('Sub', n.inputs, [y], [], n.name)),
  Mul: (e, n) => e.withAct(n, n.outputs[0]!, (y) => e.node('Mul', n.inputs, [y], [], n.name)),
  Div: simple('Div'),
  Max: simple('Max'),
  Min: simple('Min'),
  PRelu: simple('PRelu'),
  Relu: simple('Relu'),
  Sigmoid: simple('Sigmoid'),
  Tanh: simple('Tanh'),
  Exp: simple('Exp'),
  Relu6: (e, n) =>
    e.node(
      'Clip',
      [n.inputs[0]!, e.floatScalar(`${n.name}__min`, 0), e.floatScalar(`${n.name}__max`, 6)],
      n.outputs,
      [],
      n.name,
    ),
  Clip: (e, n) =>
    e.node(
      'Clip',
      [
        n.inputs[0]!,
        e.floatScalar(`${n.name}__min`, num(n, 'min', -3.4028234663852886e38)),
        e.floatScalar(`${n.name}__max`, num(n, 'max', 3.4028234663852886e38)),
      ],
      n.outputs,
      [],
      n.name,
    ),
  LeakyRelu: simple('LeakyRelu', (n) => [float('alpha', num(n, 'alpha', 0.01))]),
  // ONNX HardSwish needs opset 14: x · HardSigmoid(x; 1/6, 1/2) is its opset-13 definition
  HardSwish: (e, n) => {
    const h = e.fresh(`${n.outputs[0]}__hsig`);
    e.node('HardSigmoid', [n.inputs[0]!], [h], [float('alpha', 1 / 6), float('beta', 0.5)], `${n.name}__hsig`);
    e.node('Mul', [n.inputs[0]!, h], n.outputs, [], n.name);
  },
  MaxPool: pool('MaxPool'),
  AvgPool: pool('AveragePool'),
  GlobalAvgPool: (e, n) => {
    const t = e.fresh(`${n.outputs[0]}__nchw_gap`);
    e.node('GlobalAveragePool', [e.toNchw(n.inputs[0]!)], [t], [], n.name);
    e.fromNchw(n, t, n.outputs[0]!);
  },
  Reshape: (e, n) =>
    e.node('Reshape', [n.inputs[0]!, e.int64s(`${n.name}__shape`, e.shape(n.outputs[0]!))], n.outputs, [], n.name),
  Flatten: simple('Flatten', (n) => [int('axis', num(n, 'axis', 1))]),
  Transpose: simple('Transpose', (n) => [ints('perm', nums(n, 'perm', []))]),
  Concat: simple('Concat', (n) => [int('axis', num(n, 'axis', 0))]),
  Softmax: simple('Softmax', (n) => [int('axis', num(n, 'axis', -1))]),
  Pad: (e, n) =>
    e.node(
      'Pad',
      [
        n.inputs[0]!,
        e.int64s(`${n.name}__pads`, nums(n, 'pads', [])),
        e.floatScalar(`${n.name}__value`, num(n, 'value', 0)),
      ],
      n.outputs,
      [],
      n.name,
    ),
  Slice: (e, n) => {
    const starts = nums(n, 'starts', []);
    const inputs = [
      n.inputs[0]!,
      e.int64s(`${n.name}__starts`, starts),
      e.int64s(`${n.name}__ends`, nums(n, 'ends', [])),
      e.int64s(
        `${n.name}__axes`,
        nums(
          n,
          'axes',
          starts.map((_, i) => i),
        ),
      ),
      e.int64s(
        `${n.name}__steps`,
        nums(
          n,
          'steps',
          starts.map(() => 1),
        ),
      ),
    ];
    e.node('Slice', inputs, n.outputs, [], n.name);
  },
};

function valueInfo(t: Tensor) {
  return {
    name: t.name,
    type: { tensor_type: { elem_type: ONNX_TYPE[t.dtype], shape: { dim: t.shape.map((d) => ({ dim_value: d })) } } },
  };
}

/** The ONNX ModelProto bytes of a float32 IR graph; errors name the graph's source and the node. */
export function exportOnnx(graph: Graph, opts: { producerVersion?: string } = {}): Uint8Array {
  const g = cloneGraph(graph);
  inferShapes.run(g);
  for (const t of g.tensors.values()) {
    if (t.dtype !== 'float32' && !(t.data && (t.dtype === 'int64' || t.dtype === 'int32'))) {
      throw new ModelError(
        g.source,
        `tensor '${t.name}'`,
        `is ${t.dtype}: ONNX export writes float32 graphs (export the float model; quantised graphs are not exported)`,
      );
    }
  }
  const e = new Exporter(g);
  const unsupported = g.nodes.filter((n) => !RULES[n.op]);
  if (unsupported.length > 0) {
    throw new ModelError(
      g.source,
      `node '${unsupported[0]!.name}' (${unsupported[0]!.op})`,
      `ONNX export has no rule for ${[...new Set(unsupported.map((n) => n.op))].join(', ')}`,
    );
  }
  for (const n of g.nodes) RULES[n.op]!(e, n, g);
  const used = new Set(e.nodes.flatMap((n) => n.input));
  for (const t of g.tensors.values())
    if (t.data && used.has(t.name)) e.init(t.name, t.shape, t.dtype as keyof typeof ONNX_TYPE, t.data);
  const Model = onnxProtoRoot().lookupType('onnx.ModelProto');
  const msg = Model.fromObject({
    ir_version: 8,
    producer_name: 'edgec',
    producer_version: opts.producerVersion ?? '',
    opset_import: [{ domain: '', version: EXPORT_OPSET }],
    graph: {
      name: g.name,
      node: e.nodes,
      initializer: e.inits,
      input: g.inputs.map((n) => valueInfo(g.tensors.get(n)!)),
      output: g.outputs.map((n) => valueInfo(g.tensors.get(n)!)),
    },
  });
  return Model.encode(msg).finish();
}
