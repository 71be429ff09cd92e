// ActivationGrad (training graphs): dL/dx of an activation from its output y and dL/dy; attrs.activation
// relu | clip (attrs.clip [lo, hi]; 0 at the bounds) | leakyrelu (attrs.alpha > 0) | sigmoid | tanh | exp;
// hardswish reads the activation's input x instead (x < −3: 0; x ≤ 3: x/3 + 1/2; else 1, PyTorch's).
// Lowers to UnaryGrad_F32.
import { attrNum, fail, fmt, need } from './helpers.ts';
import type { OpDef } from './op-def.ts';

export const ACTIVATION_GRADS = ['relu', 'clip', 'leakyrelu', 'sigmoid', 'tanh', 'exp', 'hardswish'] as const;
export type GradActivation = (typeof ACTIVATION_GRADS)[number];

export const activationGrad: OpDef = {
  schema: {
    inputs: [2, 2],
    outputs: 1,
    attrs: {
      activation: { kind: 'string', values: ACTIVATION_GRADS },
      clip: { kind: 'floats', length: 2, default: [0, 0] },
      alpha: { kind: 'float', default: 0.01 },
    },
  },
  trainingOnly: true,
  infer(n, ins, file) {
    const y = need(n, ins, 0, file, 'y'),
      dy = need(n, ins, 1, file, 'dy');
    for (const [t, what] of [
      [y, 'y'],
      [dy, 'dy'],
    ] as const)
      if (t.dtype !== 'float32') fail(file, n, `${what} '${t.name}' must be float32, found ${t.dtype}`);
    if (y.shape.join() !== dy.shape.join()) fail(file, n, `y ${fmt(y.shape)} and dy ${fmt(dy.shape)} differ`);
    const a = n.attrs.activation;
    if (!ACTIVATION_GRADS.includes(a as GradActivation))
      fail(file, n, `activation must be one of ${ACTIVATION_GRADS.join(', ')}, found ${JSON.stringify(a)}`);
    if (a === 'leakyrelu' && !(attrNum(n, 'alpha', 0.01) > 0))
      fail(file, n, `the gradient from the output needs alpha > 0, found ${n.attrs.alpha}`);
    return [{ shape: [...y.shape], dtype: 'float32' }];
  },
  evaluate(n, ins) {
    const y = ins[0]!.data,
      dy = ins[1]!.data;
    const a = n.attrs.activation as GradActivation;
    const [lo, hi] = (n.attrs.clip as number[] | undefined) ?? [-Infinity, Infinity];
    const alpha = attrNum(n, 'alpha', 0.01);
    return [
      dy.map((g, i) => {
        const v = y[i]!;
        switch (a) {
          case 'relu':
            return v > 0 ? g : 0;
          case 'clip':
            return v > lo! && v < hi! ? g : 0;
          case 'leakyrelu':
            return v > 0 ? g : g * alpha;
          case 'sigmoid':
            return g * v * (1 - v);
          case 'tanh':
            return g * (1 - v * v);
          case 'exp':
            return g * v;
          case 'hardswish':
            return v < -3 ? 0 : v <= 3 ? g * (v / 3 + 0.5) : g;
        }
      }),
    ];
  },
};
