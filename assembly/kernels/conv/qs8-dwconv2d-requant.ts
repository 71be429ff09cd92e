// The 8-lane requantisations of qs8-dwconv2d.ts's 3×3 SIMD loops (two i32x4 accumulators → i16x8, clamped to
// [q_min, q_max] or saturated by the caller's narrowing to i8), the per-group mode ids that pick them, and the i16
// interleaves that pair two taps per channel for `i32x4.dot_i16x8_s`. Integer-exact against requantQs8 (proofs at each).
import { requantFp32m, requantFp32n } from '../gemm/qs8-requant';

/** One shift s ∈ [32, 54] on all 8 channels: requantFold8. */
export const RQ_FOLD = 0;
/** One shift s = 31 or s ∈ [55, 62]: requantUni8. */
export const RQ_HIGH = 1;
/** Shifts differ: requant4 per 4 lanes. */
export const RQ_LANE = 2;
/** R = f32: requantFp32m per 4 lanes, the upper clamp after the narrowing to i8 (hiClamp8). */
export const RQ_FP32 = 3;
/** RQ_FP32 with q_max = 127 (picked in dw3x3Rows, never stored in DW_MODE): the narrowing's saturation is the upper
 * clamp, no i8x16.min_s. */
export const RQ_FP32U = 8;
/** R = f32, every |accumulator|·scale of the group ≤ 2^23 (dwModes, stored in DW_MODE); with [q_min, q_max] =
 * [−128, 127] (picked in dw3x3Rows) requantFp32n, no clamp but the narrowings' saturation. */
export const RQ_FP32N = 9;
/** RQ_FOLD with s ∈ [33, 54], stride 1 (picked in dw3x3Rows, never stored in DW_MODE): requantHigh8, then the clamp
 * to [q_min, q_max] (RQ_HIGH32C) or none when that is [−128, 127], the narrowing's own saturation (RQ_HIGH32). */
export const RQ_HIGH32 = 4;
export const RQ_HIGH32C = 5;
/** One shift s ∈ [32, 40], stride 1 or 2, |folded bias| small enough (dwModes): weights and DW_BIAS scaled by
 * 2^(40 − s), so every such group requantises with the constant shift 40 (requantE40): no clamp (RQ_E40) or the
 * clamp to [q_min, q_max] (RQ_E40C, picked in dw3x3Rows, never stored). */
export const RQ_E40 = 6;
export const RQ_E40C = 7;
/** The requantisation of dw3x3Run2 / dw3x3Run2s2 as a type, so each inlined instance has `rq` as a compile-time
 * constant: as an `@inline` argument it stayed a local, and binaryen folded the stride-2 calls' otherwise identical loops
 * into one that tested it per pixel (so were the clamped and unclamped RQ_HIGH32 ones). Not inlined (own functions)
 * they measured 5 % slower on the stride-1 steps (bench/profile.ts). */
export class RqFold {}
export class RqHigh32 {}
export class RqHigh32C {}
export class RqFp32 {}
export class RqFp32U {}
export class RqFp32N {}
export class RqE40 {}
export class RqE40C {}
// @ts-ignore: decorator
@inline export function rqOf<M>(): i32 {
  return idof<M>() == idof<RqE40>()
    ? RQ_E40
    : idof<M>() == idof<RqE40C>()
      ? RQ_E40C
      : idof<M>() == idof<RqHigh32>()
        ? RQ_HIGH32
        : idof<M>() == idof<RqHigh32C>()
          ? RQ_HIGH32C
          : idof<M>() == idof<RqFp32>()
            ? RQ_FP32
            : idof<M>() == idof<RqFp32U>()
              ? RQ_FP32U
              : idof<M>() == idof<RqFp32N>()
                ? RQ_FP32N
                : RQ_FOLD;
}

/** The 3×3 loops' requantisation of 8 lanes to i16: RQ_FOLD requantFold8 (k, sh), RQ_HIGH32(C) requantHigh8 (k = rz,
 * sh = s − 32), RQ_E40(C) requantE40 (k = rz), RQ_FP32 requantFp32m per 4 lanes (mlo / mhi the scales, k = vmin,
 * zv = vzp of fp32mMin / fp32mZp): lanes ≥ q_min but not clamped to q_max, which the caller does after narrowing to
 * i8 (hiClamp8: the saturating narrowings keep every lane above 127 above q_max). */
