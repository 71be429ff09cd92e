// Fake quantisation for quantisation-aware training (docs/distillation.md), training graphs only. Each op
// computes exactly the float32 values edgec's int8 path represents (docs/quantization.md, the same
// formulas as compiler/quantize/params.ts), so the references below round through Math.fround.
//   FakeQuant (activations, per tensor): x, range [2] (min, max; NaN = not seen yet) → y, range' (in place).
//     momentum m > 0 tracks: range' = the batch's [min, max] when range is NaN, else range + m·(batch − range)
//     (f32); m = 0 is frozen (range' = range). From range': lo = min(min', 0), hi = max(max', 0),
//     s = f32((hi − lo)/255) (1 when hi − lo is not > 0), zp = clamp(round(−128 − lo/s), −128, 127);
//     y = f32(q − zp)·s, q = clamp(round(f32(x / s)) + zp, −128, 127) (NaN → zp). Round = half away from 0.
//     Gradient (straight-through): dx = dy where round(f32(x / s)) + zp lies in [−128, 127], else 0.
//   FakeQuantGrad: x, range', dy → dx (the rule above).
//   FakeQuantWeight (Conv2D / Dense weights, symmetric per output channel = axis 0): s_c = f32(max|w_c| / 127)
//     (1 for an all-zero channel), y = f32(q·s_c), q = clamp(round(f32(w / s_c)), −127, 127). Gradient: dy
//     (|w / s_c| ≤ 127 always, so the clamp never cuts).
//   FakeQuantBias: b [C], w [C, …], range' of the layer's input → f32(q·sb_c), sb_c = f32(s_in·s_c),
//     q = round(f32(b) / sb_c) saturated to int32 (compiler/quantize/params.ts quantizeBias). Gradient: dy to b.
import { numElements } from '../graph.ts';
import { attrNum, fail, fmt, need } from './helpers.ts';
import type { GradRule, OpDef } from './op-def.ts';

const f32 = Math.fround;
const roundHalfAway = (v: number) => (v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5));

/** The activation params of a tracked range [min, max] (compiler/quantize/params.ts activationQuant). */
export function fakeQuantParams(min: number, max: number): { scale: number; zp: number } {
  const lo = Math.min(min, 0),
    hi = Math.max(max, 0);
  if (!(hi - lo > 0) || !Number.isFinite(hi - lo)) return { scale: 1, zp: -128 };
  const scale = f32((hi - lo) / 255);
  return { scale, zp: Math.min(127, Math.max(-128, roundHalfAway(-128 - lo / scale))) };
}

/** The range after one step: tracked from the batch x, or unchanged when frozen (m = 0). */
export function trackRange(x: ArrayLike<number>, range: ArrayLike<number>, m: number): [number, number] {
  if (m === 0) return [range[0]!, range[1]!];
  let bmin = Infinity,
    bmax = -Infinity;
  for (let i = 0; i < x.length; i++) {
    bmin = Math.min(bmin, x[i]!);
    bmax = Math.max(bmax, x[i]!);
  }
  if (Number.isNaN(range[0]!) || Number.isNaN(range[1]!)) return [f32(bmin), f32(bmax)];
  const mf = f32(m);
  return [f32(range[0]! + f32(mf * f32(bmin - range[0]!))), f32(range[1]! + f32(mf * f32(bmax - range[1]!)))];
}

function inferRange(n: Parameters<OpDef['infer']>[0], ins: Parameters<OpDef['infer']>[1], file: string, what: string) {
  const x = need(n, ins, 0, file, what),
    r = need(n, ins, 1, file, 'range');
  if (x.dtype !== 'float32' || r.dtype !== 'float32')
    fail(file, n, `${what} and range must be float32, found ${x.dtype} and ${r.dtype}`);
  if (r.shape.join() !== '2') fail(file, n, `range must be [2] (min, max), found ${fmt(r.shape)}`);
  return x;
}

const fakeQuantGradRule: GradRule = (b, n, dy) => [b.add('FakeQuantGrad', [n.inputs[0]!, n.outputs[1]!, dy])[0]!];

