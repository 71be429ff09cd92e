// Softmax along attrs.axis (default −1): exp(x − max) / Σ exp(x − max). On int8 (last axis only): TFLite's int8
// SOFTMAX as its interpreter computes it (Softmax_QS8, docs/tflite-support.md); the quantize pass places it only
// for pre-quantised models, whose files give the output params (compiler/quantize/rewrite.ts).
import { numElements, type Graph, type Node } from '../graph.ts';
import { tensorQuant } from '../quant.ts';
import { attrNum, need, normAxis, same, passChannels } from './helpers.ts';
import type { OpDef, Value } from './op-def.ts';

const f32 = Math.fround;

/** TFLite's PopulateSoftmaxLookupTable (beta 1): table[255 − v] = exp(f32(−s_in)·v), rounded to float32. */
export function softmaxTableQs8(sIn: number): Float32Array {
  const t = new Float32Array(256);
  const scale = f32(-f32(sIn));
  for (let v = 0; v <= 255; v++) t[255 - v] = Math.exp(f32(scale * v));
  return t;
}

/** The integer reference of Softmax_QS8: float32 sum in index order, 1 / (sum·s_out), round half away. */
function evaluateInt8(g: Graph, n: Node, ins: (Value | undefined)[]): Float64Array[] {
  const x = ins[0]!;
  const qi = tensorQuant(g, n.inputs[0]!, n),
    qo = tensorQuant(g, n.outputs[0]!, n);
  const table = softmaxTableQs8(qi.scale);
  const len = x.shape[x.shape.length - 1]!;
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / len; r++) {
    let m = -128;
    for (let j = 0; j < len; j++) m = Math.max(m, x.data[r * len + j]!);
    let sum = 0;
    for (let j = 0; j < len; j++) sum = f32(sum + table[255 - m + x.data[r * len + j]!]!);
    const inv = f32(1 / f32(sum * f32(qo.scale)));
    for (let j = 0; j < len; j++) {
      const p = Math.min(f32(table[255 - m + x.data[r * len + j]!]! * inv), 255);
      const q = Number.isNaN(p) ? 255 : Math.trunc(p) + (p - Math.trunc(p) >= 0.5 ? 1 : 0);
      out[r * len + j] = Math.min(127, Math.max(-128, q + qo.zp));
    }
  }
  return [out];
}

export const softmax: OpDef = {
  schema: { inputs: [1, 1], outputs: 1, attrs: { axis: { kind: 'int', default: -1 } } },
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    normAxis(n, file, attrNum(n, 'axis', -1), x.shape.length, 'axis');
    return same(ins);
  },
  int8: { evaluate: evaluateInt8 },
  channelFlow: (n, ins) =>
    normAxis(n, '', attrNum(n, 'axis', -1), ins[0]!.shape.length, 'axis') === ins[0]!.shape.length - 1
      ? { kind: 'boundary', why: 'normalises over the channel axis' }
      : passChannels(),
  evaluate(n, ins) {
    const x = ins[0]!;
    const axis = normAxis(n, '', attrNum(n, 'axis', -1), x.shape.length, 'axis');
    const outer = numElements(x.shape.slice(0, axis)),
      len = x.shape[axis]!,
      inner = numElements(x.shape.slice(axis + 1));
    const out = new Float64Array(x.data.length);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const at = (k: number) => (o * len + k) * inner + i;
        let m = -Infinity;
        for (let k = 0; k < len; k++) m = Math.max(m, x.data[at(k)]!);
        let s = 0;
        for (let k = 0; k < len; k++) {
          const e = Math.exp(x.data[at(k)]! - m);
          out[at(k)] = e;
          s += e;
        }
        for (let k = 0; k < len; k++) out[at(k)]! /= s;
      }
    return [out];
  },
  grad(b, n, dy) {
    // dx = y ⊙ (dy − Σ_axis dy ⊙ y), from the output y
    const y = n.outputs[0]!,
      shape = b.shape(y);
    const axis = normAxis(n, '', attrNum(n, 'axis', -1), shape.length, 'axis');
    const s = b.add('ReduceSum', [b.add('Mul', [dy, y])[0]!], { axis })[0]!;
    const kept = b.add('Reshape', [s], { shape: shape.map((d, i) => (i === axis ? 1 : d)) })[0]!;
    return [b.add('Mul', [y, b.add('Sub', [dy, kept])[0]!])[0]];
  },
};
