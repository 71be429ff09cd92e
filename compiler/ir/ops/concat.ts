// Concat along attrs.axis: inputs of one dtype whose shapes agree outside the axis. On int8 every input is
// requantised to the output's params first (quantize pass), so the kernel only copies.
import { numElements } from '../graph.ts';
import { attrNum, fail, fmt, need, normAxis } from './helpers.ts';
import type { OpDef } from './op-def.ts';

export const concat: OpDef = {
  schema: { inputs: [1, Infinity], outputs: 1, attrs: { axis: { kind: 'int' } } },
  infer(n, ins, file) {
    if (ins.length < 1) fail(file, n, `needs at least one input`);
    const first = need(n, ins, 0, file, 'x0');
    const r = first.shape.length;
    const axis = normAxis(n, file, attrNum(n, 'axis', 0), r, 'axis');
    const shape = [...first.shape];
    for (let i = 1; i < ins.length; i++) {
      const t = need(n, ins, i, file, `x${i}`);
      if (t.dtype !== first.dtype) fail(file, n, `input ${i} dtype ${t.dtype} differs from ${first.dtype}`);
      if (t.shape.length !== r || t.shape.some((d, k) => k !== axis && d !== first.shape[k])) {
        fail(file, n, `input ${i} shape ${fmt(t.shape)} does not match ${fmt(first.shape)} outside axis ${axis}`);
      }
      shape[axis]! += t.shape[axis]!;
    }
    return [{ shape, dtype: first.dtype }];
  },
  evaluate(n, ins, outs) {
    const shape = outs[0]!.shape;
    const axis = normAxis(n, '', attrNum(n, 'axis', 0), shape.length, 'axis');
    const outer = numElements(shape.slice(0, axis));
    const out = new Float64Array(numElements(shape));
    let o = 0;
    for (let i = 0; i < outer; i++)
      for (const x of ins) {
        const sz = numElements(x!.shape.slice(axis));
        out.set(x!.data.subarray(i * sz, (i + 1) * sz), o);
        o += sz;
      }
    return [out];
  },
  int8: { quantize: 'own-params' },
  // along the channel axis the inputs' channels follow one another; along any other axis channel c is every input's c
  channelFlow: (n, ins) =>
    normAxis(n, '', attrNum(n, 'axis', 0), ins[0]!.shape.length, 'axis') === ins[0]!.shape.length - 1
      ? { kind: 'concat' }
      : { kind: 'elementwise', data: ins.map((_, i) => i), params: [] },
  grad(b, n, dy) {
    // each input's gradient is its slice of dy along the axis
    const axis = normAxis(n, '', attrNum(n, 'axis', 0), b.shape(n.outputs[0]!).length, 'axis');
    let at = 0;
    return n.inputs.map((i) => {
      const start = at;
      at += b.shape(i)[axis]!;
      return b.wants(i)
        ? b.add('Slice', [dy], { starts: [start], ends: [at], axes: [axis], steps: [1] })[0]
        : undefined;
    });
  },
};
