// GlobalNormScale (training graphs): gradients g0..gn, attrs.maxNorm → scale [1] = min(1, maxNorm /
// (‖(g0..gn)‖₂ + 1e-6)), PyTorch's clip_grad_norm_ factor; the training graph multiplies every gradient by
// it before the update. Lowers to GlobalNormScale_F32 (Σ g² over the inputs in order, elements ascending).
import { attrNum, fail } from './helpers.ts';
import type { OpDef } from './op-def.ts';

export const globalNormScale: OpDef = {
  schema: { inputs: [1, Infinity], outputs: 1, attrs: { maxNorm: { kind: 'float' } } },
  trainingOnly: true,
  infer(n, ins, file) {
    ins.forEach((t, i) => {
      if (!t || t.dtype !== 'float32') fail(file, n, `input ${i} must be a float32 gradient`);
    });
    if (!(attrNum(n, 'maxNorm', 0) > 0)) fail(file, n, `maxNorm must be > 0, found ${n.attrs.maxNorm}`);
    return [{ shape: [1], dtype: 'float32' }];
  },
  evaluate(n, ins) {
    let s = 0;
    for (const x of ins) for (const v of x!.data) s += v * v;
    return [Float64Array.of(Math.min(1, attrNum(n, 'maxNorm', 1) / (Math.sqrt(s) + 1e-6)))];
  },
};
