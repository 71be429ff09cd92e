// Elementwise binary ops with numpy broadcasting: Add, Sub, Mul (fused activation allowed), Div, Max, Min,
// PRelu (slope broadcast to x). Float64 reference; Add also has the int8 integer reference
// clamp(zp + (((a − zp_a)·mA + (b − zp_b)·mB + 2^(shift−1)) >> shift)), exact (BigInt); Sub is that with −mB and
// Mul is clamp(zp + round_half_even(f32(f32((a − zp_a)·(b − zp_b))·scale))) (TFLite's int8 SUB / MUL, .tflite only);
// Add on onnxruntime's arithmetic is its QLinearAdd in float32 (ir/requant.ts addFp32).
import { numElements, type Graph, type Node } from '../graph.ts';
import { addFp32Constants, addQs8Multipliers, mulQs8Scale, nodeClamp, ortAdd, tensorQuant } from '../quant.ts';
import { addFp32, roundHalfEven } from '../requant.ts';
import {
  applyActivation,
  attrStr,
  broadcastShapes,
  broadcastStrides,
  checkActivation,
  checkClipRange,
  fail,
  fmt,
  FUSED_ACTIVATION,
  gradThroughFused,
  lastAxis,
  need,
  noAttrs,
  unbroadcastGrad,
} from './helpers.ts';
import type { ChannelParam, GradRule, Int8Rule, OpDef, OpSchema, TypeInfo, Value } from './op-def.ts';

type Ints = ArrayLike<number>;

/** f(i, ia, ib) for every element i of outShape in row-major order, with a's and b's flat indices under numpy
 *  broadcasting (every binary reference here walks this way). */
function forEachBroadcast(
  aShape: readonly number[],
  bShape: readonly number[],
  outShape: readonly number[],
  f: (i: number, ia: number, ib: number) => void,
): void {
  const sa = broadcastStrides(aShape, outShape),
    sb = broadcastStrides(bShape, outShape);
  const total = numElements(outShape);
  const idx = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < total; i++) {
    let ia = 0,
      ib = 0;
    for (let k = 0; k < outShape.length; k++) {
      ia += idx[k]! * sa[k]!;
      ib += idx[k]! * sb[k]!;
    }
    f(i, ia, ib);
    for (let k = outShape.length - 1; k >= 0; k--) {
      if (++idx[k]! < outShape[k]!) break;
      idx[k] = 0;
    }
  }
}

/** Add with broadcasting: clamp(zp + (((a − zp_a)·mA + (b − zp_b)·mB + 2^(shift−1)) >> shift)). */
export function addQs8Ref(
  a: Ints,
  aShape: readonly number[],
  b: Ints,
  bShape: readonly number[],
  outShape: readonly number[],
  zpA: number,
  zpB: number,
  zpOut: number,
  m: { multA: number; multB: number; shift: number },
  qMin: number,
  qMax: number,
): Int8Array {
  const out = new Int8Array(numElements(outShape));
  const rnd = 1n << BigInt(m.shift - 1);
  forEachBroadcast(aShape, bShape, outShape, (i, ia, ib) => {
    const s = BigInt(a[ia]! - zpA) * BigInt(m.multA) + BigInt(b[ib]! - zpB) * BigInt(m.multB) + rnd;
    const v = Number(s >> BigInt(m.shift)) + zpOut;
    out[i] = Math.min(qMax, Math.max(qMin, v));
  });
  return out;
}

/** Mul with broadcasting: clamp(zp + round_half_even(f32(f32((a − zp_a)·(b − zp_b))·scale))), scale in float32. */
export function mulQs8Ref(
  a: Ints,
  aShape: readonly number[],
  b: Ints,
  bShape: readonly number[],
  outShape: readonly number[],
  zpA: number,
  zpB: number,
  zpOut: number,
  scale: number,
  qMin: number,
  qMax: number,
): Int8Array {
  const out = new Int8Array(numElements(outShape));
  forEachBroadcast(aShape, bShape, outShape, (i, ia, ib) => {
    const v = roundHalfEven(Math.fround((a[ia]! - zpA) * (b[ib]! - zpB) * scale)) + zpOut;
    out[i] = Math.min(qMax, Math.max(qMin, v));
  });
  return out;
}

function evaluateBinaryInt8(g: Graph, n: Node, ins: (Value | undefined)[], outs: TypeInfo[]): Float64Array[] {
  const a = ins[0]!,
    b = ins[1]!;
  const qa = tensorQuant(g, n.inputs[0]!, n),
    qb = tensorQuant(g, n.inputs[1]!, n),
    qo = tensorQuant(g, n.outputs[0]!, n);
  const [qMin, qMax] = nodeClamp(n, qo.scale, qo.zp);
  const shape = outs[0]!.shape;
  if (n.op === 'Mul') {
    const scale = mulQs8Scale(qa.scale, qb.scale, qo.scale, `node '${n.name}'`);
    return [
      Float64Array.from(mulQs8Ref(a.data, a.shape, b.data, b.shape, shape, qa.zp, qb.zp, qo.zp, scale, qMin, qMax)),
    ];
  }
  if (ortAdd(g, n)) {
    const k = addFp32Constants(qa.scale, qb.scale, qo.scale, qo.zp);
    const out = new Float64Array(numElements(shape));
    forEachBroadcast(a.shape, b.shape, shape, (i, ia, ib) => {
      out[i] = addFp32(a.data[ia]!, b.data[ib]!, qa.zp, qb.zp, qo.zp, k, qMin, qMax);
    });
    return [out];
  }
  const m = addQs8Multipliers(g, qa.scale, qb.scale, qo.scale, `node '${n.name}'`);
  if (n.op === 'Sub') m.multB = -m.multB;
  return [Float64Array.from(addQs8Ref(a.data, a.shape, b.data, b.shape, shape, qa.zp, qb.zp, qo.zp, m, qMin, qMax))];
}

