// Maps a decoded ONNX graph onto the IR (NHWC inside). Every ONNX value is tracked with its ONNX
// (NCHW) shape and the layout its IR tensor holds ('plain' = ONNX order, 'nhwc' = 4-D data permuted
// [0,2,3,1]); Transposes are inserted only where a layout-sensitive op needs the other order.

import { ModelError, numElements } from '../../ir/graph.ts';
import type { Attrs, Graph, Node, OpType, QuantParams } from '../../ir/graph.ts';
import { validateNodeAttrs, FLOAT32_MAX } from '../../ir/op-schema.ts';
import { ONNX_DTYPE, onnxDtypeName } from './decode.ts';
import type { OnnxAttr, OnnxModel, OnnxNode, OnnxTensor } from './decode.ts';
import { foldConstantNode, FOLDABLE_OPS } from './fold.ts';
import { broadcastShapes, orderPreserved, permute, permuteData, reshapeTarget } from './shapes.ts';

export interface OnnxImportOptions {
  /** Static shapes for graph inputs with symbolic dims, e.g. { input: [1, 3, 224, 224] }. */
  shapes?: Record<string, number[]>;
  /** Graph inputs to treat as constants with these values (e.g. shape tensors fed as inputs). */
  constants?: Record<string, OnnxTensor>;
}

type Layout = 'plain' | 'nhwc';
/** `quant`: the scale / zero point a DequantizeLinear gave this constant (QDQ models), kept exactly. */
interface ConstValue { kind: 'const'; t: OnnxTensor; quant?: QuantParams }
interface ActValue { kind: 'act'; ir: string; shape: number[]; layout: Layout }
type Value = ConstValue | ActValue;

const TO_NHWC = [0, 2, 3, 1];
const TO_NCHW = [0, 3, 1, 2];

/** Ops the importer maps (besides constant folding); the conformance table lists the same set. */
export const SUPPORTED_OPS = [
  'Conv', 'Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Relu', 'Clip', 'LeakyRelu', 'PRelu',
  'Sigmoid', 'Tanh', 'Exp', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool',
  'BatchNormalization', 'Flatten', 'Reshape', 'Transpose', 'Concat', 'Softmax', 'Squeeze', 'Unsqueeze', 'Pad',
  'Slice', 'Identity', 'Dropout', 'Constant', 'Neg', 'QuantizeLinear', 'DequantizeLinear',
  'QLinearConv', 'QLinearMatMul', 'HardSigmoid', 'HardSwish', 'Sum', 'ReduceMean', 'Mean', 'Reciprocal', 'Split',
  'Cast',
] as const;

/** Ops of onnxruntime's com.microsoft domain that its quantiser writes (QOperator format). */
export const MS_OPS = new Set(['QLinearAdd', 'QGemm', 'QuantizeLinear', 'DequantizeLinear']);

const SUPPORTED = new Set<string>([...SUPPORTED_OPS, ...FOLDABLE_OPS]);

class Importer {
  readonly g: Graph;
  readonly values = new Map<string, Value>();
  private readonly used = new Set<string>();
  readonly graphOutputs: Set<string>;
  private readonly nhwcCache = new Map<string, string>();
  private readonly nodeNames = new Set<string>();
  private readonly plainCache = new Map<string, string>();
  /** The ONNX node being converted, for error messages and helper node names. */
  cur: OnnxNode | undefined;

  constructor(readonly model: OnnxModel, readonly file: string, readonly opts: OnnxImportOptions) {
    const og = model.graph;
    this.g = { name: og.name || 'onnx', tensors: new Map(), nodes: [], inputs: [], outputs: [], source: file };
    this.graphOutputs = new Set(og.outputs.map((o) => o.name));
    for (const n of og.nodes) for (const x of [...n.inputs, ...n.outputs]) if (x) this.used.add(x);
    for (const x of [...og.inputs, ...og.outputs]) this.used.add(x.name);
    for (const k of og.initializers.keys()) this.used.add(k);
  }

  get opset(): number { return this.model.opset; }

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
    this.g.tensors.set(name, { name, dtype: 'float32', shape: dims.length === 0 ? [1] : [...dims], data: Float32Array.from(values) });
    if (quant) this.g.tensors.get(name)!.quant = quant;
    return name;
  }

  /** Quant params of constant input i (from a DequantizeLinear), with `axis` remapped and scales multiplied. */
  quantOf(i: number, axisMap: (a: number) => number = (a) => a, factor = 1): QuantParams | undefined {
    const v = this.input(i);
    if (v?.kind !== 'const' || !v.quant) return undefined;
    const q = v.quant;
    return {
      scale: q.scale.map((x) => x * factor), zeroPoint: [...q.zeroPoint],
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
      this.fail(`inputs[${i}]`, `expected ${what} as a constant (initializer or Constant), found the computed tensor '${this.cur!.inputs[i]}'`);
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
    if (srcShape.length === shape.length && srcShape.every((d, i) => d === shape[i]) && !this.graphOutputs.has(outName)) {
      this.values.set(outName, { kind: 'act', ir: src, shape, layout: 'plain' });
      return;
    }
    const ir = this.produce(outName, shape, 'plain');
    this.addNode('Reshape', [src], [ir], { shape: [...shape] });
  }

  // ---- attrs ------------------------------------------------------------------------------

  attr(name: string): OnnxAttr | undefined { return this.cur!.attrs.get(name); }

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
    this.checkOps();
    for (const [name, t] of og.initializers) this.values.set(name, { kind: 'const', t });
    for (const [name, t] of Object.entries(this.opts.constants ?? {})) this.values.set(name, { kind: 'const', t: { ...t, name } });
    for (const vi of og.inputs) {
      if (this.values.has(vi.name)) continue; // inputs that are also initializers are constants
      if (vi.elemType !== ONNX_DTYPE.FLOAT) {
        throw new ModelError(this.file, `input '${vi.name}'`,
          `dtype: expected float32 data, found ${onnxDtypeName(vi.elemType)} (edgec models take float32 inputs)`);
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
    if (given) {
      // Rank-0 inputs are carried as [1] (same data, one element).
      if (dims?.length === 0 && given.length <= 1 && (given[0] ?? 1) === 1) return [1];
      if (dims && dims.length !== given.length) {
        throw new ModelError(this.file, where, `shape: expected ${dims.length} dims [${dims}] to match --shape, found ${given.length} ([${given}])`);
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
      throw new ModelError(this.file, where, `shape: the model gives no shape; pass one, e.g. --shape ${name}=1x3x224x224`);
    }
    // A symbolic batch dim (the usual 'N' / 'batch_size') becomes 1; any other must be given.
    const shape = dims.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 1 : NaN));
    if (shape.some((d) => Number.isNaN(d))) {
      const example = dims.map((d) => (typeof d === 'number' ? d : 1)).join('x');
      throw new ModelError(this.file, where,
        `shape: dims [${dims.join(', ')}] are dynamic and cannot be made static; pass a static shape, e.g. --shape ${name}=${example}`);
    }
    return shape;
  }

  checkOps(): void {
    const bad = new Map<string, string[]>();
    for (const n of this.model.graph.nodes) {
      const ok = ((n.domain === '' || n.domain === 'ai.onnx') && SUPPORTED.has(n.opType))
        || (n.domain === 'com.microsoft' && MS_OPS.has(n.opType));
      if (ok) continue;
      const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
      const list = bad.get(key) ?? [];
      list.push(n.name);
      bad.set(key, list);
    }
    if (bad.size === 0) return;
    const parts = [...bad].map(([op, names]) =>
      `${op} ×${names.length} (${names.slice(0, 3).map((s) => `'${s}'`).join(', ')}${names.length > 3 ? ', …' : ''})`);
    throw new ModelError(this.file, 'graph',
      `ops: expected ops edgec supports (docs/onnx-support.md), found ${bad.size} unsupported op type(s): ${parts.join('; ')}`);
  }

  finishOutput(name: string): void {
    const v = this.values.get(name);
    if (!v) throw new ModelError(this.file, `output '${name}'`, 'expected a tensor computed by the graph, found none');
    if (v.kind === 'const') {
      throw new ModelError(this.file, `output '${name}'`, 'expected a computed tensor, found a constant (nothing to run)');
    }
    this.g.outputs.push(name);
    if (v.ir === name) return;
    this.addAct(name, v.shape);
    const src = v.layout === 'nhwc' ? v.ir : v.ir;
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
        folded.forEach((t, i) => { if (node.outputs[i]) this.setConst(node.outputs[i], t); });
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
      this.setConst(node.outputs[0], { name: '', dtype: ONNX_DTYPE.INT64, dims: [dims.length], values: Float64Array.from(dims) });
      return;
    }
    const handler = HANDLERS[node.opType];
    if (!handler) this.fail('op', `expected an op with computed inputs edgec maps, found ${node.opType} on computed tensors (only constant inputs fold)`);
    handler(this, node);
  }
}

