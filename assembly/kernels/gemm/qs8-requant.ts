// The one int8 requantisation of docs/quantization.md, shared by every qs8 kernel and its twin:
// out = clamp(zp + ((acc·mult + 2^(shift−1)) >> shift), lo, hi) in i64 (arithmetic shift = floor),
// plus quantise (f32 → i8, round half away from zero; ONNX's half to even for onnxruntime's arithmetic) and dequantise
// (i8 → f32). Integer-exact. And XNNPACK's fp32 requantisation for the *_QS8_FP32 variants (requantFp32): float32
// operations, each exactly rounded, in a fixed order.

// @ts-ignore: decorator
@inline export function requantQs8(acc: i64, mult: i32, shift: i32, zp: i32, lo: i32, hi: i32): i32 {
  let v = ((acc * <i64>mult + (<i64>1 << <i64>(shift - 1))) >> <i64>shift) + <i64>zp;
  if (v < <i64>lo) v = <i64>lo;
  if (v > <i64>hi) v = <i64>hi;
  return <i32>v;
}

/** round(x / scale) half away from zero, + zp, saturated to [−128, 127]; NaN → zp. All f32. */
// @ts-ignore: decorator
@inline export function quantizeQs8(x: f32, scale: f32, zp: i32): i32 {
  const t: f32 = x / scale;
  if (t != t) return zp;
  let r = Mathf.trunc(t);
  const d: f32 = t - r;
  if (d >= 0.5) r += 1;
  else if (d <= -0.5) r -= 1;
  let v: f32 = r + <f32>zp;
  if (v < -128) v = -128;
  if (v > 127) v = 127;
  return <i32>v;
}

/**
 * ONNX QuantizeLinear as onnxruntime runs it (MLAS quantize.cpp: nearbyintf(x / scale) + zp, saturated): round(x / scale)
 * half to even, + zp, saturated to [−128, 127]; NaN → zp (ONNX leaves NaN undefined; docs/quantization.md). All f32:
 * ±inf saturate, and an integer-valued r plus zp is exact wherever it is not far beyond the clamp.
 */
// @ts-ignore: decorator
@inline export function quantizeQs8Rne(x: f32, scale: f32, zp: i32): i32 {
  const t: f32 = x / scale;
  if (t != t) return zp;
  let v: f32 = nearest<f32>(t) + <f32>zp;
  if (v < -128) v = -128;
  if (v > 127) v = 127;
  return <i32>v;
}

// @ts-ignore: decorator
@inline export function dequantizeQs8(q: i32, scale: f32, zp: i32): f32 {
  return <f32>(q - zp) * scale;
}

/** Per-channel constants `qc` [3, stride] (I32): row 0 bias, row 1 multiplier, row 2 shift. */
// @ts-ignore: decorator
@inline export function qcAt(qc: usize, stride: i32, row: i32, n: i32): i32 {
  return load<i32>(qc + (<usize>(row * stride + n) << 2));
}

/**
 * SIMD requantisation of 4 accumulators (channels c..c+3 of qc [3, stride]): the same i64 formula per lane,
 * per-lane shifts by two uniform shifts and a lane select, saturated to i32 before the zero point.
 */
// @ts-ignore: decorator
@inline export function requant4(acc: v128, qc: usize, stride: i32, c: i32, zp: i32, lo: i32, hi: i32): v128 {
  const sp = qc + (<usize>(2 * stride + c) << 2);
  return requant4v(acc, v128.load(qc + (<usize>(stride + c) << 2)), load<i32>(sp), load<i32>(sp, 4), load<i32>(sp, 8), load<i32>(sp, 12), zp, lo, hi);
}