// @ts-ignore: decorator
@inline export function rq8(
  rq: i32,
  lo: v128,
  hi: v128,
  mlo: v128,
  mhi: v128,
  k: v128,
  sh: i32,
  zv: v128,
  hlo: v128,
  hhi: v128,
): v128 {
  if (rq == RQ_FP32N) return i16x8.narrow_i32x4_s(requantFp32n(lo, mlo, zv), requantFp32n(hi, mhi, zv));
  if (rq == RQ_FP32 || rq == RQ_FP32U)
    return i16x8.narrow_i32x4_s(requantFp32m(lo, mlo, k, zv), requantFp32m(hi, mhi, k, zv));
  if (rq == RQ_HIGH32 || rq == RQ_HIGH32C) return requantHigh8(lo, hi, mlo, mhi, k, sh, hlo, hhi, rq == RQ_HIGH32C);
  if (rq == RQ_E40 || rq == RQ_E40C) return requantE40(lo, hi, mlo, mhi, k, hlo, hhi, rq == RQ_E40C);
  return requantFold8(lo, hi, mlo, mhi, k, sh, hlo, hhi);
}

/** RQ_FP32's upper clamp of 16 narrowed i8 lanes (`hi8` = q_max in every i8 lane; a no-op at 127); other modes
 * clamp in rq8. */
// @ts-ignore: decorator
@inline export function hiClamp8(rq: i32, o: v128, hi8: v128): v128 {
  return rq == RQ_FP32 ? i8x16.min_s(o, hi8) : o;
}

/** Tap 8 of 8 channels, lanes 0–3 as i32: u·w8 as an exact i16 product, or for RQ_E40(C), whose weights times 2^e
 * may not fit such a product, as a dot of (u, u) against (w8, 0) (`v8l` = ilo(w8, 0)). */
// @ts-ignore: decorator
@inline export function tap8lo(rq: i32, u: v128, w8: v128, v8l: v128): v128 {
  if (rq == RQ_E40 || rq == RQ_E40C) return i32x4.dot_i16x8_s(ilo(u, u), v8l);
  return i32x4.extend_low_i16x8_s(i16x8.mul(u, w8));
}

/** tap8lo for lanes 4–7 (`v8h` = ihi(w8, 0)). */
// @ts-ignore: decorator
@inline export function tap8hi(rq: i32, u: v128, w8: v128, v8h: v128): v128 {
  if (rq == RQ_E40 || rq == RQ_E40C) return i32x4.dot_i16x8_s(ihi(u, u), v8h);
  return i32x4.extend_high_i16x8_s(i16x8.mul(u, w8));
}

/** Lanes 0–3 of two i16 vectors interleaved (a0 b0 a1 b1 …): one channel's two taps side by side for a dot. */
// @ts-ignore: decorator
@inline export function ilo(a: v128, b: v128): v128 {
  return v128.shuffle<i16>(a, b, 0, 8, 1, 9, 2, 10, 3, 11);
}

/** Lanes 4–7 of two i16 vectors interleaved. */
// @ts-ignore: decorator
@inline export function ihi(a: v128, b: v128): v128 {
  return v128.shuffle<i16>(a, b, 4, 12, 5, 13, 6, 14, 7, 15);
}

/** requant of 8 lanes sharing one shift s ∈ [32, 54], k = 2^(s−1) + zp·2^s, sh = s − 32: X = acc·mult + k is exact
 * in i64 (|acc·mult| < 2^62, 2^(s−1) ≤ 2^53, |zp·2^s| ≤ 2^61), and X >> s = ((acc·mult + 2^(s−1)) >> s) + zp (zp·2^s a
 * multiple of 2^s); X >> s = (X >> 32) >> sh (floors compose), X >> 32 is X's high half as i32; saturating to i16
 * then clamping there = clamping in i32 ([qMin, qMax] ⊂ i16). Same bits as requantQs8, one zero-point add fewer. */
// @ts-ignore: decorator
@inline export function requantFold8(
  lo: v128,
  hi: v128,
  mlo: v128,
  mhi: v128,
  k: v128,
  sh: i32,
  hlo: v128,
  hhi: v128,
): v128 {
  const a = i64x2.add(i64x2.extmul_low_i32x4_s(lo, mlo), k),
    b = i64x2.add(i64x2.extmul_high_i32x4_s(lo, mlo), k);
  const d = i64x2.add(i64x2.extmul_low_i32x4_s(hi, mhi), k),
    e = i64x2.add(i64x2.extmul_high_i32x4_s(hi, mhi), k);
  const u0 = i32x4.shr_s(v128.shuffle<i32>(a, b, 1, 3, 5, 7), sh),
    u1 = i32x4.shr_s(v128.shuffle<i32>(d, e, 1, 3, 5, 7), sh);
  return i16x8.min_s(i16x8.max_s(i16x8.narrow_i32x4_s(u0, u1), hlo), hhi);
}

/** requantFold8 for the accumulators times 2^e (e = 40 − s, RQ_E40): X = acc·2^e·mult + (2^(s−1) + zp·2^s)·2^e
 * and X >> 40 = X' >> s, X' the unscaled sum (floors compose); the constant is rz·2^32 (rz = 2^7 + zp·2^8), so X >> 40 =
 * ((acc·2^e·mult) >> 32 + rz) >> 8, the high halves as i32 (|·| < 2^30 + 2^16: no overflow). The shift by 8 runs after
 * the saturating narrowing to i16: for u ≥ 2^15 both give 127, for u < −2^15 both −128, in between the same; so
 * the i16 is the result clamped to [−128, 127], then clamped to [q_min, q_max] if `clamp` (a constant at each call).
 * A constant shift (one instruction; V8 emits four for a variable one) and no i64 adds. */