// ---- op handlers ----------------------------------------------------------------------------

type Handler = (c: Importer, n: OnnxNode) => void;

function unary(op: OpType, attrs: (c: Importer) => Attrs = () => ({})): Handler {
  return (c, n) => {
    const x = c.act(0);
    const ir = c.produce(n.outputs[0], x.shape, x.layout);
    c.addNode(op, [x.ir], [ir], attrs(c), n.name);
  };
}

/** Elementwise binary op with numpy broadcasting; constants follow the activation's layout. */
function binary(c: Importer, op: OpType, va: Value, vb: Value, names: [string, string], out: string, name: string): void {
  const sa = va.kind === 'const' ? va.t.dims : va.shape;
  const sb = vb.kind === 'const' ? vb.t.dims : vb.shape;
  [va, vb].forEach((v, i) => { if (v.kind === 'const') c.checkFloat(v.t, i); });
  const shape = broadcastShapes(sa, sb);
  if (!shape) c.fail('inputs', `expected broadcastable shapes, found [${sa}] and [${sb}]`);
  const acts = [va, vb].filter((v): v is ActValue => v.kind === 'act');
  const nhwc = shape.length === 4 && acts.some((v) => v.layout === 'nhwc')
    && [va, vb].every((v) => (v.kind === 'const' ? v.t.dims.length <= 4 : v.shape.length === 4));
  const irOf = (v: Value, i: number): string => {
    if (v.kind === 'act') return nhwc ? c.toNhwc(v) : c.toPlain(v);
    if (!nhwc) return c.constIR(v.t.values, v.t.dims, names[i]);
    const dims4 = [...new Array(4 - v.t.dims.length).fill(1), ...v.t.dims];
    return c.constIR(permuteData(v.t.values, dims4, TO_NHWC), permute(dims4, TO_NHWC), `${names[i]}__nhwc`);
  };
  const a = irOf(va, 0);
  const b = irOf(vb, 1);
  const ir = c.produce(out, shape.length === 0 ? [1] : shape, nhwc ? 'nhwc' : 'plain');
  c.addNode(op, [a, b], [ir], {}, name);
}

function binaryHandler(op: OpType): Handler {
  return (c, n) => {
    if (n.inputs.length !== 2) c.fail('inputs', `expected 2 inputs, found ${n.inputs.length}`);
    const a = c.input(0)!;
    let b = c.input(1)!;
    const rankA = a.kind === 'const' ? a.t.dims.length : a.shape.length;
    const dimsB = b.kind === 'const' ? b.t.dims : b.shape;
    // Opset < 7: B aligned at `axis` (Add/Sub/Mul/Div with broadcast=1), PRelu slope [C] on axis 1.
    let axis: number | undefined;
    if (c.opset < 7 && op === 'PRelu' && dimsB.length === 1 && rankA > 2 && dimsB[0] > 1) axis = 1;
    if (c.opset < 7 && op !== 'PRelu' && c.int('broadcast', 0) === 1 && dimsB.length < rankA) {
      axis = c.int('axis', rankA - dimsB.length);
      if (axis < 0) axis += rankA;
    }
    if (axis !== undefined) {
      const aligned = [...dimsB, ...new Array(rankA - axis - dimsB.length).fill(1)];
      if (b.kind === 'const') b = { ...b, t: { ...b.t, dims: aligned } };
      else {
        const name = c.fresh(`${n.inputs[1]}__aligned`);
        c.reshapeTo(b, aligned, name);
        b = c.values.get(name)!;
      }
    }
    binary(c, op, a, b, [n.inputs[0], n.inputs[1]], n.outputs[0], n.name);
  };
}

/** ONNX Max/Min take 1..N inputs: chained pairwise. */
function variadic(op: OpType): Handler {
  return (c, n) => {
    if (n.inputs.length === 1) { c.alias(n.outputs[0], c.act(0)); return; }
    let acc = c.input(0)!;
    let accName = n.inputs[0];
    for (let i = 1; i < n.inputs.length; i++) {
      const last = i === n.inputs.length - 1;
      const out = last ? n.outputs[0] : c.fresh(`${n.outputs[0]}__${i}`);
      binary(c, op, acc, c.input(i)!, [accName, n.inputs[i]], out, last ? n.name : `${n.name}/${i}`);
      acc = c.values.get(out)!;
      accName = out;
    }
  };
}

interface Spatial { kernel: number[]; strides: number[]; dilations: number[]; pads: number[]; out: number[] }

