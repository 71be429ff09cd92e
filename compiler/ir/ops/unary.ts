// Elementwise unary ops (activations): Relu, Relu6, Clip [min, max], LeakyRelu (alpha), Sigmoid, Tanh, Exp, HardSwish.
// Sigmoid and Tanh run on int8 as TFLite's LOGISTIC / TANH do, HardSwish as its HARD_SWISH does (Lut_QS8: a
// 256-entry table the compiler fills), placed by the quantize pass for pre-quantised models only (HardSwish: .tflite
// ones); Exp stays float.
// Same shape and dtype out as in. On int8, Relu/Relu6/Clip are the saturation of a Requantize (quantize pass) when
// the output's params cannot hold a value outside [min, max]; otherwise they stay int8 Relu/Relu6/Clip nodes that run
// as Lut_QS8 with the clamp in the table (clampTableQs8), as TFLite clamps a standalone RELU.
import { FLOAT32_MAX, activationGradRule, attrNum, noAttrs, sameF, passChannels } from './helpers.ts';
import type { GradRule, Int8Rule, OpDef, OpSchema, Value } from './op-def.ts';
import type { Graph, Node } from '../graph.ts';
import { tensorQuant } from '../quant.ts';
import { quantizeMultiplier, requantize } from '../requant.ts';

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

const sat16 = (v: number) => Math.min(32767, Math.max(-32768, v));
/** Q15 product a·b·2^−15 rounded to nearest, ties away from zero (gemmlowp's saturating rounding doubling high mul). */
const mulHighRound16 = (a: number, b: number) =>
  a === -32768 && b === -32768 ? 32767 : sat16(Math.trunc((a * b + (a * b >= 0 ? 16384 : -16383)) / 32768));
/** Q15 product truncated toward zero (its non-rounding twin, which HARD_SWISH uses for the last product). */
const mulHighTrunc16 = (a: number, b: number) => (a === -32768 && b === -32768 ? 32767 : Math.trunc((a * b) / 32768));
/** x / 2^e rounded to nearest, ties away from zero (gemmlowp's rounding divide by a power of two). */
const divPow2Round = (x: number, e: number) => {
  if (e === 0) return x;
  const mask = 2 ** e - 1,
    rem = x & mask;
  return (x >> e) + (rem > (mask >> 1) + (x < 0 ? 1 : 0) ? 1 : 0);
};
/** TFLite's multiplier in Q15 and its power-of-two exponent: r ≈ m16·2^(e − 15), from the Q31 one rounded to 16 bits. */
function q15Multiplier(r: number): { m16: number; e: number } {
  const { mult, shift } = quantizeMultiplier(r, 'HardSwish');
  return { m16: mult >= 2 ** 31 - 1 - 32768 ? 32767 : (mult + 32768) >> 16, e: 31 - shift };
}

/**
 * TFLite's integer HARD_SWISH (its reference kernel, which its interpreter runs for int8), as a table over the 256
 * inputs: on the "hi-res" input v = (q − zp_in)·2^7 (scale s_in/128), the output-scale value
 * o = v ⊗ m_out and the "relu-ish" factor r = v·(s_in/128)/(3/32768) in Q15, saturated to [−1, 1), mapped to
 * [0, 1) by (r + 2^15) >> 1; y = clamp(round(o ⊗' r / 2^−e_out) + zp_out) with ⊗ the rounding and ⊗' the
 * truncating Q15 product. All multipliers from float32 scales, as its Prepare computes them.
 */
export function hardSwishTableQs8(sIn: number, zpIn: number, sOut: number, zpOut: number): Int8Array {
  const hires = f32(f32(sIn) / 128);
  const out = q15Multiplier(f32(hires / f32(sOut))),
    relu = q15Multiplier(f32(hires / f32(3 / 32768)));
  if (out.e > 0) throw new RangeError(`HardSwish: s_in / (128·s_out) = ${hires / f32(sOut)} must be below 1`);
  const t = new Int8Array(256);
  for (let q = -128; q <= 127; q++) {
    const v = (q - zpIn) * 128; // |q − zp_in| ≤ 255: fits int16
    const o = mulHighRound16(v, out.m16);
    let r = v;
    if (relu.e > 0) r = sat16(r * 2 ** (relu.e - 1));
    r = mulHighRound16(r, relu.m16);
    if (relu.e > 0) r = sat16(r * 2);
    else if (relu.e < 0) r = divPow2Round(r, -relu.e);
    r = (r + 32768) >> 1;
    const y = divPow2Round(mulHighTrunc16(r, o), -out.e) + zpOut;
    t[q + 128] = Math.min(127, Math.max(-128, y));
  }
  return t;
}

/** The Lut_QS8 table of an int8 Sigmoid, Tanh or HardSwish node. */
export function unaryTableQs8(op: string, sIn: number, zpIn: number, sOut: number, zpOut: number): Int8Array {
  if (op === 'HardSwish') return hardSwishTableQs8(sIn, zpIn, sOut, zpOut);
  return lutTableQs8(op as 'Sigmoid' | 'Tanh', sIn, zpIn, sOut, zpOut);
}

