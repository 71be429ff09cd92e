// Maps a decoded ONNX graph onto the IR (NHWC inside). Every ONNX value is tracked with its ONNX
// (NCHW) shape and the layout its IR tensor holds ('plain' = ONNX order, 'nhwc' = 4-D data permuted
// [0,2,3,1]); Transposes are inserted only where a layout-sensitive op needs the other order.

import { ModelError } from '../../ir/graph.ts';
import type { Attrs, Graph, Node, OpType, QuantParams } from '../../ir/graph.ts';
import { validateNodeAttrs } from '../../ir/op-schema.ts';
import { ONNX_DTYPE, onnxDtypeName } from './decode.ts';
import type { OnnxAttr, OnnxModel, OnnxNode, OnnxTensor } from './decode.ts';
import { foldConstantNode, FOLDABLE_OPS } from './fold.ts';
import { orderPreserved, permute, TO_NCHW, TO_NHWC } from './shapes.ts';
import { FLOAT_HANDLERS } from './ops/index.ts';
import { QUANT_HANDLERS } from './ops/quant.ts';

const HANDLERS: Record<string, Handler> = { ...FLOAT_HANDLERS, ...QUANT_HANDLERS };

export interface OnnxImportOptions {
  /** Static shapes for graph inputs with symbolic dims, e.g. { input: [1, 3, 224, 224] }. */
  shapes?: Record<string, number[]>;
  /** Graph inputs to treat as constants with these values (e.g. shape tensors fed as inputs). */
  constants?: Record<string, OnnxTensor>;
}

export type Layout = 'plain' | 'nhwc';
/** `quant`: the scale / zero point a DequantizeLinear gave this constant (QDQ models), kept exactly. */
export interface ConstValue {
  kind: 'const';
  t: OnnxTensor;
  quant?: QuantParams;
}
export interface ActValue {
  kind: 'act';
  ir: string;
  shape: number[];
  layout: Layout;
}
export type Value = ConstValue | ActValue;
export type Handler = (c: Importer, n: OnnxNode) => void;

/** Ops the importer maps (besides constant folding); the conformance table lists the same set. */
export const SUPPORTED_OPS = [
  'Conv',
  'Gemm',
  'MatMul',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Max',
  'Min',
  'Relu',
  'Clip',
  'LeakyRelu',
  'PRelu',
  'Sigmoid',
  'Tanh',
  'Exp',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'BatchNormalization',
  'Flatten',
  'Reshape',
  'Transpose',
  'Concat',
  'Softmax',
  'Squeeze',
  'Unsqueeze',
  'Pad',
  'Slice',
  'Identity',
  'Dropout',
  'Constant',
  'Neg',
  'QuantizeLinear',
  'DequantizeLinear',
  'QLinearConv',
  'QLinearMatMul',
  'HardSigmoid',
  'HardSwish',
  'Sum',
  'ReduceMean',
  'Mean',
  'Reciprocal',
  'Split',
  'Cast',
] as const;

/** Ops of onnxruntime's com.microsoft domain that its quantiser writes (QOperator format). */
export const MS_OPS = new Set(['QLinearAdd', 'QGemm', 'QuantizeLinear', 'DequantizeLinear']);

const SUPPORTED = new Set<string>([...SUPPORTED_OPS, ...FOLDABLE_OPS]);

export class Importer {
  readonly g: Graph;
  readonly values = new Map<string, Value>();
  private readonly used = new Set<string>();
  readonly graphOutputs: Set<string>;
  private readonly nhwcCache = new Map<string, string>();
  private readonly nodeNames = new Set<string>();
  private readonly plainCache = new Map<string, string>();
  /** The ONNX node being converted, for error messages and helper node names. */
  cur: OnnxNode | undefined;

