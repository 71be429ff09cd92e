// The quantize pass: an optimised float IR graph plus per-tensor activation params → the int8 IR of
// docs/quantization.md (int8 Conv2D/Dense/Add/pools/shape ops, Quantize/Dequantize at the float
// boundaries, Requantize where Concat inputs or clamps change params). Graph inputs/outputs stay float32.
import {
  ModelError,
  numElements,
  type Graph,
  type Node,
  type OpType,
  type QuantParams,
  type Tensor,
} from '../ir/graph.ts';
import { attrNum } from '../ir/ops/helpers.ts';
import { OPS } from '../ir/ops/index.ts';
import type { Int8Rule } from '../ir/ops/op-def.ts';
import { clampCodes, clampRange } from '../ir/ops/unary.ts';
import {
  activationQuant,
  fitBiasScales,
  quantizeBias,
  quantizeWeights,
  quantizeValue,
  sameQuant,
  type QuantizedWeights,
} from './params.ts';

const opsWhere = (rule: (r: Int8Rule['quantize']) => boolean): ReadonlySet<OpType> =>
  new Set((Object.keys(OPS) as OpType[]).filter((op) => rule(OPS[op].int8?.quantize)));

/** Ops the quantize pass may put on int8 (their op files' int8.quantize); Relu/Relu6/Clip become a Requantize (or vanish). */
export const INT8_OPS = opsWhere((q) => q !== undefined);
/** Ops whose int8 output keeps the input's params (no requantisation inside the kernel). */
const PASS_THROUGH = opsWhere((q) => q === 'input-params');
const CLAMPS = opsWhere((q) => q === 'clamp');

export interface RewriteOptions {
  /** Activation params per float tensor name (calibrated or from a pre-quantised model). */
  quant: Map<string, QuantParams>;
  /** Node names to keep float. */
  keepFloat?: ReadonlySet<string>;
  /** Use the weights' own `quant` scales when they fit (pre-quantised models). */
  useWeightQuant?: boolean;
  /** Put a last-axis Softmax, Sigmoid and Tanh on int8 (TFLite's Softmax_QS8, Lut_QS8) when their outputs have params:
   *  pre-quantised models only, whose files give them; calibrated and learned graphs keep these ops float. */
  int8Activations?: boolean;
}

export interface RewriteResult {
  graph: Graph;
  /** Names of the original nodes that run on int8. */
  int8Nodes: string[];
  floatNodes: string[];
}

const f32 = Math.fround;

/** Softmax over the last axis (the only one Softmax_QS8 runs). */
function lastAxis(n: Node, rank?: number): boolean {
  const a = attrNum(n, 'axis', -1);
  return a === -1 || (rank !== undefined && a === rank - 1);
}

/** Scales of a pre-quantised weight when they fit `channels` (per channel, or one per tensor). */
function ownScales(t: Tensor, channels: number): number[] | undefined {
  const q = t.quant;
  if (!q || q.zeroPoint.some((z) => z !== 0)) return undefined;
  if (q.scale.length === channels) return q.scale;
  if (q.scale.length === 1) return new Array<number>(channels).fill(q.scale[0]!);
  return undefined;
}

/** True when every weight is q·scale[c] to float32 rounding (1e-3 of a step). */
export function weightsExact(w: ArrayLike<number>, q: QuantizedWeights): boolean {
  const channels = q.quant.scale.length,
    inner = w.length / channels;
  for (let i = 0; i < w.length; i++) {
    const s = q.quant.scale[Math.floor(i / inner)]!;
    if (Math.abs(q.data[i]! * s - f32(w[i]!)) > 1e-3 * s) return false;
  }
  return true;
}