/** The [min, max] a Relu, Relu6 or Clip node keeps. */
export function clampRange(n: Node): [number, number] {
  if (n.op === 'Relu') return [0, Infinity];
  if (n.op === 'Relu6') return [0, 6];
  return [attrNum(n, 'min', -Infinity), attrNum(n, 'max', Infinity)];
}

/**
 * The int8 codes [qlo, qhi] a clamp to [lo, hi] keeps on output params (s, zp), as TFLite's
 * CalculateActivationRangeQuantized: zp + round_half_away(f32(bound / s)), within [−128, 127].
 */
export function clampCodes(lo: number, hi: number, s: number, zp: number): [number, number] {
  const code = (v: number) => zp + roundAway(f32(f32(v) / f32(s)));
  return [lo === -Infinity ? -128 : Math.max(-128, code(lo)), hi === Infinity ? 127 : Math.min(127, code(hi))];
}

/**
 * TFLite's MultiplyByQuantizedMultiplier(x, r): r = m·2^e with m in [0.5, 1) as a Q31 integer M (frexp, rounded);
 * x·2^max(e, 0) times M in Q31 rounded half away from zero (SaturatingRoundingDoublingHighMul), then divided by
 * 2^max(−e, 0) rounded half away from zero. Its ties differ from edgec's single rounding (half up).
 */
function tfliteMultiply(x: number, r: number): number {
  let e = Math.floor(Math.log2(r)) + 1;
  let m = Math.round((r / 2 ** e) * 2 ** 31);
  if (m < 2 ** 30) ((m *= 2), e--); // log2 rounding at an exact power of two
  if (m === 2 ** 31) ((m /= 2), e++);
  const ab = BigInt(x * 2 ** Math.max(e, 0)) * BigInt(m);
  const high = Number((ab + (ab >= 0n ? 1n << 30n : 1n - (1n << 30n))) / (1n << 31n)); // BigInt / truncates
  return divPow2Round(high, Math.max(-e, 0));
}

/**
 * Lut_QS8 table of an int8 clamp whose output params can hold values outside [lo, hi]: q requantised by
 * f32(s_in) / f32(s_out) and clamped to clampCodes — edgec's Requantize rounding, or in a .tflite graph TFLite's
 * QuantizedReluX (tfliteMultiply).
 */
export function clampTableQs8(
  n: Node,
  sIn: number,
  zpIn: number,
  sOut: number,
  zpOut: number,
  tflite: boolean,
): Int8Array {
  const [lo, hi] = clampRange(n);
  const [qlo, qhi] = clampCodes(lo, hi, sOut, zpOut);
  const r = f32(sIn) / f32(sOut);
  const { mult, shift } = quantizeMultiplier(r, n.name);
  return Int8Array.from({ length: 256 }, (_, i) => {
    const v = i - 128 - zpIn;
    if (!tflite) return requantize(v, mult, shift, zpOut, qlo, qhi);
    return Math.min(qhi, Math.max(qlo, zpOut + tfliteMultiply(v, r)));
  });
}

/** Integer reference of a clamp left on int8 by the quantize pass (Lut_QS8 with clampTableQs8). */
const clampInt8: Int8Rule = {
  quantize: 'clamp',
  evaluate(g: Graph, n: Node, ins: (Value | undefined)[]) {
    const qi = tensorQuant(g, n.inputs[0]!, n),
      qo = tensorQuant(g, n.outputs[0]!, n);
    const t = clampTableQs8(n, qi.scale, qi.zp, qo.scale, qo.zp, g.int8Arithmetic === 'tflite');
    return [ins[0]!.data.map((v) => t[v + 128]!)];
  },
};

/** Integer reference of Lut_QS8: y = table[x + 128]. */
const lutInt8 = (op: 'Sigmoid' | 'Tanh' | 'HardSwish'): Int8Rule => ({
  evaluate(g: Graph, n: Node, ins: (Value | undefined)[]) {
    const qi = tensorQuant(g, n.inputs[0]!, n),
      qo = tensorQuant(g, n.outputs[0]!, n);
    const t = unaryTableQs8(op, qi.scale, qi.zp, qo.scale, qo.zp);
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

export const relu = unary((v) => Math.max(v, 0), noAttrs([1, 1]), clampInt8, activationGradRule('relu'));
export const relu6 = unary(
  (v) => Math.min(Math.max(v, 0), 6),
  noAttrs([1, 1]),
  clampInt8,
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
  clampInt8,
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
    lutInt8('HardSwish'),
    () => [],
  ),
  grad: (b, n, dy) => [b.add('ActivationGrad', [n.inputs[0]!, dy], { activation: 'hardswish' })[0]!],
};