/** requant4 with the 4 multipliers as a vector and the 4 shifts as scalars (any channel per lane). */
// @ts-ignore: decorator
@inline export function requant4v(acc: v128, mult: v128, s0: i32, s1: i32, s2: i32, s3: i32, zp: i32, lo: i32, hi: i32): v128 {
  let a = i64x2.extmul_low_i32x4_s(acc, mult), b = i64x2.extmul_high_i32x4_s(acc, mult);
  if (s0 == s1 && s0 == s2 && s0 == s3 && s0 >= 31) {
    // One shift ≥ 31: |acc·mult + 2^(s−1)| < 2^62, so offsetting by 2^62 makes a logical shift exact, and
    // the shifted value fits i32 (low halves, wrapping subtraction of 2^(62−s) is then exact).
    const k = i64x2.splat((<i64>1 << <i64>(s0 - 1)) + (<i64>1 << 62));
    a = i64x2.shr_u(i64x2.add(a, k), s0);
    b = i64x2.shr_u(i64x2.add(b, k), s0);
    const off = <i32>(<i64>1 << <i64>(62 - s0));
    const u = i32x4.sub(v128.shuffle<i32>(a, b, 0, 2, 4, 6), i32x4.splat(off));
    return i32x4.min_s(i32x4.max_s(i32x4.add(u, i32x4.splat(zp)), i32x4.splat(lo)), i32x4.splat(hi));
  }
  a = i64x2.add(a, i64x2.replace_lane(i64x2.splat(<i64>1 << <i64>(s0 - 1)), 1, <i64>1 << <i64>(s1 - 1)));
  b = i64x2.add(b, i64x2.replace_lane(i64x2.splat(<i64>1 << <i64>(s2 - 1)), 1, <i64>1 << <i64>(s3 - 1)));
  a = v128.shuffle<i64>(i64x2.shr_s(a, s0), i64x2.shr_s(a, s1), 0, 3);
  b = v128.shuffle<i64>(i64x2.shr_s(b, s2), i64x2.shr_s(b, s3), 0, 3);
  // saturate to ±2^20 (beyond it every zero point and clamp gives the same int8) so the low halves are exact
  const big = i64x2.splat(1 << 20), small = i64x2.splat(-(1 << 20));
  a = v128.bitselect(big, a, i64x2.gt_s(a, big)); a = v128.bitselect(small, a, i64x2.lt_s(a, small));
  b = v128.bitselect(big, b, i64x2.gt_s(b, big)); b = v128.bitselect(small, b, i64x2.lt_s(b, small));
  const v = i32x4.add(v128.shuffle<i32>(a, b, 0, 2, 4, 6), i32x4.splat(zp));
  return i32x4.min_s(i32x4.max_s(v, i32x4.splat(lo)), i32x4.splat(hi));
}

/**
 * XNNPACK's fp32 requantisation (the *_QS8_FP32 kernels): clamp(round_half_even(f32(acc)·scale) + zp, lo, hi). The
 * clamp comes before the rounding in float32 (bounds are integers, so it commutes with it), so the conversion is exact.
 */
// @ts-ignore: decorator
@inline export function requantFp32(acc: i32, scale: f32, zp: i32, lo: i32, hi: i32): i32 {
  let v = nearest<f32>(<f32>acc * scale);
  v = max<f32>(v, <f32>(lo - zp));
  v = min<f32>(v, <f32>(hi - zp));
  return <i32>v + zp;
}

/** requantFp32 on 4 lanes: 4 scales, the same float32 operations per lane. */
// @ts-ignore: decorator
@inline export function requantFp32x4(acc: v128, scale: v128, zp: i32, lo: i32, hi: i32): v128 {
  return requantFp32v(acc, scale, f32x4.splat(<f32>(lo - zp)), f32x4.splat(<f32>(hi - zp)), i32x4.splat(zp));
}

/** 1.5·2^23: f32 values in [2^23, 2^24) are spaced 1 apart, so adding it to |v| ≤ 2^22 rounds v half to even. */
export const FP32_MAGIC: f32 = 12582912.0;
export const FP32_MAGIC_BITS: i32 = 0x4b400000;

/**
 * requantFp32x4 with the bounds (lo − zp, hi − zp as f32) and zp as vectors, for loops that hold them. Same bits as
 * requantFp32 per lane, in 6 cheap ops: the load checks (qs8-checks.ts) make every scale positive and finite, so
 * f32(acc)·scale is never NaN and pmax / pmin (one instruction each, unlike NaN-aware max / min) clamp it like max /
 * min (only a zero's sign may differ, which the rounding drops); clamping to integer bounds commutes with rounding;
 * then the magic add rounds half to even exactly (|v| ≤ 2^22: int8 bounds less a zero point) and the bits minus the magic's are the integer.
 */
// @ts-ignore: decorator
@inline export function requantFp32v(acc: v128, scale: v128, fmin: v128, fmax: v128, zv: v128): v128 {
  const v = f32x4.pmin(f32x4.pmax(f32x4.mul(f32x4.convert_i32x4_s(acc), scale), fmin), fmax);
  const r = f32x4.add(v, f32x4.splat(FP32_MAGIC));
  return i32x4.add(i32x4.sub(r, i32x4.splat(FP32_MAGIC_BITS)), zv);
}

