// ReduceSum (training graphs: bias and broadcast gradients): x, attrs.axis → x without that axis, float32;
// acc = 0, ascending along the axis. Lowers to ReduceSum_F32 over the view [outer, axis, inner].
import { numElements, type Node } from '../graph.ts';
import { attrNum, fail, fmt, need } from './helpers.ts';
import type { OpDef } from './op-def.ts';

/** [outer, axis, inner] view of `shape` around attrs.axis, and the output shape. */
export function reduceView(
  n: Node,
  shape: readonly number[],
  file: string,
): [outer: number, axis: number, inner: number, out: number[]] {
  let ax = attrNum(n, 'axis', 0);
  if (ax < 0) ax += shape.length;
  if (!Number.isInteger(ax) || ax < 0 || ax >= shape.length)
    fail(file, n, `axis ${n.attrs.axis} is out of range for ${fmt(shape)}`);
  return [
    numElements(shape.slice(0, ax)),
    shape[ax]!,
    numElements(shape.slice(ax + 1)),
    shape.filter((_d, i) => i !== ax),
  ];
}

export const reduceSum: OpDef = {
  schema: { inputs: [1, 1], outputs: 1, attrs: { axis: { kind: 'int', default: 0 } } },
  trainingOnly: true,
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    if (x.dtype !== 'float32') fail(file, n, `x '${x.name}' must be float32, found ${x.dtype}`);
    return [{ shape: reduceView(n, x.shape, file)[3], dtype: 'float32' }];
  },
  evaluate(n, ins) {
    const x = ins[0]!;
    const [outer, axis, inner] = reduceView(n, x.shape, '');
    const out = new Float64Array(outer * inner);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let acc = 0;
        for (let a = 0; a < axis; a++) acc += x.data[(o * axis + a) * inner + i]!;
        out[o * inner + i] = acc;
      }
    return [out];
  },
};