// @ts-ignore: decorator
@inline export function requantE40(
  lo: v128,
  hi: v128,
  mlo: v128,
  mhi: v128,
  rz: v128,
  hlo: v128,
  hhi: v128,
  clamp: bool,
): v128 {
  const a = i64x2.extmul_low_i32x4_s(lo, mlo),
    b = i64x2.extmul_high_i32x4_s(lo, mlo);
  const d = i64x2.extmul_low_i32x4_s(hi, mhi),
    e = i64x2.extmul_high_i32x4_s(hi, mhi);
  const u0 = i32x4.add(v128.shuffle<i32>(a, b, 1, 3, 5, 7), rz),
    u1 = i32x4.add(v128.shuffle<i32>(d, e, 1, 3, 5, 7), rz);
  const h = i16x8.shr_s(i16x8.narrow_i32x4_s(u0, u1), 8);
  return clamp ? i16x8.min_s(i16x8.max_s(h, hlo), hhi) : h;
}

/** requantFold8 for s ∈ [33, 54] with the rounding and zero point added in i32 (the GEMM's store8 fast path, proof
 * there): with acc·mult = H·2^32 + L, ((acc·mult + 2^(s−1)) >> s) + zp = (H + rz) >> t, rz = 2^(s−33) + zp·2^t,
 * t = s − 32 (|H| ≤ 2^30, rz < 2^30: no overflow); two i32 adds instead of four i64 ones. `clamp` (a constant at
 * every call): false when [q_min, q_max] = [−128, 127], which the narrowing to i8 saturates to anyway. */
// @ts-ignore: decorator
@inline export function requantHigh8(
  lo: v128,
  hi: v128,
  mlo: v128,
  mhi: v128,
  rz: v128,
  t: i32,
  hlo: v128,
  hhi: v128,
  clamp: bool,
): v128 {
  const a = i64x2.extmul_low_i32x4_s(lo, mlo),
    b = i64x2.extmul_high_i32x4_s(lo, mlo);
  const d = i64x2.extmul_low_i32x4_s(hi, mhi),
    e = i64x2.extmul_high_i32x4_s(hi, mhi);
  const u0 = i32x4.shr_s(i32x4.add(v128.shuffle<i32>(a, b, 1, 3, 5, 7), rz), t);
  const u1 = i32x4.shr_s(i32x4.add(v128.shuffle<i32>(d, e, 1, 3, 5, 7), rz), t);
  const h = i16x8.narrow_i32x4_s(u0, u1);
  return clamp ? i16x8.min_s(i16x8.max_s(h, hlo), hhi) : h;
}

/** requant4v's uniform-shift (≥ 31) path for 8 lanes: k = 2^(s−1) + 2^62, zo = zp − 2^(62−s) (wrapping, as there);
 * hlo / hhi the clamps as i16. X = acc·mult + k ∈ [0, 2^63): for s ≥ 32, X >> s = (X >> 32) >> (s − 32), the high
 * halves shifted as i32 (one shift per 4 lanes); saturating to i16 then clamping there = clamping in i32. */
// @ts-ignore: decorator
@inline export function requantUni8(
  lo: v128,
  hi: v128,
  mlo: v128,
  mhi: v128,
  k: v128,
  s: i32,
  zo: v128,
  hlo: v128,
  hhi: v128,
): v128 {
  const a = i64x2.add(i64x2.extmul_low_i32x4_s(lo, mlo), k),
    b = i64x2.add(i64x2.extmul_high_i32x4_s(lo, mlo), k);
  const d = i64x2.add(i64x2.extmul_low_i32x4_s(hi, mhi), k),
    e = i64x2.add(i64x2.extmul_high_i32x4_s(hi, mhi), k);
  let u0: v128, u1: v128;
  if (s >= 32) {
    u0 = i32x4.shr_u(v128.shuffle<i32>(a, b, 1, 3, 5, 7), s - 32);
    u1 = i32x4.shr_u(v128.shuffle<i32>(d, e, 1, 3, 5, 7), s - 32);
  } else {
    u0 = v128.shuffle<i32>(i64x2.shr_u(a, s), i64x2.shr_u(b, s), 0, 2, 4, 6);
    u1 = v128.shuffle<i32>(i64x2.shr_u(d, s), i64x2.shr_u(e, s), 0, 2, 4, 6);
  }
  return i16x8.min_s(i16x8.max_s(i16x8.narrow_i32x4_s(i32x4.add(u0, zo), i32x4.add(u1, zo)), hlo), hhi);
}
