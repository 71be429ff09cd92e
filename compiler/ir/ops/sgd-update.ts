// SgdUpdate (training graphs): w, g, v | '', lr [1]; attrs momentum μ, nesterov, weightDecay wd → w' (, v'),
// PyTorch's SGD with dampening 0: g' = g + wd·w; v' = μv + g'; d = nesterov ? g' + μv' : v' (g' without
// momentum); w' = w − lr·d. Lowers to SgdUpdate_F32 with w', v' as views of w, v (in place in the variables).
import { numElements } from '../graph.ts';
import { attrNum, fail, fmt, need } from './helpers.ts';
import type { OpDef, TypeInfo } from './op-def.ts';

export const sgdUpdate: OpDef = {
  schema: {
    inputs: [4, 4],
    outputs: 2, // v is '' and the output only w' without momentum
    attrs: {
      momentum: { kind: 'float', default: 0 },
      nesterov: { kind: 'bool', default: false },
      weightDecay: { kind: 'float', default: 0 },
    },
  },
  trainingOnly: true,
  infer(n, ins, file) {
    const w = need(n, ins, 0, file, 'w'),
      g = need(n, ins, 1, file, 'g'),
      lr = need(n, ins, 3, file, 'lr');
    const v = ins[2];
    for (const [t, what] of [
      [w, 'w'],
      [g, 'g'],
      [lr, 'lr'],
    ] as const)
      if (t.dtype !== 'float32') fail(file, n, `${what} '${t.name}' must be float32, found ${t.dtype}`);
    if (w.shape.join() !== g.shape.join()) fail(file, n, `w ${fmt(w.shape)} and g ${fmt(g.shape)} differ`);
    if (v && v.shape.join() !== w.shape.join()) fail(file, n, `w ${fmt(w.shape)} and v ${fmt(v.shape)} differ`);
    if (numElements(lr.shape) !== 1) fail(file, n, `lr must hold one value, found ${fmt(lr.shape)}`);
    const mu = attrNum(n, 'momentum', 0);
    if (!(mu >= 0 && mu < 1)) fail(file, n, `momentum must be in [0, 1), found ${mu}`);
    if (mu > 0 !== (v !== undefined)) fail(file, n, `a velocity input is needed exactly when momentum > 0`);
    const out: TypeInfo[] = [{ shape: [...w.shape], dtype: 'float32' }];
    if (v) out.push({ shape: [...w.shape], dtype: 'float32' });
    return out;
  },
  evaluate(n, ins) {
    const w = ins[0]!.data,
      g = ins[1]!.data,
      v = ins[2]?.data,
      lr = ins[3]!.data[0]!;
    const mu = attrNum(n, 'momentum', 0),
      wd = attrNum(n, 'weightDecay', 0),
      nesterov = attrNum(n, 'nesterov', 0) !== 0;
    const w2 = new Float64Array(w.length),
      v2 = v ? new Float64Array(w.length) : undefined;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i]! + wd * w[i]!;
      let d = gi;
      if (v2) {
        v2[i] = mu * v![i]! + gi;
        d = nesterov ? gi + mu * v2[i]! : v2[i]!;
      }
      w2[i] = w[i]! - lr * d;
    }
    return v2 ? [w2, v2] : [w2];
  },
};