  constructor(
    readonly model: OnnxModel,
    readonly file: string,
    readonly opts: OnnxImportOptions,
  ) {
    const og = model.graph;
    this.g = { name: og.name || 'onnx', tensors: new Map(), nodes: [], inputs: [], outputs: [], source: file };
    this.graphOutputs = new Set(og.outputs.map((o) => o.name));
    for (const n of og.nodes) for (const x of [...n.inputs, ...n.outputs]) if (x) this.used.add(x);
    for (const x of [...og.inputs, ...og.outputs]) this.used.add(x.name);
    for (const k of og.initializers.keys()) this.used.add(k);
  }

  get opset(): number {
    return this.model.opset;
  }

  fail(field: string, detail: string): never {
    const where = this.cur ? `node '${this.cur.name}' (${this.cur.opType})` : 'graph';
    throw new ModelError(this.file, where, `${field}: ${detail}`);
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  addNode(op: OpType, inputs: string[], outputs: string[], attrs: Attrs, name?: string): void {
    // Node names are their own namespace; the ONNX node's name goes to its main IR node when free.
    let nodeName = name ?? `${this.cur?.name ?? 'onnx'}/${op}`;
    for (let i = 1; this.nodeNames.has(nodeName); i++) nodeName = `${name ?? `${this.cur?.name ?? 'onnx'}/${op}`}_${i}`;
    this.nodeNames.add(nodeName);
    const node: Node = { name: nodeName, op, inputs, outputs, attrs };
    validateNodeAttrs(node, this.file);
    this.g.nodes.push(node);
  }

  addAct(name: string, irShape: number[]): void {
    this.g.tensors.set(name, { name, dtype: 'float32', shape: [...irShape] });
  }

  constIR(values: ArrayLike<number>, dims: number[], base: string, quant?: QuantParams): string {
    const name = this.fresh(base);
    this.g.tensors.set(name, {
      name,
      dtype: 'float32',
      shape: dims.length === 0 ? [1] : [...dims],
      data: Float32Array.from(values),
    });
    if (quant) this.g.tensors.get(name)!.quant = quant;
    return name;
  }

  /** Quant params of constant input i (from a DequantizeLinear), with `axis` remapped and scales multiplied. */
  quantOf(i: number, axisMap: (a: number) => number = (a) => a, factor = 1): QuantParams | undefined {
    const v = this.input(i);
    if (v?.kind !== 'const' || !v.quant) return undefined;
    const q = v.quant;
    return {
      scale: q.scale.map((x) => x * factor),
      zeroPoint: [...q.zeroPoint],
      ...(q.axis === undefined ? {} : { axis: axisMap(q.axis) }),
    };
  }

  irShape(v: ActValue): number[] {
    return v.layout === 'nhwc' ? permute(v.shape, TO_NHWC) : v.shape;
  }

  // ---- values -----------------------------------------------------------------------------

  input(i: number): Value | undefined {
    const name = this.cur!.inputs[i];
    if (!name) return undefined;
    const v = this.values.get(name);
    if (!v) this.fail(`inputs[${i}]`, `expected a value produced earlier in the graph, found unknown tensor '${name}'`);
    return v;
  }

  act(i: number): ActValue {
    const v = this.input(i);
    if (!v) this.fail(`inputs[${i}]`, 'expected a tensor, found none');
    if (v.kind === 'const') {
      // A constant in an activation slot becomes an IR constant in ONNX layout.
      const ir = this.constIR(v.t.values, v.t.dims, `${this.cur!.inputs[i]}`);
      this.checkFloat(v.t, i);
      return { kind: 'act', ir, shape: v.t.dims.length === 0 ? [1] : v.t.dims, layout: 'plain' };
    }
    return v;
  }

  checkFloat(t: OnnxTensor, i: number): void {
    if (t.dtype !== ONNX_DTYPE.FLOAT && t.dtype !== ONNX_DTYPE.DOUBLE && t.dtype !== ONNX_DTYPE.FLOAT16) {
      this.fail(`inputs[${i}]`, `expected float data, found ${onnxDtypeName(t.dtype)} (edgec computes in float32)`);
    }
  }

  constInput(i: number, what: string): OnnxTensor {
    const v = this.input(i);
    if (!v) this.fail(`inputs[${i}]`, `expected ${what}, found none`);
    if (v.kind !== 'const') {
      this.fail(
        `inputs[${i}]`,
        `expected ${what} as a constant (initializer or Constant), found the computed tensor '${this.cur!.inputs[i]}'`,
      );
    }
    return v.t;
  }

  optConst(i: number, what: string): OnnxTensor | undefined {
    return this.cur!.inputs[i] ? this.constInput(i, what) : undefined;
  }

  setConst(name: string, t: OnnxTensor, quant?: QuantParams): void {
    this.values.set(name, { kind: 'const', t: { ...t, name }, quant });
  }

  /** Registers ONNX value `name` as produced in `layout`; returns the IR tensor name to write. */
  produce(name: string, shape: number[], layout: Layout): string {
    const ir = layout === 'nhwc' && this.graphOutputs.has(name) ? this.fresh(`${name}__nhwc`) : name;
    this.values.set(name, { kind: 'act', ir, shape, layout });
    this.addAct(ir, layout === 'nhwc' ? permute(shape, TO_NHWC) : shape);
    return ir;
  }

  alias(name: string, v: Value): void {
    this.values.set(name, v);
  }

  toNhwc(v: ActValue): string {
    if (v.layout === 'nhwc') return v.ir;
    if (v.shape.length !== 4) this.fail('inputs', `expected 4-D data [N,C,H,W], found shape [${v.shape}]`);
    const cached = this.nhwcCache.get(v.ir);
    if (cached) return cached;
    const out = this.fresh(`${v.ir}__nhwc`);
    this.addAct(out, permute(v.shape, TO_NHWC));
    if (orderPreserved(v.shape, TO_NHWC)) this.addNode('Reshape', [v.ir], [out], { shape: permute(v.shape, TO_NHWC) });
    else this.addNode('Transpose', [v.ir], [out], { perm: TO_NHWC });
    this.nhwcCache.set(v.ir, out);
    return out;
  }

  /** IR tensor holding `v` in ONNX (row-major NCHW) order. */
  toPlain(v: ActValue): string {
    if (v.layout === 'plain') return v.ir;
    const cached = this.plainCache.get(v.ir);
    if (cached) return cached;
    const out = this.fresh(`${v.ir}__nchw`);
    this.addAct(out, v.shape);
    const irShape = this.irShape(v);
    if (orderPreserved(irShape, TO_NCHW)) this.addNode('Reshape', [v.ir], [out], { shape: [...v.shape] });
    else this.addNode('Transpose', [v.ir], [out], { perm: TO_NCHW });
    this.plainCache.set(v.ir, out);
    return out;
  }

  /** IR tensor whose row-major data equals `v` in ONNX order, for reshape-like ops (any IR shape). */
  orderedSource(v: ActValue): string {
    if (v.layout === 'nhwc' && orderPreserved(this.irShape(v), TO_NCHW)) return v.ir;
    return this.toPlain(v);
  }

  /** Emits a Reshape of `v` to ONNX shape `shape` as value `outName` (plain layout). */
  reshapeTo(v: ActValue, shape: number[], outName: string): void {
    const src = this.orderedSource(v);
    const srcShape = this.g.tensors.get(src)!.shape;
    if (
      srcShape.length === shape.length &&
      srcShape.every((d, i) => d === shape[i]) &&
      !this.graphOutputs.has(outName)
    ) {
      this.values.set(outName, { kind: 'act', ir: src, shape, layout: 'plain' });
      return;
    }
    const ir = this.produce(outName, shape, 'plain');
    this.addNode('Reshape', [src], [ir], { shape: [...shape] });
  }

  // ---- attrs ------------------------------------------------------------------------------

  attr(name: string): OnnxAttr | undefined {
    return this.cur!.attrs.get(name);
  }

  int(name: string, def: number): number {
    const a = this.attr(name);
    if (!a) return def;
    if (a.kind !== 'int') this.fail(`attr '${name}'`, `expected an int, found ${a.kind}`);
    return a.value;
  }

  float(name: string, def: number): number {
    const a = this.attr(name);
    if (!a) return def;
    if (a.kind !== 'float' && a.kind !== 'int') this.fail(`attr '${name}'`, `expected a float, found ${a.kind}`);
    return a.value as number;
  }

  ints(name: string): number[] | undefined {
    const a = this.attr(name);
    if (!a) return undefined;
    if (a.kind !== 'ints') this.fail(`attr '${name}'`, `expected a list of ints, found ${a.kind}`);
    return a.value;
  }

  str(name: string, def: string): string {
    const a = this.attr(name);
    if (!a) return def;
    if (a.kind !== 'string') this.fail(`attr '${name}'`, `expected a string, found ${a.kind}`);
    return a.value;
  }

  // ---- driver -----------------------------------------------------------------------------

  run(): Graph {
    const og = this.model.graph;
    if (og.outputs.length === 0)
      throw new ModelError(
        this.file,
        'graph',
        'outputs: expected at least one graph output, found none (nothing to compute)',
      );
    this.checkOps();
    for (const [name, t] of og.initializers) this.values.set(name, { kind: 'const', t });
    for (const [name, t] of Object.entries(this.opts.constants ?? {}))
      this.values.set(name, { kind: 'const', t: { ...t, name } });
    for (const vi of og.inputs) {
      if (this.values.has(vi.name)) continue; // inputs that are also initializers are constants
      if (vi.elemType !== ONNX_DTYPE.FLOAT) {
        throw new ModelError(
          this.file,
          `input '${vi.name}'`,
          `dtype: expected float32 data, found ${onnxDtypeName(vi.elemType)} (edgec models take float32 inputs)`,
        );
      }
      const shape = this.inputShape(vi.name, vi.dims);
      this.g.inputs.push(vi.name);
      this.values.set(vi.name, { kind: 'act', ir: vi.name, shape, layout: 'plain' });
      this.addAct(vi.name, shape);
    }
    for (const node of og.nodes) {
      this.cur = node;
      this.convert(node);
    }
    this.cur = undefined;
    for (const o of og.outputs) this.finishOutput(o.name);
    return this.g;
  }

  inputShape(name: string, dims: (number | string)[] | undefined): number[] {
    const given = this.opts.shapes?.[name];
    const where = `input '${name}'`;
    const negative = dims?.findIndex((d) => typeof d === 'number' && d < 0) ?? -1;
    if (negative >= 0) {
      throw new ModelError(
        this.file,
        where,
        `shape: dim ${negative} is ${dims![negative]} in [${dims!.join(', ')}]; expected a size ≥ 1 or a symbolic name (the model file is malformed)`,
      );
    }
    if (given) {
      // Rank-0 inputs are carried as [1] (same data, one element).
      if (dims?.length === 0 && given.length <= 1 && (given[0] ?? 1) === 1) return [1];
      if (dims && dims.length !== given.length) {
        throw new ModelError(
          this.file,
          where,
          `shape: expected ${dims.length} dims [${dims}] to match --shape, found ${given.length} ([${given}])`,
        );
      }
      dims?.forEach((d, i) => {
        if (typeof d === 'number' && d !== given[i]) {
          throw new ModelError(this.file, where, `shape: dim ${i} is ${d} in the model, found ${given[i]} in --shape`);
        }
      });
      if (!given.every((d) => Number.isInteger(d) && d > 0)) {
        throw new ModelError(this.file, where, `shape: expected positive integers, found [${given}]`);
      }
      return [...given];
    }
    if (dims?.length === 0) return [1];
    if (!dims) {
      throw new ModelError(
        this.file,
        where,
        `shape: the model gives no shape; pass one, e.g. --shape ${name}=1x3x224x224`,
      );
    }
    // A symbolic batch dim (the usual 'N' / 'batch_size') becomes 1; any other must be given.
    const shape = dims.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 1 : NaN));
    if (shape.some((d) => Number.isNaN(d))) {
      const example = dims.map((d) => (typeof d === 'number' ? d : 1)).join('x');
      throw new ModelError(
        this.file,
        where,
        `shape: dims [${dims.join(', ')}] are dynamic and cannot be made static; pass a static shape, e.g. --shape ${name}=${example}`,
      );
    }
    return shape;
  }

  checkOps(): void {
    const bad = new Map<string, string[]>();
    for (const n of this.model.graph.nodes) {
      const ok =
        ((n.domain === '' || n.domain === 'ai.onnx') && SUPPORTED.has(n.opType)) ||
        (n.domain === 'com.microsoft' && MS_OPS.has(n.opType));
      if (ok) continue;
      const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
      const list = bad.get(key) ?? [];
      list.push(n.name);
      bad.set(key, list);
    }
    if (bad.size === 0) return;
    const parts = [...bad].map(
      ([op, names]) =>
        `${op} ×${names.length} (${names
          .slice(0, 3)
          .map((s) => `'${s}'`)
          .join(', ')}${names.length > 3 ? ', …' : ''})`,
    );
    throw new ModelError(
      this.file,
      'graph',
      `ops: expected ops edgec supports (docs/onnx-support.md), found ${bad.size} unsupported op type(s): ${parts.join('; ')}`,
    );
  }

  finishOutput(name: string): void {
    const v = this.values.get(name);
    if (!v) throw new ModelError(this.file, `output '${name}'`, 'expected a tensor computed by the graph, found none');
    if (v.kind === 'const') {
      throw new ModelError(
        this.file,
        `output '${name}'`,
        'expected a computed tensor, found a constant (nothing to run)',
      );
    }
    this.g.outputs.push(name);
    if (v.ir === name) return;
    this.addAct(name, v.shape);
    const src = v.ir;
    if (v.layout === 'nhwc' && !orderPreserved(this.irShape(v), TO_NCHW)) {
      this.addNode('Transpose', [src], [name], { perm: TO_NCHW }, `${name}/to_nchw`);
    } else {
      this.addNode('Reshape', [src], [name], { shape: [...v.shape] }, `${name}/output`);
    }
  }

  convert(node: OnnxNode): void {
    const allConst = node.inputs.every((x) => !x || this.values.get(x)?.kind === 'const');
    if (node.opType === 'Constant' || (allConst && FOLDABLE_OPS.includes(node.opType) && node.inputs.some((x) => x))) {
      const folded = foldConstantNode(node, (i) => (this.input(i) as ConstValue | undefined)?.t, this.opset, this.file);
      if (folded) {
        folded.forEach((t, i) => {
          if (node.outputs[i]) this.setConst(node.outputs[i], t);
        });
        return;
      }
    }
    if (node.opType === 'Shape') {
      const v = this.input(0)!;
      const shape = v.kind === 'const' ? v.t.dims : v.shape;
      const rank = shape.length;
      let start = this.int('start', 0);
      let end = this.int('end', rank);
      if (start < 0) start += rank;
      if (end < 0) end += rank;
      start = Math.min(Math.max(start, 0), rank);
      end = Math.min(Math.max(end, 0), rank);
      const dims = shape.slice(start, Math.max(start, end));
      this.setConst(node.outputs[0], {
        name: '',
        dtype: ONNX_DTYPE.INT64,
        dims: [dims.length],
        values: Float64Array.from(dims),
      });
      return;
    }
    const handler = HANDLERS[node.opType];
    if (!handler)
      this.fail(
        'op',
        `expected an op with computed inputs edgec maps, found ${node.opType} on computed tensors (only constant inputs fold)`,
      );
    handler(this, node);
  }
}

export function importOnnxModel(model: OnnxModel, file: string, opts: OnnxImportOptions = {}): Graph {
  if (model.opset !== 0 && (model.opset < 1 || model.opset > 21)) {
    throw new ModelError(
      file,
      'opset_import',
      `expected opset 1 to 21 of the default domain, found ${model.opset} (convert with onnx.version_converter)`,
    );
  }
  return new Importer(model, file, opts).run();
}
