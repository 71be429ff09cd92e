// Reshape to attrs.shape (one -1 inferred; 0 copies the input dim): same row-major data, same dtype.
import { numElements, type Node } from '../graph.ts';
import { attrNums, fail, fmt, need, reshapeFlow } from './helpers.ts';
import type { OpDef } from './op-def.ts';

export function reshapeTarget(n: Node, inShape: readonly number[], file: string): number[] {
  const spec = attrNums(n, 'shape', []);
  if (!Array.isArray(n.attrs.shape)) fail(file, n, `shape attribute is missing`);
  const total = numElements(inShape);
  const out = spec.map((d, i) => {
    if (d === 0) {
      if (i >= inShape.length)
        fail(file, n, `shape ${fmt(spec)}: 0 at axis ${i} has no input dim to copy (input ${fmt(inShape)})`);
      return inShape[i]!;
    }
    return d;
  });
  const neg = out.filter((d) => d === -1).length;
  if (neg > 1 || out.some((d) => d < -1 || !Number.isInteger(d)))
    fail(file, n, `shape ${fmt(spec)} may hold one -1 and otherwise positive dims`);
  const known = out.reduce((p, d) => (d === -1 ? p : p * d), 1);
  if (neg === 1) {
    if (known === 0 || total % known !== 0)
      fail(file, n, `shape ${fmt(spec)} does not fit ${total} elements of input ${fmt(inShape)}`);
    out[out.indexOf(-1)] = total / known;
  }
  if (numElements(out) !== total)
    fail(file, n, `shape ${fmt(spec)} has ${numElements(out)} elements, input ${fmt(inShape)} has ${total}`);
  return out;
}

export const reshape: OpDef = {
  schema: {
    inputs: [1, 1],
    outputs: 1,
    attrs: { shape: { kind: 'ints', min: -1 } },
    check: (a) => {
      const shape = a.shape as number[];
      return shape.filter((d) => d === -1).length <= 1
        ? undefined
        : `attr 'shape': expected at most one -1, found ${JSON.stringify(shape)}`;
    },
  },
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    return [{ shape: reshapeTarget(n, x.shape, file), dtype: x.dtype }];
  },
  evaluate: (_n, ins) => [ins[0]!.data.slice()],
  int8: { quantize: 'input-params' },
  channelFlow: (n, ins, outs, axes) =>
    reshapeFlow(
      ins[0]!.shape,
      outs[0]!.shape,
      (node, c, old) => {
        const spec = attrNums(node, 'shape', []);
        const last = spec.length - 1;
        if (spec[last]! > 0) node.attrs.shape = spec.map((d, i) => (i === last ? (d / old) * c : d));
      },
      axes[0],
    ),
  grad: (b, n, dy) => [b.add('Reshape', [dy], { shape: b.shape(n.inputs[0]!) })[0]],
};
