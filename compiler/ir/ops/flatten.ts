// Flatten at attrs.axis: [d0…d(axis−1)] × [d(axis)…] → 2-D, same row-major data, same dtype.
import { numElements } from '../graph.ts';
import { attrNum, fail, need, reshapeFlow } from './helpers.ts';
import type { OpDef } from './op-def.ts';

export const flatten: OpDef = {
  schema: { inputs: [1, 1], outputs: 1, attrs: { axis: { kind: 'int', default: 1 } } },
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    const r = x.shape.length;
    let axis = attrNum(n, 'axis', 1);
    if (axis < 0) axis += r;
    if (!Number.isInteger(axis) || axis < 0 || axis > r)
      fail(file, n, `axis ${attrNum(n, 'axis', 1)} is out of range for rank ${r}`);
    return [{ shape: [numElements(x.shape.slice(0, axis)), numElements(x.shape.slice(axis))], dtype: x.dtype }];
  },
  evaluate: (_n, ins) => [ins[0]!.data.slice()],
  int8: { quantize: 'input-params' },
  channelFlow: (_n, ins, outs, axes) => reshapeFlow(ins[0]!.shape, outs[0]!.shape, undefined, axes[0]),
  grad: (b, n, dy) => [b.add('Reshape', [dy], { shape: b.shape(n.inputs[0]!) })[0]],
};
