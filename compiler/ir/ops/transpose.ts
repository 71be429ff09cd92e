// Transpose by attrs.perm (default: reversed axes): output axis i is input axis perm[i]; same dtype.
import type { Node } from '../graph.ts';
import { attrNums, fail, fmt, gather, need, rowStrides, passChannels } from './helpers.ts';
import type { OpDef } from './op-def.ts';

export function transposePerm(n: Node, r: number, file: string): number[] {
  const def = Array.from({ length: r }, (_, i) => r - 1 - i);
  const perm = attrNums(n, 'perm', def);
  const seen = new Set(perm);
  if (perm.length !== r || seen.size !== r || perm.some((p) => !Number.isInteger(p) || p < 0 || p >= r)) {
    fail(file, n, `perm ${fmt(perm)} is not a permutation of ${r} axes`);
  }
  return perm;
}

export const transpose: OpDef = {
  schema: {
    inputs: [1, 1],
    outputs: 1,
    attrs: { perm: { kind: 'ints', min: 0 } },
    check: (a) => {
      const perm = a.perm as number[];
      const sorted = [...perm].sort((x, y) => x - y);
      return sorted.every((v, i) => v === i)
        ? undefined
        : `attr 'perm': expected a permutation of 0..${perm.length - 1}, found ${JSON.stringify(perm)}`;
    },
  },
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    const perm = transposePerm(n, x.shape.length, file);
    return [{ shape: perm.map((p) => x.shape[p]!), dtype: x.dtype }];
  },
  evaluate(n, ins, outs) {
    const x = ins[0]!;
    const perm = transposePerm(n, x.shape.length, '');
    const st = rowStrides(x.shape);
    return [
      gather(
        x.data,
        outs[0]!.shape,
        perm.map((p) => st[p]!),
        0,
      ),
    ];
  },
  int8: { quantize: 'input-params' },
  // channel c stays channel c; it sits on the output axis that reads the input's channel axis
  channelFlow(n, ins, _outs, axes) {
    const r = ins[0]!.shape.length;
    const axis = transposePerm(n, r, '').indexOf(axes[0] ?? r - 1);
    return { ...passChannels(), axis };
  },
  grad(b, n, dy) {
    const perm = transposePerm(n, b.shape(n.inputs[0]!).length, '');
    return [b.add('Transpose', [dy], { perm: perm.map((_p, i) => perm.indexOf(i)) })[0]];
  },
};
