// MseLoss (training graphs): prediction, float32 target of the same shape → loss [1] = mean (p − t)² over
// every element, dpred = 2·(p − t) / count. Lowers to MseLoss_F32 (sum ascending).
import { numElements } from '../graph.ts';
import { fail, fmt, need } from './helpers.ts';
import type { OpDef } from './op-def.ts';

export const mseLoss: OpDef = {
  schema: { inputs: [2, 2], outputs: 2, attrs: {} },
  trainingOnly: true,
  infer(n, ins, file) {
    const p = need(n, ins, 0, file, 'prediction'),
      t = need(n, ins, 1, file, 'target');
    if (p.dtype !== 'float32' || t.dtype !== 'float32')
      fail(file, n, `prediction and target must be float32, found ${p.dtype} and ${t.dtype}`);
    if (p.shape.join() !== t.shape.join())
      fail(file, n, `target ${fmt(t.shape)} does not match the prediction ${fmt(p.shape)}`);
    return [
      { shape: [1], dtype: 'float32' },
      { shape: [...p.shape], dtype: 'float32' },
    ];
  },
  evaluate(_n, ins) {
    const p = ins[0]!.data,
      t = ins[1]!.data,
      count = numElements(ins[0]!.shape);
    let s = 0;
    const d = p.map((v, i) => {
      s += (v - t[i]!) ** 2;
      return (2 * (v - t[i]!)) / count;
    });
    return [Float64Array.of(s / count), d];
  },
};