/** Resolves ONNX pads/auto_pad/ceil_mode to explicit [top,left,bottom,right] pads for a 2-D window. */
function spatial(c: Importer, hw: number[], kernel: number[], allowCeil: boolean): Spatial {
  const strides = c.ints('strides') ?? [1, 1];
  const dilations = c.ints('dilations') ?? [1, 1];
  const autoPad = c.str('auto_pad', 'NOTSET');
  let pads = c.ints('pads') ?? [0, 0, 0, 0];
  if (strides.length !== 2 || dilations.length !== 2 || pads.length !== 4 || kernel.length !== 2) {
    c.fail('attrs', 'expected a 2-D window (kernel_shape, strides, dilations of 2, pads of 4), found another rank (only 2-D spatial ops are supported)');
  }
  const eff = kernel.map((k, i) => (k - 1) * dilations[i] + 1);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = hw.map((h, i) => Math.max((Math.ceil(h / strides[i]) - 1) * strides[i] + eff[i] - h, 0));
    const small = total.map((t) => Math.floor(t / 2));
    const begin = autoPad === 'SAME_UPPER' ? small : total.map((t, i) => t - small[i]);
    pads = [begin[0], begin[1], total[0] - begin[0], total[1] - begin[1]];
  } else if (autoPad === 'VALID') {
    pads = [0, 0, 0, 0];
  } else if (autoPad !== 'NOTSET') {
    c.fail(`attr 'auto_pad'`, `expected NOTSET, SAME_UPPER, SAME_LOWER or VALID, found ${autoPad}`);
  }
  const ceil = c.int('ceil_mode', 0) === 1;
  if (ceil && !allowCeil) c.fail(`attr 'ceil_mode'`, 'expected 0, found 1');
  const out = hw.map((h, i) => {
    const span = h + pads[i] + pads[i + 2] - eff[i];
    if (span < 0) c.fail('inputs', `window ${eff[i]} is larger than padded input ${h + pads[i] + pads[i + 2]}`);
    let o = (ceil ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
    // ONNX/PyTorch drop a last window that would start in the end padding.
    if (ceil && (o - 1) * strides[i] >= h + pads[i]) o--;
    return o;
  });
  if (ceil) {
    // Emulate ceil_mode with extra end padding that no window ever reads as data.
    pads = [...pads];
    for (let i = 0; i < 2; i++) {
      const need = (out[i] - 1) * strides[i] + eff[i] - (hw[i] + pads[i] + pads[i + 2]);
      if (need > 0) pads[i + 2] += need;
    }
  }
  return { kernel, strides, dilations, pads, out };
}

function conv(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  if (x.shape.length !== 4) c.fail('inputs[0]', `expected 4-D input [N,C,H,W] (2-D convolution), found shape [${x.shape}]`);
  const w = c.constInput(1, 'weights W');
  c.checkFloat(w, 1);
  const group = c.int('group', 1);
  if (w.dims.length !== 4) c.fail('inputs[1]', `expected 4-D weights [Co,Ci/group,KH,KW], found [${w.dims}]`);
  const [co, cig, kh, kw] = w.dims;
  const ci = x.shape[1];
  if (cig * group !== ci) c.fail('inputs[1]', `weights [${w.dims}] with group ${group} expected ${cig * group} input channels, found ${ci}`);
  const kernel = c.ints('kernel_shape') ?? [kh, kw];
  if (kernel[0] !== kh || kernel[1] !== kw) c.fail(`attr 'kernel_shape'`, `expected [${kh},${kw}] as in W, found [${kernel}]`);
  const s = spatial(c, x.shape.slice(2), kernel, false);
  // Per-output-channel quant (axis 0) stays axis 0 in OHWI.
  const inputs = [c.toNhwc(x), c.constIR(permuteData(w.values, w.dims, TO_NHWC), [co, kh, kw, cig], `${n.inputs[1]}__ohwi`, c.quantOf(1))];
  const b = c.optConst(2, 'bias B');
  if (b) {
    c.checkFloat(b, 2);
    if (numElements(b.dims) !== co) c.fail('inputs[2]', `expected ${co} bias values, found dims [${b.dims}]`);
    inputs.push(c.constIR(b.values, [co], n.inputs[2], c.quantOf(2)));
  }
  const ir = c.produce(n.outputs[0], [x.shape[0], co, ...s.out], 'nhwc');
  c.addNode('Conv2D', inputs, [ir], {
    strides: s.strides, dilations: s.dilations, padding: s.pads, groups: group,
  }, n.name);
}

function pool(op: 'MaxPool' | 'AvgPool'): Handler {
  return (c, n) => {
    const x = c.act(0);
    if (x.shape.length !== 4) c.fail('inputs[0]', `expected 4-D input [N,C,H,W] (2-D pooling), found shape [${x.shape}]`);
    if (n.outputs.length > 1 && n.outputs[1]) c.fail('outputs[1]', 'expected no Indices output, found one (argmax indices are not supported)');
    const kernel = c.ints('kernel_shape');
    if (!kernel) c.fail(`attr 'kernel_shape'`, 'expected it, found nothing');
    const countIncludePad = op === 'AvgPool' && c.int('count_include_pad', 0) === 1;
    const before = c.ints('pads') ?? [0, 0, 0, 0];
    const s = spatial(c, x.shape.slice(2), kernel!, true);
    if ((s.dilations[0] !== 1 || s.dilations[1] !== 1)) c.fail(`attr 'dilations'`, `expected [1,1], found [${s.dilations}]`);
    if (countIncludePad && c.int('ceil_mode', 0) === 1 && s.pads.some((p, i) => p !== before[i])) {
      c.fail(`attr 'ceil_mode'`, 'expected 0 with count_include_pad=1 when the last window overhangs, found 1');
    }
    const ir = c.produce(n.outputs[0], [x.shape[0], x.shape[1], ...s.out], 'nhwc');
    const attrs: Attrs = { kernel: s.kernel, strides: s.strides, padding: s.pads };
    if (op === 'AvgPool') attrs.countIncludePad = countIncludePad;
    c.addNode(op, [c.toNhwc(x)], [ir], attrs, n.name);
  };
}

function globalPool(op: 'avg' | 'max'): Handler {
  return (c, n) => {
    const x = c.act(0);
    if (x.shape.length !== 4) c.fail('inputs[0]', `expected 4-D input [N,C,H,W], found shape [${x.shape}]`);
    const ir = c.produce(n.outputs[0], [x.shape[0], x.shape[1], 1, 1], 'nhwc');
    if (op === 'avg') c.addNode('GlobalAvgPool', [c.toNhwc(x)], [ir], {}, n.name);
    else {
      const k = x.shape.slice(2);
      c.addNode('MaxPool', [c.toNhwc(x)], [ir], { kernel: k, strides: k, padding: 'valid' }, n.name);
    }
  };
}