export function quantizeGraph(src: Graph, opts: RewriteOptions): RewriteResult {
  const keep = opts.keepFloat ?? new Set<string>();
  for (const k of keep) {
    if (!src.nodes.some((n) => n.name === k)) {
      throw new ModelError(
        src.source,
        '--keep-float',
        `no node named '${k}' (nodes: ${src.nodes
          .slice(0, 8)
          .map((n) => n.name)
          .join(', ')}${src.nodes.length > 8 ? ', …' : ''})`,
      );
    }
  }
  const g: Graph = { ...src, tensors: new Map(), nodes: [], inputs: [...src.inputs], outputs: [...src.outputs] };
  const names = new Set<string>([...src.tensors.keys(), ...src.nodes.map((n) => n.name)]);
  const fresh = (base: string): string => {
    let s = base;
    for (let i = 1; names.has(s); i++) s = `${base}_${i}`;
    names.add(s);
    return s;
  };
  const srcT = (name: string): Tensor => src.tensors.get(name)!;
  const addT = (t: Tensor): void => {
    g.tensors.set(t.name, t);
  };
  const floatT = (name: string): Tensor => {
    const t = srcT(name);
    const { quant: _q, ...rest } = t;
    return { ...rest, shape: [...t.shape] };
  };

  // the float and int8 versions of every source tensor that exists so far
  const fname = new Map<string, string>();
  const qname = new Map<string, string>();
  const qparams = new Map<string, QuantParams>(); // by int8 tensor name
  for (const i of src.inputs) {
    fname.set(i, i);
    addT(floatT(i));
  }

  const int8Nodes: string[] = [],
    floatNodes: string[] = [];
  const emit = (n: Node) => {
    g.nodes.push(n);
  };

  const asFloat = (name: string): string => {
    const t = srcT(name);
    if (t.data) {
      if (!g.tensors.has(name)) addT(floatT(name));
      return name;
    }
    let f = fname.get(name);
    if (f) return f;
    const q = qname.get(name)!;
    f = fresh(`${name}__f`);
    addT({ name: f, dtype: 'float32', shape: [...t.shape] });
    emit({ name: fresh(`${name}__dequantize`), op: 'Dequantize', inputs: [q], outputs: [f], attrs: {} });
    fname.set(name, f);
    return f;
  };
  /** int8 version of activation `name` with params `want` (defaults to the existing int8 version or its calibrated params). */
  const asInt8 = (name: string, want?: QuantParams): string => {
    const have = qname.get(name);
    const t = srcT(name);
    if (have && (!want || sameQuant(qparams.get(have), want))) return have;
    const target = want ?? opts.quant.get(name)!;
    const out = fresh(`${name}__q`);
    addT({ name: out, dtype: 'int8', shape: [...t.shape], quant: target });
    qparams.set(out, target);
    if (have) {
      emit({ name: fresh(`${name}__requantize`), op: 'Requantize', inputs: [have], outputs: [out], attrs: {} });
    } else {
      emit({ name: fresh(`${name}__quantize`), op: 'Quantize', inputs: [asFloat(name)], outputs: [out], attrs: {} });
      if (!want || sameQuant(want, opts.quant.get(name))) qname.set(name, out);
    }
    return out;
  };
  /** Int8 params an activation input would have: of its int8 version, else calibrated. */
  const inQuant = (name: string): QuantParams | undefined => {
    const q = qname.get(name);
    return q ? qparams.get(q) : opts.quant.get(name);
  };
  const isConst = (name: string) => srcT(name).data !== undefined;
  /** Name for an int8 output of a node: the source name unless it is a graph output (stays float). */
  const int8Out = (name: string, q: QuantParams): string => {
    const out = src.outputs.includes(name) ? fresh(`${name}__q`) : name;
    names.add(out);
    addT({ name: out, dtype: 'int8', shape: [...srcT(name).shape], quant: q });
    qparams.set(out, q);
    qname.set(name, out);
    return out;
  };

  // TFLite's own int8 HARD_SWISH, SUB and MUL (their interpreter's arithmetic): .tflite models only
  const tflite = opts.int8Activations === true && src.int8Arithmetic === 'tflite';
  for (const n of src.nodes) {
    const x = n.inputs[0]!;
    const out = n.outputs[0]!;
    const fileParamsOp =
      opts.int8Activations === true &&
      ((n.op === 'Softmax' && lastAxis(n, srcT(x).shape.length)) ||
        n.op === 'Sigmoid' ||
        n.op === 'Tanh' ||
        (tflite && n.op === 'HardSwish'));
    const tfliteBinary = tflite && (n.op === 'Sub' || n.op === 'Mul');
    let ok = (INT8_OPS.has(n.op) || fileParamsOp || tfliteBinary) && !keep.has(n.name) && n.outputs.length === 1;
    const dataIns = n.inputs.filter((i) => i !== '' && !isConst(i));
    if (ok) ok = dataIns.length > 0 && dataIns.every((i) => inQuant(i) !== undefined) && !isConst(x);
    if (ok && (n.op === 'Conv2D' || n.op === 'Dense'))
      ok = isConst(n.inputs[1]!) && (!n.inputs[2] || isConst(n.inputs[2]));
    let qw: QuantizedWeights | undefined;
    if (ok && (n.op === 'Conv2D' || n.op === 'Dense')) {
      const w = srcT(n.inputs[1]!);
      qw = quantizeWeights(
        w.data as ArrayLike<number>,
        w.shape[0]!,
        opts.useWeightQuant ? ownScales(w, w.shape[0]!) : undefined,
      );
      // a pre-quantised model's weights must come back exactly (asymmetric uint8 weights do not fit
      // [−127, 127] on one scale per channel): otherwise the layer stays float, as the model defines it
      if (opts.useWeightQuant) ok = weightsExact(w.data as ArrayLike<number>, qw);
    }
    if (ok && n.op === 'Pad') ok = attrNum(n, 'value', 0) === 0;
    if (ok && !PASS_THROUGH.has(n.op)) ok = opts.quant.has(out);
    if (ok && CLAMPS.has(n.op)) {
      const [lo, hi] = clampRange(n);
      ok = lo <= 0 && hi >= 0;
    }
    if (!ok) {
      const ins = n.inputs.map((i) => (i === '' ? '' : asFloat(i)));
      for (const o of n.outputs) {
        addT(floatT(o));
        fname.set(o, o);
      }
      emit({ ...n, inputs: ins, outputs: [...n.outputs], attrs: structuredClone(n.attrs) });
      floatNodes.push(n.name);
      continue;
    }
    int8Nodes.push(n.name);
    if (PASS_THROUGH.has(n.op)) {
      const xi = asInt8(x);
      const o = int8Out(out, qparams.get(xi)!);
      emit({ ...n, inputs: [xi], outputs: [o], attrs: structuredClone(n.attrs) });
      continue;
    }
    const oq = opts.quant.get(out)!;
    if (CLAMPS.has(n.op)) {
      // int8 clamp at 0 (or any range holding the output's) = saturation while requantising; output params that
      // can hold values outside the range (a .tflite RELU with its input's params) keep an int8 clamp node
      const xi = asInt8(x);
      const [lo, hi] = clampRange(n);
      const [qlo, qhi] = clampCodes(lo, hi, oq.scale[0]!, oq.zeroPoint[0]!);
      if (qlo > -128 || qhi < 127) {
        emit({ ...n, inputs: [xi], outputs: [int8Out(out, oq)], attrs: structuredClone(n.attrs) });
        continue;
      }
      if (sameQuant(qparams.get(xi), oq)) {
        qname.set(out, xi);
        continue;
      }
      const o = int8Out(out, oq);
      emit({ name: n.name, op: 'Requantize', inputs: [xi], outputs: [o], attrs: {} });
      continue;
    }
    if (n.op === 'Concat') {
      const ins = n.inputs.map((i) => (isConst(i) ? constInt8(i, oq) : asInt8(i, oq)));
      const o = int8Out(out, oq);
      emit({ ...n, inputs: ins, outputs: [o], attrs: structuredClone(n.attrs) });
      continue;
    }
    if (n.op === 'Add' || tfliteBinary) {
      // a .tflite constant operand of SUB / MUL keeps the file's int8 params (those are its integers)
      const own = (i: string) => (tfliteBinary && srcT(i).quant?.scale.length === 1 ? srcT(i).quant : undefined);
      const ins = n.inputs.map((i) => (isConst(i) ? constInt8(i, own(i)) : asInt8(i)));
      const o = int8Out(out, oq);
      emit({ ...n, inputs: ins, outputs: [o], attrs: structuredClone(n.attrs) });
      continue;
    }
    if (n.op === 'GlobalAvgPool' || fileParamsOp) {
      const xi = asInt8(x);
      const o = int8Out(out, oq);
      emit({ ...n, inputs: [xi], outputs: [o], attrs: structuredClone(n.attrs) });
      continue;
    }
    // Conv2D / Dense: per-channel weights, int32 bias at s_in·s_w
    const xi = asInt8(x);
    const sIn = qparams.get(xi)!.scale[0]!;
    const w = srcT(n.inputs[1]!);
    const co = w.shape[0]!;
    const b = n.inputs[2] ? srcT(n.inputs[2]) : undefined;
    fitBiasScales(
      w.data as ArrayLike<number>,
      qw!,
      b?.data as ArrayLike<number> | undefined,
      sIn,
      qparams.get(xi)!.zeroPoint[0]!,
    );
    const wName = fresh(`${n.inputs[1]}__q`);
    addT({ name: wName, dtype: 'int8', shape: [...w.shape], data: qw!.data, quant: qw!.quant });
    const qb = quantizeBias(b?.data as ArrayLike<number> | undefined, co, sIn, qw!.quant.scale);
    const bName = fresh(`${n.inputs[2] || `${n.name}_bias`}__q`);
    addT({ name: bName, dtype: 'int32', shape: [co], data: qb.data, quant: qb.quant });
    const o = int8Out(out, oq);
    emit({ ...n, inputs: [xi, wName, bName], outputs: [o], attrs: structuredClone(n.attrs) });
  }

  // graph outputs stay float32 under their own names
  for (const o of src.outputs) {
    if (fname.get(o) === o) continue;
    if (g.inputs.includes(o)) continue;
    const q = qname.get(o);
    if (!q) throw new ModelError(src.source, `output '${o}'`, 'is never produced');
    addT({ ...floatT(o), name: o });
    emit({ name: fresh(`${o}__dequantize`), op: 'Dequantize', inputs: [q], outputs: [o], attrs: {} });
    fname.set(o, o);
  }
  // drop tensors nothing reads or writes (source weights replaced by their int8 copies)
  const used = new Set<string>([...g.inputs, ...g.outputs, ...g.nodes.flatMap((n) => [...n.inputs, ...n.outputs])]);
  for (const k of [...g.tensors.keys()]) if (!used.has(k)) g.tensors.delete(k);
  return { graph: g, int8Nodes, floatNodes };

  /** A constant operand of Add / Concat as an int8 per-tensor constant (own min-max params unless given). */
  function constInt8(name: string, want?: QuantParams): string {
    const t = srcT(name);
    const v = t.data as ArrayLike<number>;
    let lo = 0,
      hi = 0;
    for (let i = 0; i < v.length; i++) {
      lo = Math.min(lo, Number(v[i]));
      hi = Math.max(hi, Number(v[i]));
    }
    const q = want ?? activationQuant({ min: lo, max: hi });
    const data = new Int8Array(numElements(t.shape));
    for (let i = 0; i < data.length; i++) data[i] = quantizeValue(f32(Number(v[i])), q.scale[0]!, q.zeroPoint[0]!);
    const c = fresh(`${name}__q`);
    addT({ name: c, dtype: 'int8', shape: [...t.shape], data, quant: q });
    return c;
  }
}
