// Softmax along attrs.axis (default −1): exp(x − max) / Σ exp(x − max). Float only.
import { numElements } from '../graph.ts';
import { attrNum, need, normAxis, same, passChannels } from './helpers.ts';
import type { OpDef } from './op-def.ts';

export const softmax: OpDef = {
  schema: { inputs: [1, 1], outputs: 1, attrs: { axis: { kind: 'int', default: -1 } } },
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    normAxis(n, file, attrNum(n, 'axis', -1), x.shape.length, 'axis');
    return same(ins);
  },
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
