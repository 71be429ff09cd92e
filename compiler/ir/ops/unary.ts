// Elementwise unary ops (activations): Relu, Relu6, Clip [min, max], LeakyRelu (alpha), Sigmoid, Tanh, Exp, HardSwish.
// Sigmoid and Tanh run on int8 as TFLite's LOGISTIC / TANH do (Lut_QS8: a 256-entry table the compiler fills),
// placed by the quantize pass for pre-quantised models only; Exp and HardSwish stay float.
// Same shape and dtype out as in. On int8, Relu/Relu6/Clip are the saturation of a Requantize (quantize pass).
import { FLOAT32_MAX, activationGradRule, attrNum, noAttrs, sameF, passChannels } from './helpers.ts';
import type { GradRule, Int8Rule, OpDef, OpSchema, Value } from './op-def.ts';
import type { Graph, Node } from '../graph.ts';
import { tensorQuant } from '../quant.ts';

const f32 = Math.fround;
const roundAway = (v: number) => (v < 0 ? -Math.round(-v) : Math.round(v));

/**
 * TFLite's int8 lookup table (LUTPopulate): table[q + 128] = clamp(round_half_away(f32(f(f32(s_in·(q − zp_in)))
 * · f32(1 / s_out))) + zp_out, −128, 127), f in float32 (Sigmoid 1 / (1 + exp(−x)), Tanh).
 */
export function lutTableQs8(op: 'Sigmoid' | 'Tanh', sIn: number, zpIn: number, sOut: number, zpOut: number): Int8Array {
  const inv = f32(1 / f32(sOut));
  const f = op === 'Sigmoid' ? (x: number) => f32(1 / f32(1 + f32(Math.exp(-x)))) : (x: number) => f32(Math.tanh(x));
  const t = new Int8Array(256);
  for (let q = -128; q <= 127; q++) {
    const y = roundAway(f32(f(f32(f32(sIn) * (q - zpIn))) * inv)) + zpOut;
    t[q + 128] = Math.min(127, Math.max(-128, y));
  }
  return t;
}

/** Integer reference of Lut_QS8: y = table[x + 128]. */
const lutInt8 = (op: 'Sigmoid' | 'Tanh'): Int8Rule => ({
  evaluate(g: Graph, n: Node, ins: (Value | undefined)[]) {
    const qi = tensorQuant(g, n.inputs[0]!, n),
      qo = tensorQuant(g, n.outputs[0]!, n);
    const t = lutTableQs8(op, qi.scale, qi.zp, qo.scale, qo.zp);
    return [ins[0]!.data.map((v) => t[v + 128]!)];
  },
});

function unary(f: (v: number, n: Node) => number, schema: OpSchema, int8: Int8Rule | undefined, grad: GradRule): OpDef {
  return {
    schema,
    infer: sameF,
    evaluate: (n, ins) => [ins[0]!.data.map((v) => f(v, n))],
    ...(int8 ? { int8 } : {}),
    channelFlow: passChannels,
    // every rule reads the output y (dL/dx = f'(x)·dy written through y), so backward keeps y, not x
    grad,
  };
}

const sigmoidOf = (v: number) => 1 / (1 + Math.exp(-v));

export const relu = unary((v) => Math.max(v, 0), noAttrs([1, 1]), { quantize: 'clamp' }, activationGradRule('relu'));
export const relu6 = unary(
  (v) => Math.min(Math.max(v, 0), 6),
  noAttrs([1, 1]),
  { quantize: 'clamp' },
  activationGradRule('clip', () => ({ clip: [0, 6] })),
);
export const clip = unary(
  (v, n) => Math.min(Math.max(v, attrNum(n, 'min', -Infinity)), attrNum(n, 'max', Infinity)),
  {
    inputs: [1, 1],
    outputs: 1,
    attrs: {
      min: { kind: 'float', default: -FLOAT32_MAX },
      max: { kind: 'float', default: FLOAT32_MAX },
    },
    check: (a) =>
      (a.min as number) <= (a.max as number)
        ? undefined
        : `attr 'min': expected min ≤ max, found min ${a.min} > max ${a.max}`,
  },
  { quantize: 'clamp' },
  activationGradRule('clip', (n) => ({ clip: [attrNum(n, 'min', -Infinity), attrNum(n, 'max', Infinity)] })),
);
export const leakyRelu = unary(
  (v, n) => (v < 0 ? v * attrNum(n, 'alpha', 0.01) : v),
  { inputs: [1, 1], outputs: 1, attrs: { alpha: { kind: 'float', default: 0.01 } } },
  undefined,
  activationGradRule('leakyrelu', (n) => ({ alpha: attrNum(n, 'alpha', 0.01) })),
);
export const sigmoid = unary(sigmoidOf, noAttrs([1, 1]), lutInt8('Sigmoid'), activationGradRule('sigmoid'));
export const tanh = unary(Math.tanh, noAttrs([1, 1]), lutInt8('Tanh'), activationGradRule('tanh'));
export const exp = unary(Math.exp, noAttrs([1, 1]), undefined, activationGradRule('exp'));
/**
 * HardSwish x·relu6(x + 3)/6 (PyTorch's and ONNX's). Its derivative is not a function of y, so its rule reads x:
 * 0 for x < −3, x/3 + 1/2 for −3 ≤ x ≤ 3, 1 above — PyTorch's hardswish_backward, boundaries included.
 */
export const hardSwish: OpDef = {
  ...unary(
    (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6,
    noAttrs([1, 1]),
    undefined,
    () => [],
  ),
  grad: (b, n, dy) => [b.add('ActivationGrad', [n.inputs[0]!, dy], { activation: 'hardswish' })[0]!],
};
