// Quantisation parameters: per-tensor int8 activation params from a calibrated [min, max], per-output-
// channel symmetric int8 weights (scale = max|w| / 127, values in [−127, 127]) and int32 biases at
// s_in·s_w[c]. Scales are float32 values; rounding is half away from zero (docs/quantization.md).
import type { QuantParams } from '../ir/graph.ts';
import type { Range } from './observers.ts';
import { accumulatorFits } from '../ir/quant.ts';

const f32 = Math.fround;

/** Round half away from zero. */
export function roundHalfAway(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** q = clamp(round_half_away(x / s) + zp, −128, 127) in float32 math. */
export function quantizeValue(x: number, scale: number, zeroPoint: number): number {
  const q = roundHalfAway(f32(f32(x) / f32(scale))) + zeroPoint;
  return q < -128 ? -128 : q > 127 ? 127 : q;
}

/**
 * Per-tensor int8 params covering [min, max] (widened to contain 0 so that 0 is exact):
 * scale = (max − min) / 255, zero point = round(−128 − min / scale) in [−128, 127].
 * An all-zero range gets scale 1 (any scale represents 0 exactly).
 */
export function activationQuant(r: Range): QuantParams {
  const lo = Math.min(r.min, 0),
    hi = Math.max(r.max, 0);
  if (!(hi - lo > 0) || !Number.isFinite(hi - lo)) return { scale: [1], zeroPoint: [-128 - 0] };
  const scale = f32((hi - lo) / 255);
  const zp = Math.min(127, Math.max(-128, roundHalfAway(-128 - lo / scale)));
  return { scale: [scale], zeroPoint: [zp] };
}

/** The float range [(−128 − zp)·s, (127 − zp)·s] an int8 tensor with `q` can represent. */
export function representableRange(q: QuantParams): Range {
  return { min: (-128 - q.zeroPoint[0]!) * q.scale[0]!, max: (127 - q.zeroPoint[0]!) * q.scale[0]! };
}

export function sameQuant(a: QuantParams | undefined, b: QuantParams | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.axis === b.axis &&
    a.scale.length === b.scale.length &&
    a.scale.every((s, i) => f32(s) === f32(b.scale[i]!)) &&
    a.zeroPoint.every((z, i) => z === b.zeroPoint[i])
  );
}

export interface QuantizedWeights {
  data: Int8Array;
  quant: QuantParams;
}

/**
 * Symmetric per-channel int8 along axis 0 (channels = shape[0], row-major): scale[c] = max|w_c| / 127
 * (1 for an all-zero channel), q = clamp(round_half_away(w / scale[c]), −127, 127). `scales` overrides
 * the computed ones (pre-quantised models keep their own).
 */
export function quantizeWeights(w: ArrayLike<number>, channels: number, scales?: readonly number[]): QuantizedWeights {
  const inner = w.length / channels;
  const scale: number[] = [];
  const data = new Int8Array(w.length);
  for (let c = 0; c < channels; c++) {
    let s = scales?.[c];
    if (s === undefined) {
      let m = 0;
      for (let i = c * inner; i < (c + 1) * inner; i++) m = Math.max(m, Math.abs(f32(w[i]!)));
      s = m > 0 ? f32(m / 127) : 1;
    }
    scale.push(f32(s));
    for (let i = c * inner; i < (c + 1) * inner; i++) {
      const q = roundHalfAway(f32(f32(w[i]!) / f32(s)));
      data[i] = q < -127 ? -127 : q > 127 ? 127 : q;
    }
  }
  return { data, quant: { scale, zeroPoint: scale.map(() => 0), axis: 0 } };
}

/** int32 bias at scale s_in·s_w[c] (zero point 0), saturated to the int32 range. */
export function quantizeBias(
  b: ArrayLike<number> | undefined,
  channels: number,
  inScale: number,
  wScales: readonly number[],
): { data: Int32Array; quant: QuantParams } {
  const scale = wScales.map((s) => f32(f32(inScale) * f32(s)));
  const data = new Int32Array(channels);
  if (b) {
    for (let c = 0; c < channels; c++) {
      const q = roundHalfAway(f32(b[c]!) / scale[c]!);
      data[c] = Math.min(2147483647, Math.max(-2147483648, q));
    }
  }
  return { data, quant: { scale, zeroPoint: scale.map(() => 0), axis: 0 } };
}

/**
 * Dead and nearly dead channels (weights all, or all but, zero; bias not): max|w|/127 is so small that the
 * bias at s_in·s_w overflows int32. Such a channel's weight scale is raised to the floor where the bias fits
 * beside the worst-case sum, s_w ≥ |b| / (s_in·B) with B = 2^31 − 1 − 256·127·K (K taps), and its weights
 * requantised on it, as TFLite's quantiser adjusts weight scales for the bias; the channel then computes
 * its (near) constant exactly in integers. Channels that fit already are left untouched.
 */
export function fitBiasScales(
  w: ArrayLike<number>,
  qw: QuantizedWeights,
  b: ArrayLike<number> | undefined,
  inScale: number,
  inZp: number,
): QuantizedWeights {
  if (!b) return qw;
  const channels = qw.quant.scale.length,
    K = w.length / channels;
  const budget = 2 ** 31 - 1 - 256 * 127 * K;
  const sums = (c: number): [number, number] => {
    let s = 0,
      a = 0;
    for (let i = c * K; i < (c + 1) * K; i++) {
      s += qw.data[i]!;
      a += Math.abs(qw.data[i]!);
    }
    return [s, a];
  };
  const fits = (c: number) =>
    accumulatorFits(quantizeBias([b[c]!], 1, inScale, [qw.quant.scale[c]!]).data[0]!, inZp, ...sums(c));
  for (let c = 0; c < channels; c++) {
    if (fits(c) || budget <= 0) continue;
    let s = f32(Math.abs(f32(b[c]!)) / (f32(inScale) * budget));
    // f32 rounding of s and of the bias quotient can land a hair over the floor: step up until it fits
    for (let tries = 0; tries < 64 && s > qw.quant.scale[c]!; tries++) {
      const q = quantizeWeights(Array.prototype.slice.call(w, c * K, (c + 1) * K) as number[], 1, [s]);
      qw.data.set(q.data, c * K);
      qw.quant.scale[c] = q.quant.scale[0]!;
      if (fits(c)) break;
      s = f32(s * (1 + 2 ** -20));
    }
  }
  return qw;
}