function binary(
  f: (a: number, b: number) => number,
  schema: OpSchema,
  opts: { fused?: boolean; prelu?: boolean; int8?: Int8Rule; grad?: GradRule } = {},
): OpDef {
  const fused = opts.fused ?? false;
  return {
    schema,
    infer(n, ins, file) {
      const a = need(n, ins, 0, file, 'a'),
        b = need(n, ins, 1, file, 'b');
      const out = broadcastShapes(a.shape, b.shape);
      if (!out) fail(file, n, `shapes ${fmt(a.shape)} and ${fmt(b.shape)} do not broadcast`);
      if (opts.prelu && out.join() !== a.shape.join())
        fail(file, n, `slope ${fmt(b.shape)} must broadcast to x ${fmt(a.shape)}`);
      if (a.dtype !== b.dtype) fail(file, n, `input dtypes differ: ${a.dtype} and ${b.dtype}`);
      if (fused) checkActivation(n, file);
      else if (attrStr(n, 'activation', 'none') !== 'none')
        fail(file, n, `activation is only allowed on Add, Sub and Mul`);
      return [{ shape: out, dtype: a.dtype }];
    },
    evaluate(n, ins, outs) {
      const shape = outs[0]!.shape;
      const a = ins[0]!,
        b = ins[1]!;
      const out = new Float64Array(numElements(shape));
      forEachBroadcast(a.shape, b.shape, shape, (i, ia, ib) => {
        out[i] = f(a.data[ia]!, b.data[ib]!);
      });
      return [fused ? applyActivation(n, out) : out];
    },
    // inputs broadcast from the right: one whose last dim is the output's channel count runs over channels
    // (a computed one joins the group, a constant one is sliced with it); a last dim of 1 broadcasts
    channelFlow(_n, ins, outs) {
      const c = outs[0]!.shape.at(-1);
      const data: number[] = [],
        params: ChannelParam[] = [];
      ins.forEach((t, i) => {
        if (!t || t.shape.length === 0 || t.shape.at(-1) !== c) return;
        if (t.data) params.push({ input: i, axis: lastAxis(t) });
        else data.push(i);
      });
      return { kind: 'elementwise', data, params };
    },
    ...(opts.int8 ? { int8: opts.int8 } : {}),
    ...(opts.grad ? { grad: opts.grad } : {}),
  };
}

/** Add: dy through the fused activation, summed over each operand's broadcast axes. */
const addGrad: GradRule = (b, n, dy) => {
  const dz = gradThroughFused(b, n, dy);
  return n.inputs.map((i) => (b.wants(i) ? unbroadcastGrad(b, dz, b.shape(i)) : undefined));
};

/** Sub: dy (through the fused activation) and −dy, summed over each operand's broadcast axes. */
const subGrad: GradRule = (b, n, dy) => {
  const [x, y] = n.inputs as [string, string];
  const dz = gradThroughFused(b, n, dy);
  return [
    b.wants(x) ? unbroadcastGrad(b, dz, b.shape(x)) : undefined,
    b.wants(y)
      ? unbroadcastGrad(b, b.add('Mul', [dz, b.constant('minus-one', [1], Float32Array.of(-1))])[0]!, b.shape(y))
      : undefined,
  ];
};

/** Mul: dy (through the fused activation) times the other operand, summed over each operand's broadcast axes. */
const mulGrad: GradRule = (b, n, dy) => {
  const [x, y] = n.inputs as [string, string];
  const dz = gradThroughFused(b, n, dy);
  return [
    b.wants(x) ? unbroadcastGrad(b, b.add('Mul', [dz, y])[0]!, b.shape(x)) : undefined,
    b.wants(y) ? unbroadcastGrad(b, b.add('Mul', [dz, x])[0]!, b.shape(y)) : undefined,
  ];
};

export const add = binary(
  (a, b) => a + b,
  { inputs: [2, 2], outputs: 1, attrs: { ...FUSED_ACTIVATION }, check: checkClipRange },
  { fused: true, int8: { quantize: 'own-params', evaluate: evaluateBinaryInt8 }, grad: addGrad },
);
// Sub / Mul: never placed on int8 by calibration (no `quantize`); the pre-quantised path places them for .tflite files
export const sub = binary(
  (a, b) => a - b,
  { inputs: [2, 2], outputs: 1, attrs: { ...FUSED_ACTIVATION }, check: checkClipRange },
  { fused: true, int8: { evaluate: evaluateBinaryInt8 }, grad: subGrad },
);
export const mul = binary(
  (a, b) => a * b,
  { inputs: [2, 2], outputs: 1, attrs: { ...FUSED_ACTIVATION }, check: checkClipRange },
  { fused: true, int8: { evaluate: evaluateBinaryInt8 }, grad: mulGrad },
);
export const div = binary((a, b) => a / b, noAttrs([2, 2]));
export const max = binary((a, b) => Math.max(a, b), noAttrs([2, 2]));
export const min = binary((a, b) => Math.min(a, b), noAttrs([2, 2]));
export const prelu = binary((a, b) => (a < 0 ? a * b : a), noAttrs([2, 2]), { prelu: true });