function batchNorm(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  if (c.int('training_mode', 0) !== 0) c.fail(`attr 'training_mode'`, 'expected 0 (inference), found 1');
  if (n.outputs.slice(1).some((o) => o)) c.fail('outputs', 'expected only Y (inference), found running mean/var outputs');
  const eps = c.float('epsilon', 1e-5);
  const ch = x.shape[1];
  const params = [1, 2, 3, 4].map((i) => {
    const t = c.constInput(i, ['scale', 'B', 'mean', 'var'][i - 1]);
    c.checkFloat(t, i);
    if (numElements(t.dims) !== ch) c.fail(`inputs[${i}]`, `expected ${ch} values (one per channel), found dims [${t.dims}]`);
    return c.constIR(t.values, [ch], n.inputs[i]);
  });
  if (x.shape.length === 4) {
    const ir = c.produce(n.outputs[0], x.shape, 'nhwc');
    c.addNode('BatchNorm', [c.toNhwc(x), ...params], [ir], { epsilon: eps }, n.name);
  } else if (x.shape.length === 2) {
    const ir = c.produce(n.outputs[0], x.shape, 'plain');
    c.addNode('BatchNorm', [x.ir, ...params], [ir], { epsilon: eps }, n.name);
  } else if (x.shape.length === 3) {
    const t = c.fresh(`${n.name}/nlc`);
    c.addAct(t, [x.shape[0], x.shape[2], x.shape[1]]);
    c.addNode('Transpose', [c.toPlain(x)], [t], { perm: [0, 2, 1] });
    const y = c.fresh(`${n.name}/y_nlc`);
    c.addAct(y, [x.shape[0], x.shape[2], x.shape[1]]);
    c.addNode('BatchNorm', [t, ...params], [y], { epsilon: eps }, n.name);
    const ir = c.produce(n.outputs[0], x.shape, 'plain');
    c.addNode('Transpose', [y], [ir], { perm: [0, 2, 1] });
  } else {
    c.fail('inputs[0]', `expected 2-D, 3-D or 4-D input, found shape [${x.shape}]`);
  }
}

function clip(c: Importer, n: OnnxNode): void {
  let lo = -FLOAT32_MAX;
  let hi = FLOAT32_MAX;
  if (c.opset < 11) {
    lo = c.float('min', lo);
    hi = c.float('max', hi);
  } else {
    const mn = c.optConst(1, 'min');
    const mx = c.optConst(2, 'max');
    if (mn) lo = mn.values[0];
    if (mx) hi = mx.values[0];
  }
  const clamp = (v: number) => Math.min(Math.max(v, -FLOAT32_MAX), FLOAT32_MAX);
  unary('Clip', () => ({ min: clamp(lo), max: clamp(hi) }))(c, n);
}

function gemmLike(c: Importer, n: OnnxNode, a: ActValue, weights: Float64Array, outF: number, inF: number,
  bias: Float64Array | undefined, out: string, wq?: QuantParams, bq?: QuantParams): void {
  const w = c.constIR(weights, [outF, inF], `${n.inputs[1]}__dense`, wq);
  const inputs = [c.toPlain(a), w];
  if (bias) inputs.push(c.constIR(bias, [outF], `${n.inputs[2] || n.name}__bias`, bq));
  const ir = c.produce(out, [a.shape[0], outF], 'plain');
  c.addNode('Dense', inputs, [ir], {}, n.name);
}

function gemm(c: Importer, n: OnnxNode): void {
  let a = c.act(0);
  if (a.shape.length !== 2) c.fail('inputs[0]', `expected 2-D A, found shape [${a.shape}]`);
  if (c.int('transA', 0)) {
    const t = c.fresh(`${n.name}/At`);
    c.addAct(t, [a.shape[1], a.shape[0]]);
    c.addNode('Transpose', [c.toPlain(a)], [t], { perm: [1, 0] });
    a = { kind: 'act', ir: t, shape: [a.shape[1], a.shape[0]], layout: 'plain' };
  }
  const b = c.constInput(1, 'B');
  c.checkFloat(b, 1);
  const alpha = c.float('alpha', 1);
  const beta = c.float('beta', 1);
  const transB = c.int('transB', 0) === 1;
  if (b.dims.length !== 2) c.fail('inputs[1]', `expected 2-D B, found [${b.dims}]`);
  const [k, nOut] = transB ? [b.dims[1], b.dims[0]] : b.dims;
  if (k !== a.shape[1]) c.fail('inputs[1]', `expected B with K=${a.shape[1]}, found dims [${b.dims}]${transB ? ' (transB)' : ''}`);
  const wt = transB ? Float64Array.from(b.values) : permuteData(b.values, b.dims, [1, 0]);
  for (let i = 0; i < wt.length; i++) wt[i] *= alpha;
  const cv = n.inputs[2] ? c.input(2) : undefined;
  let bias: Float64Array | undefined;
  let extra: Value | undefined;
  if (cv?.kind === 'const') {
    c.checkFloat(cv.t, 2);
    const cnt = numElements(cv.t.dims);
    const rowLike = cv.t.dims.length <= 1 || cv.t.dims.slice(0, -1).every((d) => d === 1);
    if (cnt === 1) bias = new Float64Array(nOut).fill(cv.t.values[0] * beta);
    else if (rowLike && cnt === nOut) bias = cv.t.values.map((v) => v * beta);
    else extra = cv;
  } else if (cv) extra = cv;
  // B [K,N] quantised per column (axis 1) becomes per row of the [N,K] Dense weights (axis 0).
  const wq = c.quantOf(1, (ax) => (transB ? ax : 1 - ax), alpha);
  const bq = bias && cv?.kind === 'const' && numElements(cv.t.dims) === nOut ? c.quantOf(2, () => 0, beta) : undefined;
  if (!extra) { gemmLike(c, n, a, wt, nOut, k, bias, n.outputs[0], wq, bq); return; }
  // C that varies over rows (or is computed) is added after the product.
  const mid = c.fresh(`${n.outputs[0]}__ab`);
  gemmLike(c, n, a, wt, nOut, k, undefined, mid, wq);
  let cv2: Value = extra;
  if (beta !== 1) {
    if (extra.kind !== 'const') c.fail(`attr 'beta'`, 'expected 1 when C is computed, found another value');
    cv2 = { kind: 'const', t: { ...extra.t, values: extra.t.values.map((v) => v * beta) } };
  }
  binary(c, 'Add', c.values.get(mid)!, cv2, [mid, `${n.inputs[2]}__beta`], n.outputs[0], `${n.name}/addC`);
}

function matmul(c: Importer, n: OnnxNode): void {
  const a = c.act(0);
  const bv = c.input(1)!;
  if (bv.kind !== 'const') c.fail('inputs[1]', `expected B as a constant (MatMul of two computed tensors is not supported), found '${n.inputs[1]}'`);
  const b = bv.t;
  c.checkFloat(b, 1);
  if (b.dims.length !== 2) c.fail('inputs[1]', `expected 2-D constant B [K,N], found dims [${b.dims}]`);
  const [k, nOut] = b.dims;
  const ka = a.shape[a.shape.length - 1];
  if (ka !== k) c.fail('inputs[1]', `expected B with K=${ka}, found dims [${b.dims}]`);
  const wt = permuteData(b.values, b.dims, [1, 0]);
  const wq = c.quantOf(1, (ax) => 1 - ax);
  if (a.shape.length === 2) { gemmLike(c, n, a, wt, nOut, k, undefined, n.outputs[0], wq); return; }
  const rows = numElements(a.shape) / k;
  const flat = c.fresh(`${n.name}/rows`);
  c.reshapeTo(a, [rows, k], flat);
  const flatV = c.values.get(flat) as ActValue;
  const mid = c.fresh(`${n.outputs[0]}__2d`);
  gemmLike(c, n, flatV, wt, nOut, k, undefined, mid, wq);
  const midV = c.values.get(mid) as ActValue;
  c.reshapeTo(midV, [...a.shape.slice(0, -1), nOut], n.outputs[0]);
}

