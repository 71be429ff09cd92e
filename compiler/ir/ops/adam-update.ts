// AdamUpdate (training graphs): w, g, m, v, lr [1], step [1] (t ≥ 1); attrs beta1, beta2, epsilon,
// weightDecay, decoupled → w', m', v'. PyTorch's Adam (decoupled false: g += wd·w) and AdamW (decoupled:
// w ·= 1 − lr·wd): m' = β1·m + (1 − β1)·g; v' = β2·v + (1 − β2)·g²; w' = w − lr/(1 − β1^t) · m' /
// (sqrt(v')/sqrt(1 − β2^t) + ε). Lowers to AdamUpdate_F32 with w', m', v' as views of w, m, v (in place).
import { numElements } from '../graph.ts';
import { attrNum, fail, fmt, need } from './helpers.ts';
import type { OpDef } from './op-def.ts';

export const adamUpdate: OpDef = {
  schema: {
    inputs: [6, 6],
    outputs: 3,
    attrs: {
      beta1: { kind: 'float', default: 0.9 },
      beta2: { kind: 'float', default: 0.999 },
      epsilon: { kind: 'float', default: 1e-8 },
      weightDecay: { kind: 'float', default: 0 },
      decoupled: { kind: 'bool', default: false },
    },
  },
  trainingOnly: true,
  infer(n, ins, file) {
    const ts = ['w', 'g', 'm', 'v', 'lr', 'step'].map((what, i) => need(n, ins, i, file, what));
    for (const t of ts) if (t.dtype !== 'float32') fail(file, n, `'${t.name}' must be float32, found ${t.dtype}`);
    const [w, g, m, v, lr, step] = ts as [
      (typeof ts)[0],
      (typeof ts)[0],
      (typeof ts)[0],
      (typeof ts)[0],
      (typeof ts)[0],
      (typeof ts)[0],
    ];
    for (const t of [g, m, v])
      if (t.shape.join() !== w.shape.join())
        fail(file, n, `'${t.name}' ${fmt(t.shape)} differs from w ${fmt(w.shape)}`);
    if (numElements(lr.shape) !== 1 || numElements(step.shape) !== 1)
      fail(file, n, `lr and step must hold one value each`);
    for (const k of ['beta1', 'beta2']) {
      const b = attrNum(n, k, 0.9);
      if (!(b >= 0 && b < 1)) fail(file, n, `${k} must be in [0, 1), found ${b}`);
    }
    if (!(attrNum(n, 'epsilon', 1e-8) > 0)) fail(file, n, `epsilon must be > 0, found ${n.attrs.epsilon}`);
    return [0, 1, 2].map(() => ({ shape: [...w.shape], dtype: 'float32' as const }));
  },
  evaluate(n, ins) {
    const [w, g, m, v] = ins.slice(0, 4).map((x) => x!.data) as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    const lr = ins[4]!.data[0]!,
      t = ins[5]!.data[0]!;
    const b1 = attrNum(n, 'beta1', 0.9),
      b2 = attrNum(n, 'beta2', 0.999),
      eps = attrNum(n, 'epsilon', 1e-8);
    const wd = attrNum(n, 'weightDecay', 0),
      decoupled = attrNum(n, 'decoupled', 0) !== 0;
    const bc1 = 1 - b1 ** t,
      bc2 = 1 - b2 ** t;
    const w2 = new Float64Array(w.length),
      m2 = new Float64Array(w.length),
      v2 = new Float64Array(w.length);
    for (let i = 0; i < w.length; i++) {
      let wi = w[i]!,
        gi = g[i]!;
      if (decoupled) wi *= 1 - lr * wd;
      else gi += wd * wi;
      m2[i] = b1 * m[i]! + (1 - b1) * gi;
      v2[i] = b2 * v[i]! + (1 - b2) * gi * gi;
      w2[i] = wi - ((lr / bc1) * m2[i]!) / (Math.sqrt(v2[i]!) / Math.sqrt(bc2) + eps);
    }
    return [w2, m2, v2];
  },
};