export const fakeQuant: OpDef = {
  schema: { inputs: [2, 2], outputs: 2, attrs: { momentum: { kind: 'float', default: 0.01 } } },
  trainingOnly: true,
  infer(n, ins, file) {
    const x = inferRange(n, ins, file, 'x');
    const m = attrNum(n, 'momentum', 0.01);
    if (!(m >= 0 && m <= 1)) fail(file, n, `momentum must be in [0, 1], found ${m}`);
    return [
      { shape: [...x.shape], dtype: 'float32' },
      { shape: [2], dtype: 'float32' },
    ];
  },
  evaluate(n, ins) {
    const x = ins[0]!.data;
    const r = trackRange(x, ins[1]!.data, attrNum(n, 'momentum', 0.01));
    const { scale, zp } = fakeQuantParams(r[0], r[1]);
    const y = x.map((v) => {
      const t = f32(f32(v) / scale);
      const q = Number.isNaN(t) ? zp : Math.min(127, Math.max(-128, roundHalfAway(t) + zp));
      return f32(f32(q - zp) * scale);
    });
    return [y, Float64Array.from(r)];
  },
  grad: fakeQuantGradRule,
};

export const fakeQuantGrad: OpDef = {
  schema: { inputs: [3, 3], outputs: 1, attrs: {} },
  trainingOnly: true,
  infer(n, ins, file) {
    const x = inferRange(n, ins, file, 'x'),
      dy = need(n, ins, 2, file, 'dy');
    if (dy.shape.join() !== x.shape.join()) fail(file, n, `dy ${fmt(dy.shape)} does not match x ${fmt(x.shape)}`);
    return [{ shape: [...x.shape], dtype: 'float32' }];
  },
  evaluate(_n, ins) {
    const x = ins[0]!.data,
      dy = ins[2]!.data;
    const { scale, zp } = fakeQuantParams(ins[1]!.data[0]!, ins[1]!.data[1]!);
    return [
      dy.map((d, i) => {
        const q = roundHalfAway(f32(f32(x[i]!) / scale)) + zp;
        return q >= -128 && q <= 127 ? d : 0;
      }),
    ];
  },
};

/** Per-channel symmetric scales of w [C, …] (compiler/quantize/params.ts quantizeWeights). */
export function weightScales(w: ArrayLike<number>, channels: number): number[] {
  const inner = w.length / channels;
  return Array.from({ length: channels }, (_, c) => {
    let m = 0;
    for (let i = c * inner; i < (c + 1) * inner; i++) m = Math.max(m, Math.abs(f32(w[i]!)));
    return m > 0 ? f32(m / 127) : 1;
  });
}

export const fakeQuantBias: OpDef = {
  schema: { inputs: [3, 3], outputs: 1, attrs: {} },
  trainingOnly: true,
  infer(n, ins, file) {
    const b = need(n, ins, 0, file, 'bias'),
      w = need(n, ins, 1, file, 'w'),
      r = need(n, ins, 2, file, 'input range');
    if (b.dtype !== 'float32' || w.dtype !== 'float32' || r.dtype !== 'float32')
      fail(file, n, 'bias, weights and range must be float32');
    if (b.shape.length !== 1 || b.shape[0] !== w.shape[0] || r.shape.join() !== '2') {
      fail(
        file,
        n,
        `needs bias [C], weights [C, …] and a range [2], found ${fmt(b.shape)}, ${fmt(w.shape)}, ${fmt(r.shape)}`,
      );
    }
    return [{ shape: [...b.shape], dtype: 'float32' }];
  },
  evaluate(_n, ins) {
    const b = ins[0]!.data,
      w = ins[1]!,
      C = w.shape[0]!;
    const sIn = fakeQuantParams(ins[2]!.data[0]!, ins[2]!.data[1]!).scale;
    const sw = weightScales(w.data, C);
    return [
      b.map((v, c) => {
        const sb = f32(f32(sIn) * sw[c]!);
        return f32(Math.min(2147483647, Math.max(-2147483648, roundHalfAway(f32(v) / sb))) * sb);
      }),
    ];
  },
  grad: (_b, _n, dy) => [dy, undefined, undefined],
};

export const fakeQuantWeight: OpDef = {
  schema: { inputs: [1, 1], outputs: 1, attrs: {} },
  trainingOnly: true,
  infer(n, ins, file) {
    const w = need(n, ins, 0, file, 'w');
    if (w.dtype !== 'float32' || w.shape.length < 2)
      fail(file, n, `w must be float32 [channels, …], found ${w.dtype}${fmt(w.shape)}`);
    return [{ shape: [...w.shape], dtype: 'float32' }];
  },
  evaluate(_n, ins) {
    const w = ins[0]!,
      C = w.shape[0]!,
      inner = numElements(w.shape) / C;
    const s = weightScales(w.data, C);
    return [
      w.data.map((v, i) => {
        const q = Math.min(127, Math.max(-127, roundHalfAway(f32(f32(v) / s[Math.floor(i / inner)]!))));
        return f32(q * s[Math.floor(i / inner)]!);
      }),
    ];
  },
  grad: (_b, _n, dy) => [dy],
};