function flatten(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  let axis = c.int('axis', 1);
  if (axis < 0) axis += x.shape.length;
  const shape = [numElements(x.shape.slice(0, axis)), numElements(x.shape.slice(axis))];
  c.reshapeTo(x, shape, n.outputs[0]);
}

function reshape(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const spec = c.opset < 5 ? c.ints('shape') ?? [] : [...c.constInput(1, 'shape').values];
  const target = reshapeTarget(x.shape, spec, c.int('allowzero', 0) === 1);
  if (typeof target === 'string') c.fail('inputs[1]', `expected a shape for [${x.shape}], found [${spec}] (${target})`);
  c.reshapeTo(x, target, n.outputs[0]);
}

function axesArg(c: Importer, idx: number, attr: string): number[] | undefined {
  if (c.opset >= 13) {
    const t = c.optConst(idx, 'axes');
    return t ? [...t.values] : undefined;
  }
  return c.ints(attr);
}

function squeeze(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  const axes = (axesArg(c, 1, 'axes') ?? x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0))
    .map((a) => (a < 0 ? a + r : a));
  for (const a of axes) if (x.shape[a] !== 1) c.fail('axes', `expected axis ${a} of size 1, found ${x.shape[a]}`);
  c.reshapeTo(x, x.shape.filter((_, i) => !axes.includes(i)), n.outputs[0]);
}

function unsqueeze(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const axes = axesArg(c, 1, 'axes');
  if (!axes) c.fail('axes', 'expected axes, found none');
  const r = x.shape.length + axes.length;
  const norm = axes.map((a) => (a < 0 ? a + r : a));
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) out.push(norm.includes(i) ? 1 : x.shape[j++]);
  c.reshapeTo(x, out, n.outputs[0]);
}

function transpose(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  const perm = c.ints('perm') ?? x.shape.map((_, i) => r - 1 - i);
  const shape = permute(x.shape, perm);
  // On NHWC data the ONNX perm composes with the layout: IR axis i holds ONNX axis TO_NHWC[i].
  const irPerm = x.layout === 'nhwc' ? perm.map((p) => TO_NCHW[p]) : perm;
  if (irPerm.every((p, i) => p === i) && !c.g.tensors.get(x.ir)?.data) {
    if (!c.graphOutputs.has(n.outputs[0])) {
      c.alias(n.outputs[0], { kind: 'act', ir: x.ir, shape, layout: 'plain' });
      return;
    }
  }
  const ir = c.produce(n.outputs[0], shape, 'plain');
  c.addNode('Transpose', [x.ir], [ir], { perm: irPerm }, n.name);
}

function concat(c: Importer, n: OnnxNode): void {
  const vals = n.inputs.map((_, i) => c.input(i)!);
  const shapes = vals.map((v) => (v.kind === 'const' ? v.t.dims : v.shape));
  const r = shapes[0].length;
  let axis = c.int('axis', NaN);
  if (Number.isNaN(axis)) c.fail(`attr 'axis'`, 'expected it, found nothing');
  if (axis < 0) axis += r;
  const shape = [...shapes[0]];
  shape[axis] = shapes.reduce((s, d) => s + d[axis], 0);
  vals.forEach((v, i) => { if (v.kind === 'const') c.checkFloat(v.t, i); });
  const nhwc = r === 4 && vals.some((v) => v.kind === 'act' && v.layout === 'nhwc');
  const irs = vals.map((v, i) => {
    if (v.kind === 'act') return nhwc ? c.toNhwc(v) : c.toPlain(v);
    return nhwc
      ? c.constIR(permuteData(v.t.values, v.t.dims, TO_NHWC), permute(v.t.dims, TO_NHWC), `${n.inputs[i]}__nhwc`)
      : c.constIR(v.t.values, v.t.dims, n.inputs[i]);
  });
  const ir = c.produce(n.outputs[0], shape, nhwc ? 'nhwc' : 'plain');
  c.addNode('Concat', irs, [ir], { axis: nhwc ? TO_NCHW[axis] : axis }, n.name);
}

function softmax(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  let axis = c.int('axis', c.opset >= 13 ? -1 : 1);
  if (axis < 0) axis += r;
  if (c.opset >= 13 || axis === r - 1) {
    const ir = c.produce(n.outputs[0], x.shape, x.layout);
    c.addNode('Softmax', [x.ir], [ir], { axis: x.layout === 'nhwc' ? TO_NCHW[axis] : axis }, n.name);
    return;
  }
  // Opset < 13: softmax over the flattened trailing dims [d_axis … d_r-1].
  const flat = c.fresh(`${n.name}/2d`);
  c.reshapeTo(x, [numElements(x.shape.slice(0, axis)), numElements(x.shape.slice(axis))], flat);
  const fv = c.values.get(flat) as ActValue;
  const sm = c.fresh(`${n.name}/sm`);
  const smIr = c.produce(sm, fv.shape, 'plain');
  c.addNode('Softmax', [fv.ir], [smIr], { axis: -1 }, n.name);
  c.reshapeTo({ kind: 'act', ir: smIr, shape: fv.shape, layout: 'plain' }, x.shape, n.outputs[0]);
}

function pad(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  const mode = c.str('mode', 'constant');
  if (mode !== 'constant') c.fail(`attr 'mode'`, `expected 'constant', found '${mode}'`);
  let pads: number[];
  let value = 0;
  if (c.opset < 11) {
    pads = c.ints('pads') ?? [];
    value = c.float('value', 0);
  } else {
    pads = [...c.constInput(1, 'pads').values];
    const cv = c.optConst(2, 'constant_value');
    if (cv) value = cv.values[0] ?? 0;
    const axesT = c.optConst(3, 'axes');
    if (axesT) {
      const full = new Array(2 * r).fill(0);
      const axes = [...axesT.values].map((a) => (a < 0 ? a + r : a));
      axes.forEach((a, i) => { full[a] = pads[i]; full[a + r] = pads[i + axes.length]; });
      pads = full;
    }
  }
  if (pads.length !== 2 * r) c.fail('pads', `expected ${2 * r} values, found ${pads.length}`);
  if (pads.some((p) => p < 0)) c.fail('pads', `expected pads ≥ 0 (cropping is not supported), found [${pads}]`);
  const shape = x.shape.map((d, i) => d + pads[i] + pads[i + r]);
  const nhwc = x.layout === 'nhwc';
  const irPads = nhwc ? [...permute(pads.slice(0, r), TO_NHWC), ...permute(pads.slice(r), TO_NHWC)] : pads;
  const ir = c.produce(n.outputs[0], shape, x.layout);
  c.addNode('Pad', [x.ir], [ir], { pads: irPads, value: Math.min(Math.max(value, -FLOAT32_MAX), FLOAT32_MAX) }, n.name);
}

