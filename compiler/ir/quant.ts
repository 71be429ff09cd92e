// int8 facts of a graph's tensors (docs/quantization.md): the per-tensor scale and zero point of an int8
// activation, the output clamp of a fused activation, and the per-channel multipliers of a Conv2D/Dense.
// Used by the op files' integer references and by lowering, so both read one definition.
import { ModelError, type Graph, type Node, type QuantParams } from './graph.ts';
import { activationOf } from './ops/helpers.ts';
import {
  activationClamp,
  addMultipliers,
  channelMultipliers,
  channelScalesF32,
  xnnpackAddMultipliers,
  type AddFp32,
  type ChannelRequant,
} from './requant.ts';

/** Per-tensor quant of an int8 activation (scale, zero point), with a clear error when absent. */
export function tensorQuant(g: Graph, name: string, n: Node): { scale: number; zp: number } {
  const q: QuantParams | undefined = g.tensors.get(name)?.quant;
  if (!q || q.scale.length < 1)
    throw new ModelError(g.source, `node '${n.name}' (${n.op})`, `int8 tensor '${name}' has no quant params`);
  const zp = q.zeroPoint[0] ?? 0;
  if (!Number.isInteger(zp) || zp < -128 || zp > 127)
    throw new ModelError(
      g.source,
      `node '${n.name}' (${n.op})`,
      `int8 tensor '${name}' has zero point ${zp}, expected an integer in [-128, 127]`,
    );
  if (!(q.scale[0]! > 0) || !Number.isFinite(q.scale[0]!))
    throw new ModelError(
      g.source,
      `node '${n.name}' (${n.op})`,
      `int8 tensor '${name}' has scale ${q.scale[0]}, expected a positive finite number`,
    );
  return { scale: q.scale[0]!, zp };
}

/**
 * Add_QS8's constants: edgec's (one shift for the larger ratio, mult in [2^30, 2^31)), or for a graph with XNNPACK's
 * arithmetic (int8Arithmetic 'tflite') the ones TFLite's interpreter uses (xnnpackAddMultipliers).
 */
export function addQs8Multipliers(g: Graph, sA: number, sB: number, sOut: number, what?: string) {
  const so = Math.fround(sOut);
  const ra = Math.fround(sA) / so,
    rb = Math.fround(sB) / so;
  const xnn = g.int8Arithmetic === 'tflite' ? xnnpackAddMultipliers(Math.fround(ra), Math.fround(rb)) : undefined;
  return xnn ?? addMultipliers(ra, rb, what);
}

/** Add on onnxruntime's arithmetic (its QLinearAdd, Add_QS8_FP32): a pre-quantised ONNX graph's Add (Sub keeps Add_QS8:
 *  onnxruntime runs DQ → Sub → Q unfused). */
export function ortAdd(g: Graph, n: Node): boolean {
  return g.int8Arithmetic === 'onnxruntime' && n.op === 'Add';
}

/**
 * Add_QS8_FP32's constants: the three scales and the zero point onnxruntime rounds with, the uint8 one (int8 + 128) for
 * int8 and uint8 models alike: on x64 and in its wasm build onnxruntime turns every int8 QuantizeLinear →
 * DequantizeLinear pair into uint8 (its QDQS8ToU8Transformer) before it fuses DQ → Add → Q into QLinearAdd, whose
 * f32(v + zp) then has the uint8 zero point (measured: docs/quantization.md).
 */
export function addFp32Constants(sA: number, sB: number, sOut: number, zpOut: number): AddFp32 {
  const f = Math.fround;
  return { sA: f(sA), sB: f(sB), sOut: f(sOut), zr: zpOut + 128 };
}

/** Mul_QS8_FP32's scale, as XNNPACK's qs8 multiply (TFLite's int8 MUL) computes it: f32(f32(s_a·s_b) / s_out). */
export function mulQs8Scale(sA: number, sB: number, sOut: number, what = 'Mul'): number {
  const f = Math.fround;
  const scale = f(f(f(sA) * f(sB)) / f(sOut));
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new RangeError(`${what}: float32 scale ${scale} must be positive and finite`);
  return scale;
}

/** Output clamp of a node with a fused activation. */
export function nodeClamp(n: Node, sOut: number, zpOut: number): [number, number] {
  const a = activationOf(n);
  return activationClamp(a.kind, a.min, a.max, sOut, zpOut);
}

/** Whether Conv / Dense / depthwise requantise in float32 (the *_QS8_FP32 kernels): TFLite's and onnxruntime's
 *  arithmetic (Graph.int8Arithmetic), not edgec's own fixed point. */
export const floatRequant = (g: Graph): boolean => g.int8Arithmetic !== undefined;

export interface WeightedQs8 {
  zpIn: number;
  zpOut: number;
  qMin: number;
  qMax: number;
  /** Per output channel (weights' axis 0): fixed point, or float32 scales (floatRequant). */
  fp: ChannelRequant[];
}

/** Quant constants of an int8 Conv2D / Dense: zero points, clamp, and s_in·s_w[c] / s_out per channel. */
export function weightedQs8(g: Graph, n: Node, co: number): WeightedQs8 {
  const qi = tensorQuant(g, n.inputs[0]!, n),
    qo = tensorQuant(g, n.outputs[0]!, n);
  const wq = g.tensors.get(n.inputs[1]!)?.quant;
  if (!wq)
    throw new ModelError(g.source, `node '${n.name}' (${n.op})`, `int8 weights '${n.inputs[1]}' have no quant params`);
  const sW = wq.scale.length === 1 ? new Array<number>(co).fill(wq.scale[0]!) : wq.scale;
  const what = `node '${n.name}'`;
  const fp = floatRequant(g)
    ? channelScalesF32(qi.scale, sW, qo.scale, what)
    : channelMultipliers(qi.scale, sW, qo.scale, what);
  const [qMin, qMax] = nodeClamp(n, qo.scale, qo.zp);
  return { zpIn: qi.zp, zpOut: qo.zp, qMin, qMax, fp };
}

/**
 * The int32 accumulator bound of one Conv2D/Dense output channel, enforced by the lowering and met by the
 * quantize pass's dead-channel rule (quantize/params.ts): every partial sum |bias − zp_in·Σw| + 128·Σ|w|
 * (zero point folded) and |bias| + 255·Σ|w| (the reference twins' (x − zp)·w) stays below 2^31.
 * `sumW` / `sumAbsW` are over the channel's int8 weights.
 */
export function accumulatorFits(bias: number, zpIn: number, sumW: number, sumAbsW: number): boolean {
  return Math.abs(bias - zpIn * sumW) + 128 * sumAbsW < 2 ** 31 && Math.abs(bias) + 255 * sumAbsW < 2 ** 31;
}