/**
 * requantFp32v without the upper clamp, in 5 ops (XNNPACK's wasm form): r = f32(acc)·scale + 1.5·2^23, its bits
 * raised to at least vmin = bits(1.5·2^23 + (lo − zp)) as i32, minus vzp = bits(1.5·2^23) − zp. Lanes ≥ lo, and equal to
 * requantFp32's whenever that is below hi; above it they are larger than hi (up to 2^30), so callers narrow with
 * saturation and take i8x16.min_s with hi (a no-op at 127). Why it is exact:
 * - |v| ≤ 2^22 (v = f32(f32(acc)·scale)): v + 1.5·2^23 lies in [2^23, 2^24), where f32 values are the integers, so
 *   the add rounds v half to even (1.5·2^23 is even: the sum's parity is v's rounding's), and the bits less the magic's
 *   are that integer; positive floats order like their bits, so the i32 max is the clamp to lo − zp;
 * - v > 2^22: the sum is a float ≥ 1.5·2^23 + 2^22 whose bits exceed the magic's by more than 2^21 − 255: far above hi;
 * - v < −2^22: the sum is below 2^23 (bits below vmin, a negative sum's bits negative as i32): clamped to lo.
 * The load checks make every scale positive and finite, so v is never NaN (an infinite v falls in the cases above).
 */
// @ts-ignore: decorator
@inline export function requantFp32m(acc: v128, scale: v128, vmin: v128, vzp: v128): v128 {
  const r = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(acc), scale), f32x4.splat(FP32_MAGIC));
  return i32x4.sub(i32x4.max_s(r, vmin), vzp);
}

/** The bound on every |acc|·scale under which requantFp32n is exact (its proof), checked by its callers. */
export const FP32N_LIMIT: f64 = 8388608;

/** requantFp32m without the lower clamp, for [q_min, q_max] = [−128, 127] and |acc·scale| ≤ FP32N_LIMIT = 2^23 (the depthwise's RQ_FP32N,
 * the 4×8 tile's EpiFp32N):
 * bits(f32(acc)·scale + 1.5·2^23) − vzp, narrowed with saturation to i8 by the caller. v = f32(f32(acc)·scale) ≥ −2^23
 * (a few ulps past it at most), so the sum is ≥ 0 and its bits, as i32, order like it: |v| ≤ 2^22 gives the rounded
 * v + zp (requantFp32m's proof); v > 2^22 lanes more than 2^21 − 255 (→ 127), v < −2^22 sums below 2^23, whose bits
 * are below the magic's by more than 2^22 (→ −128). Without the bound a sum below 0 has negative bits, and the
 * subtraction could wrap to a large positive lane: requantFp32m's i32 max is what guards that. */
// @ts-ignore: decorator
@inline export function requantFp32n(acc: v128, scale: v128, vzp: v128): v128 {
  return i32x4.sub(f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(acc), scale), f32x4.splat(FP32_MAGIC)), vzp);
}

/** requantFp32m's two constants for zero point zp and lower bound lo: vmin, then vzp. */
// @ts-ignore: decorator
@inline export function fp32mMin(zp: i32, lo: i32): v128 {
  return i32x4.splat(FP32_MAGIC_BITS + lo - zp);
}
// @ts-ignore: decorator
@inline export function fp32mZp(zp: i32): v128 {
  return i32x4.splat(FP32_MAGIC_BITS - zp);
}

/**
 * Channel n's requantisation for a kernel variant chosen at compile time by R, the type the arithmetic runs in: i64
 * for edgec's fixed point (qc rows: bias, multiplier, shift), f32 for XNNPACK's (qc rows: bias, f32 scale bits).
 */
// @ts-ignore: decorator
@inline export function requantAt<R>(acc: i32, qc: usize, stride: i32, n: i32, zp: i32, lo: i32, hi: i32): i32 {
  if (isFloat<R>()) return requantFp32(acc, reinterpret<f32>(qcAt(qc, stride, 1, n)), zp, lo, hi);
  return requantQs8(<i64>acc, qcAt(qc, stride, 1, n), qcAt(qc, stride, 2, n), zp, lo, hi);
}

/** requantAt of channels c..c+3 on 4 lanes. */
// @ts-ignore: decorator
@inline export function requant4At<R>(acc: v128, qc: usize, stride: i32, c: i32, zp: i32, lo: i32, hi: i32): v128 {
  if (isFloat<R>()) return requantFp32x4(acc, v128.load(qc + (<usize>(stride + c) << 2)), zp, lo, hi);
  return requant4(acc, qc, stride, c, zp, lo, hi);
}