/** Output dim of a static ONNX slice along one axis. */
function sliceDim(d: number, start: number, end: number, step: number): number {
  const clampS = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + d : start;
  let e = end < 0 ? end + d : end;
  if (step > 0) { s = clampS(s, 0, d); e = clampS(e, 0, d); return Math.max(0, Math.ceil((e - s) / step)); }
  s = clampS(s, 0, d - 1); e = clampS(e, -1, d - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

function slice(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  let starts: number[]; let ends: number[]; let axes: number[] | undefined; let steps: number[] | undefined;
  if (c.opset < 10) {
    starts = c.ints('starts') ?? []; ends = c.ints('ends') ?? []; axes = c.ints('axes');
  } else {
    starts = [...c.constInput(1, 'starts').values];
    ends = [...c.constInput(2, 'ends').values];
    const at = c.optConst(3, 'axes');
    const st = c.optConst(4, 'steps');
    axes = at ? [...at.values] : undefined;
    steps = st ? [...st.values] : undefined;
  }
  axes = (axes ?? starts.map((_, i) => i)).map((a) => (a < 0 ? a + r : a));
  steps ??= starts.map(() => 1);
  if (steps.includes(0)) c.fail('steps', 'expected non-zero steps, found 0');
  const big = 2 ** 31 - 1;
  const clampBig = (v: number) => Math.min(Math.max(v, -big), big);
  starts = starts.map(clampBig); ends = ends.map(clampBig);
  const shape = [...x.shape];
  axes.forEach((a, i) => { shape[a] = sliceDim(x.shape[a], starts[i], ends[i], steps![i]); });
  if (shape.some((d) => d === 0)) c.fail('inputs', `expected a non-empty slice, found output shape [${shape}]`);
  const ir = c.produce(n.outputs[0], shape, x.layout);
  c.addNode('Slice', [x.ir], [ir], {
    starts, ends, axes: x.layout === 'nhwc' ? axes.map((a) => TO_NCHW[a]) : axes, steps,
  }, n.name);
}

function identity(c: Importer, n: OnnxNode): void {
  if (n.opType === 'Dropout' && n.outputs[1]) c.fail('outputs[1]', 'expected no mask output (inference), found one');
  if (n.opType === 'Dropout' && n.inputs[2]) {
    const training = c.constInput(2, 'training_mode');
    if (training.values[0] !== 0) c.fail('inputs[2]', 'expected training_mode false (inference), found true');
  }
  const v = c.input(0)!;
  c.alias(n.outputs[0], v);
}

function neg(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const m = c.constIR([-1], [1], `${n.name}__minus1`);
  const ir = c.produce(n.outputs[0], x.shape, x.layout);
  c.addNode('Mul', [x.ir, m], [ir], {}, n.name);
}

/** Integer range of a quantised ONNX type (QuantizeLinear's saturation bounds). */
const QRANGE: Record<number, [number, number]> = {
  [ONNX_DTYPE.UINT8]: [0, 255], [ONNX_DTYPE.INT8]: [-128, 127],
  [ONNX_DTYPE.UINT16]: [0, 65535], [ONNX_DTYPE.INT16]: [-32768, 32767], [ONNX_DTYPE.INT32]: [-(2 ** 31), 2 ** 31 - 1],
};

function qParams(c: Importer, n: OnnxNode, rank: number): { q: QuantParams; dtype: number } {
  if (c.int('block_size', 0) !== 0) c.fail(`attr 'block_size'`, `expected 0 (per-tensor or per-axis), found ${c.int('block_size', 0)} (blocked quantisation)`);
  const scale = c.constInput(1, 'scale');
  const zp = c.optConst(2, 'zero point');
  const dtype = zp?.dtype ?? ONNX_DTYPE.UINT8;
  if (!QRANGE[dtype]) c.fail('inputs[2]', `expected a uint8/int8/uint16/int16/int32 zero point, found ${onnxDtypeName(dtype)}`);
  const count = numElements(scale.dims);
  const zeroPoint = zp ? [...zp.values] : new Array(count).fill(0);
  const q: QuantParams = { scale: [...scale.values], zeroPoint };
  if (count > 1 || scale.dims.length === 1 && n.attrs.has('axis')) {
    let axis = c.int('axis', 1);
    if (axis < 0) axis += rank;
    if (count > 1) q.axis = axis;
  }
  return { q, dtype };
}

/**
 * DequantizeLinear of a constant folds to float32 weights (q − zp)·scale that keep the exact scale
 * and zero point as `quant`; of an activation (after QuantizeLinear) it is the same tensor.
 */
function dequantize(c: Importer, n: OnnxNode): void {
  const v = c.input(0)!;
  const rank = v.kind === 'const' ? v.t.dims.length : v.shape.length;
  const { q } = qParams(c, n, rank);
  if (v.kind === 'act') { c.alias(n.outputs[0], v); return; }
  const t = v.t;
  const inner = q.axis === undefined ? 1 : numElements(t.dims.slice(q.axis + 1));
  const chans = q.axis === undefined ? 1 : t.dims[q.axis];
  const values = new Float64Array(t.values.length);
  for (let i = 0; i < values.length; i++) {
    const ch = q.axis === undefined ? 0 : Math.floor(i / inner) % chans;
    values[i] = Math.fround((t.values[i] - q.zeroPoint[ch]) * Math.fround(q.scale[ch]));
  }
  c.setConst(n.outputs[0], { name: '', dtype: ONNX_DTYPE.FLOAT, dims: t.dims, values }, q);
}

/**
 * QuantizeLinear of an activation: float IR keeps the value, saturated to the representable range
 * [(qmin − zp)·s, (qmax − zp)·s] by a Clip (that is how QDQ models carry ReLU/ReLU6); its output
 * tensor records the exact scale and zero point for the int8 path.
 */
function quantize(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const { q, dtype } = qParams(c, n, x.shape.length);
  if (q.axis !== undefined) c.fail('inputs[1]', `expected a per-tensor scale for an activation, found ${q.scale.length} scales`);
  const [qmin, qmax] = QRANGE[dtype];
  const s = Math.fround(q.scale[0]);
  const ir = c.produce(n.outputs[0], x.shape, x.layout);
  c.addNode('Clip', [x.ir], [ir], {
    min: Math.max((qmin - q.zeroPoint[0]) * s, -FLOAT32_MAX), max: Math.min((qmax - q.zeroPoint[0]) * s, FLOAT32_MAX),
  }, n.name);
  c.g.tensors.get(ir)!.quant = q;
}

/**
 * Runs `handler` on a synthetic ONNX node (the float op inside a QLinear* node); inputs and
 * outputs are value names already known to the importer.
 */
function runAs(c: Importer, handler: Handler, n: OnnxNode, opType: string, inputs: string[], outputs: string[],
  attrs: Map<string, OnnxAttr> = new Map()): void {
  const saved = c.cur;
  const node: OnnxNode = { name: `${n.name}/${opType}`, opType, domain: '', inputs, outputs, attrs };
  c.cur = node;
  try {
    handler(c, node);
  } finally {
    c.cur = saved;
  }
}

/** Dequantises constant input `i` of a QLinear* node (scale i+1, zero point i+2) to a fresh value name. */
function dqInput(c: Importer, n: OnnxNode, i: number, axis: number): string {
  const v = c.input(i);
  if (v?.kind !== 'const') return n.inputs[i];
  const out = c.fresh(`${n.inputs[i]}__dq`);
  runAs(c, dequantize, n, 'DequantizeLinear', [n.inputs[i], n.inputs[i + 1], n.inputs[i + 2]], [out],
    new Map([['axis', { kind: 'int', value: axis }]]));
  return out;
}

/** int32 bias of a QLinear* node: scale = s_in · s_w (per channel), zero point 0. */
function dqBias(c: Importer, n: OnnxNode, i: number, inScale: number, wScaleIdx: number): string {
  if (!n.inputs[i]) return '';
  const b = c.constInput(i, 'int32 bias');
  const ws = c.constInput(wScaleIdx, 'weight scale').values;
  const scale = Array.from(b.values, (_, k) => Math.fround(inScale) * Math.fround(ws.length === 1 ? ws[0] : ws[k]));
  const out = c.fresh(`${n.inputs[i]}__dq`);
  c.setConst(out, { name: '', dtype: ONNX_DTYPE.FLOAT, dims: b.dims, values: Float64Array.from(b.values, (q, k) => Math.fround(q * scale[k])) },
    { scale, zeroPoint: scale.map(() => 0), axis: 0 });
  return out;
}

/** Quantises the float result `f` into output `y` (QuantizeLinear with scale/zero point names). */
function requantize(c: Importer, n: OnnxNode, f: string, scale: string, zp: string, y: string): void {
  runAs(c, quantize, n, 'QuantizeLinear', [f, scale, zp], [y]);
}

/** QLinearConv(x, xs, xzp, w, ws, wzp, ys, yzp, B) = Q(Conv(DQ(x), DQ(w), DQ(B))); x is already float here. */
function qlinearConv(c: Importer, n: OnnxNode): void {
  const xs = c.constInput(1, 'x scale').values[0];
  const w = dqInput(c, n, 3, 0);
  const b = dqBias(c, n, 8, xs, 4);
  const f = c.fresh(`${n.outputs[0]}__f`);
  runAs(c, conv, n, 'Conv', [n.inputs[0], w, b], [f], n.attrs);
  requantize(c, n, f, n.inputs[6], n.inputs[7], n.outputs[0]);
}

/** QLinearMatMul(a, as, azp, b, bs, bzp, ys, yzp) = Q(MatMul(DQ(a), DQ(b))); per-column b scales → axis 1. */
function qlinearMatMul(c: Importer, n: OnnxNode): void {
  const b = dqInput(c, n, 3, 1);
  const f = c.fresh(`${n.outputs[0]}__f`);
  runAs(c, matmul, n, 'MatMul', [n.inputs[0], b], [f]);
  requantize(c, n, f, n.inputs[6], n.inputs[7], n.outputs[0]);
}

/** com.microsoft QLinearAdd(A, As, Azp, B, Bs, Bzp, Cs, Czp) = Q(DQ(A) + DQ(B)). */
function qlinearAdd(c: Importer, n: OnnxNode): void {
  const a = dqInput(c, n, 0, 1);
  const b = dqInput(c, n, 3, 1);
  const f = c.fresh(`${n.outputs[0]}__f`);
  runAs(c, binaryHandler('Add'), n, 'Add', [a, b], [f]);
  requantize(c, n, f, n.inputs[6], n.inputs[7], n.outputs[0]);
}

/** com.microsoft QGemm(A, as, azp, B, bs, bzp, C?, ys?, yzp?): float output when ys is absent. */
function qgemm(c: Importer, n: OnnxNode): void {
  const as = c.constInput(1, 'A scale').values[0];
  const transB = c.int('transB', 0) === 1;
  const b = dqInput(c, n, 3, transB ? 0 : 1);
  const bias = dqBias(c, n, 6, as, 4);
  const quantOut = Boolean(n.inputs[7]);
  const f = quantOut ? c.fresh(`${n.outputs[0]}__f`) : n.outputs[0];
  const attrs = new Map([...n.attrs].filter(([k]) => k !== 'transA' || c.int('transA', 0) === 1));
  runAs(c, gemm, n, 'Gemm', [n.inputs[0], b, bias], [f], attrs);
  if (quantOut) requantize(c, n, f, n.inputs[7], n.inputs[8] ?? '', n.outputs[0]);
}

/** A constant value with a fresh name (float32 data). */
function constValue(c: Importer, base: string, values: number[], dims: number[]): string {
  const name = c.fresh(base);
  c.setConst(name, { name: '', dtype: ONNX_DTYPE.FLOAT, dims, values: Float64Array.from(values, Math.fround) });
  return name;
}

/** Conv / pools on 3-D [N,C,L] data run as their 2-D form on [N,C,1,L] with a 1×k window. */
function with1d(handler: Handler, hasWeights: boolean): Handler {
  return (c, n) => {
    const x = c.act(0);
    if (x.shape.length !== 3) { handler(c, n); return; }
    const [batch, ch, len] = x.shape;
    const x4 = c.fresh(`${n.inputs[0]}__2d`);
    c.reshapeTo(x, [batch, ch, 1, len], x4);
    const inputs = [x4, ...n.inputs.slice(1)];
    if (hasWeights) {
      const wv = c.input(1);
      const w = c.constInput(1, 'weights W');
      inputs[1] = c.fresh(`${n.inputs[1]}__2d`);
      c.setConst(inputs[1], { ...w, dims: [w.dims[0], w.dims[1], 1, ...w.dims.slice(2)] }, wv?.kind === 'const' ? wv.quant : undefined);
    }
    const attrs = new Map(n.attrs);
    for (const k of ['kernel_shape', 'strides', 'dilations']) {
      const a = attrs.get(k);
      if (a?.kind === 'ints') attrs.set(k, { kind: 'ints', value: [1, ...a.value] });
    }
    const pads = attrs.get('pads');
    if (pads?.kind === 'ints') attrs.set('pads', { kind: 'ints', value: [0, pads.value[0], 0, pads.value[1]] });
    const y4 = c.fresh(`${n.outputs[0]}__2d`);
    runAs(c, handler, n, n.opType, inputs, [y4, ...n.outputs.slice(1)], attrs);
    const yv = c.values.get(y4) as ActValue;
    c.reshapeTo(yv, [yv.shape[0], yv.shape[1], yv.shape[3]], n.outputs[0]);
  };
}

/** HardSigmoid = Clip(alpha·x + beta, 0, 1); HardSwish = x · HardSigmoid(x) with alpha 1/6, beta 1/2. */
function hardSigmoidTo(c: Importer, n: OnnxNode, alpha: number, beta: number, out: string): void {
  const ax = c.fresh(`${out}__ax`);
  runAs(c, binaryHandler('Mul'), n, 'Mul', [n.inputs[0], constValue(c, `${n.name}__alpha`, [alpha], [])], [ax]);
  const axb = c.fresh(`${out}__axb`);
  runAs(c, binaryHandler('Add'), n, 'Add', [ax, constValue(c, `${n.name}__beta`, [beta], [])], [axb]);
  runAs(c, unary('Clip', () => ({ min: 0, max: 1 })), n, 'Clip', [axb], [out]);
}

function hardSigmoid(c: Importer, n: OnnxNode): void {
  hardSigmoidTo(c, n, c.float('alpha', 0.2), c.float('beta', 0.5), n.outputs[0]);
}

function hardSwish(c: Importer, n: OnnxNode): void {
  const hs = c.fresh(`${n.outputs[0]}__hsig`);
  hardSigmoidTo(c, n, 1 / 6, 0.5, hs);
  runAs(c, binaryHandler('Mul'), n, 'Mul', [n.inputs[0], hs], [n.outputs[0]]);
}

/** ReduceMean over H and W of 4-D data (how TF exporters write global average pooling). */
function reduceMean(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  const axes = (c.opset >= 18 ? (n.inputs[1] ? [...c.constInput(1, 'axes').values] : undefined) : c.ints('axes'))
    ?.map((a) => (a < 0 ? a + r : a)).sort((a, b) => a - b);
  if (r !== 4 || !axes || axes.length !== 2 || axes[0] !== 2 || axes[1] !== 3) {
    c.fail('axes', `expected axes [2, 3] of 4-D data (global average pooling), found [${axes ?? 'all'}] of rank ${r}`);
  }
  const keep = c.int('keepdims', 1) === 1;
  const out = keep ? n.outputs[0] : c.fresh(`${n.outputs[0]}__keep`);
  runAs(c, globalPool('avg'), n, 'GlobalAveragePool', [n.inputs[0]], [out]);
  if (!keep) c.reshapeTo(c.values.get(out) as ActValue, [x.shape[0], x.shape[1]], n.outputs[0]);
}

/** Split into static Slices along one axis (sizes from the attr < 13, the input ≥ 13, or equal parts). */
function split(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  let axis = c.int('axis', 0);
  if (axis < 0) axis += r;
  const d = x.shape[axis];
  const k = n.outputs.length;
  let sizes = c.opset >= 13 ? (n.inputs[1] ? [...c.constInput(1, 'split').values] : undefined) : c.ints('split');
  if (!sizes) {
    const numOutputs = c.int('num_outputs', k);
    const part = Math.ceil(d / numOutputs);
    sizes = Array.from({ length: k }, (_, i) => Math.max(0, Math.min(part, d - i * part)));
  }
  if (sizes.length !== k || sizes.reduce((a, b) => a + b, 0) !== d || sizes.some((v) => v <= 0)) {
    c.fail('split', `expected ${k} positive sizes summing to ${d}, found [${sizes}]`);
  }
  let start = 0;
  n.outputs.forEach((out, i) => {
    const shape = [...x.shape];
    shape[axis] = sizes![i];
    const ir = c.produce(out, shape, x.layout);
    c.addNode('Slice', [x.ir], [ir], {
      starts: [start], ends: [start + sizes![i]], axes: [x.layout === 'nhwc' ? TO_NCHW[axis] : axis], steps: [1],
    }, `${n.name}/${i}`);
    start += sizes![i];
  });
}

/** Mean of N inputs = their sum times 1/N. */
function mean(c: Importer, n: OnnxNode): void {
  if (n.inputs.length === 1) { c.alias(n.outputs[0], c.act(0)); return; }
  const sum = c.fresh(`${n.outputs[0]}__sum`);
  runAs(c, variadic('Add'), n, 'Sum', n.inputs, [sum]);
  runAs(c, binaryHandler('Mul'), n, 'Mul', [sum, constValue(c, `${n.name}__1_over_n`, [1 / n.inputs.length], [])], [n.outputs[0]]);
}

function reciprocal(c: Importer, n: OnnxNode): void {
  runAs(c, binaryHandler('Div'), n, 'Div', [constValue(c, `${n.name}__one`, [1], []), n.inputs[0]], [n.outputs[0]]);
}

/** Cast of computed data: only float → float (a no-op in float32); constants fold. */
function cast(c: Importer, n: OnnxNode): void {
  const to = c.int('to', ONNX_DTYPE.FLOAT);
  if (to !== ONNX_DTYPE.FLOAT) c.fail(`attr 'to'`, `expected float (1) for computed data, found ${onnxDtypeName(to)}`);
  c.alias(n.outputs[0], c.act(0));
}

const HANDLERS: Record<string, Handler> = {
  Split: split,
  Mean: mean,
  Reciprocal: reciprocal,
  Cast: cast,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Sum: variadic('Add'),
  ReduceMean: reduceMean,
  QLinearConv: qlinearConv,
  QLinearMatMul: qlinearMatMul,
  QLinearAdd: qlinearAdd,
  QGemm: qgemm,
  QuantizeLinear: quantize,
  DequantizeLinear: dequantize,
  Conv: with1d(conv, true),
  Gemm: gemm,
  MatMul: matmul,
  Add: binaryHandler('Add'),
  Sub: binaryHandler('Sub'),
  Mul: binaryHandler('Mul'),
  Div: binaryHandler('Div'),
  Max: variadic('Max'),
  Min: variadic('Min'),
  PRelu: binaryHandler('PRelu'),
  Relu: unary('Relu'),
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  Exp: unary('Exp'),
  LeakyRelu: unary('LeakyRelu', (c) => ({ alpha: c.float('alpha', 0.01) })),
  Clip: clip,
  Neg: neg,
  MaxPool: with1d(pool('MaxPool'), false),
  AveragePool: with1d(pool('AvgPool'), false),
  GlobalAveragePool: globalPool('avg'),
  GlobalMaxPool: globalPool('max'),
  BatchNormalization: batchNorm,
  Flatten: flatten,
  Reshape: reshape,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Transpose: transpose,
  Concat: concat,
  Softmax: softmax,
  Pad: pad,
  Slice: slice,
  Identity: identity,
  Dropout: identity,
};

export function importOnnxModel(model: OnnxModel, file: string, opts: OnnxImportOptions = {}): Graph {
  if (model.opset !== 0 && (model.opset < 1 || model.opset > 21)) {
    throw new ModelError(file, 'opset_import', `expected opset 1 to 21 of the default domain, found ${model.opset} (convert with onnx.version_converter)`);
  }
  return new Importer(model, file, opts).run();
}
