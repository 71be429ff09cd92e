// BatchNorm (inference form): y = (x − mean[c]) / √(var[c] + ε) · scale[c] + bias[c] over the last axis (channels).
// Float only: the fold-batchnorm pass folds it into the preceding Conv2D/Dense before quantisation.
import { numElements } from '../graph.ts';
import { attrNum, fail, fmt, lastAxis, need, same } from './helpers.ts';
import type { OpDef } from './op-def.ts';

export const batchNorm: OpDef = {
  schema: { inputs: [5, 5], outputs: 1, attrs: { epsilon: { kind: 'float', default: 1e-5 } } },
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    if (x.shape.length < 1) fail(file, n, `input must have rank ≥ 1`);
    const c = x.shape[x.shape.length - 1]!;
    ['scale', 'bias', 'mean', 'var'].forEach((what, i) => {
      const t = need(n, ins, i + 1, file, what);
      if (numElements(t.shape) !== c) fail(file, n, `${what} ${fmt(t.shape)} does not match channels ${c} (last axis)`);
    });
    return same(ins);
  },
  channelFlow: (_n, ins) => ({ kind: 'elementwise', data: [0], params: [1, 2, 3, 4].map((i) => ({ input: i, axis: lastAxis(ins[i]!) })) }),
  evaluate(n, ins) {
    const x = ins[0]!;
    const [sc, bi, me, va] = [ins[1]!.data, ins[2]!.data, ins[3]!.data, ins[4]!.data];
    const eps = attrNum(n, 'epsilon', 1e-5);
    const c = x.shape[x.shape.length - 1]!;
    return [x.data.map((v, i) => {
      const k = i % c;
      return (v - me[k]!) / Math.sqrt(va[k]! + eps) * sc[k]! + bi[k]!;
    })];
  },
};
