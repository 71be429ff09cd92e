// MaxPool_QS8, AvgPool_QS8 (input and output share scale and zero point) and GlobalAvgPool_QS8 (qc i32 [2]:
// multiplier, shift of s_in / (s_out·H·W)), NHWC i8. Avg: acc = Σ in-bounds (x − zp); out = zp +
// round_half_away(acc / count); GAP: out = requant(Σ (x − zp_in)); GlobalAvgPool_QS8_FP32 (R = f32, qc [1]: the f32
// scale s_in / f32(s_out·H·W), TFLite's int8 MEAN): requantFp32 of the same sum. Exact in both builds (SIMD GAP and
// Avg: 8 channels per step, scalar rounding; SIMD Max: 16, then 8 channels per step).
import { StepParams } from '../../bundle/model';
import { requantQs8, requantFp32 } from '../gemm/qs8-requant';

/** acc / count rounded half away from zero (count > 0). */
// @ts-ignore: decorator
@inline export function divRoundQs8(acc: i32, count: i32): i32 {
  const h = count >> 1;
  return acc >= 0 ? (acc + h) / count : -((h - acc) / count);
}

export function poolQs8(
  isMax: bool,
  x: usize,
  y: usize,
  N: i32,
  H: i32,
  W: i32,
  C: i32,
  OH: i32,
  OW: i32,
  p: StepParams,
  zp: i32,
): void {
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const h0 = oh * p.sh - p.pt,
          w0 = ow * p.sw - p.pl;
        const ha = max(h0, 0),
          hb = min(h0 + p.kh, H),
          wa = max(w0, 0),
          wb = min(w0 + p.kw, W);
        let count = (hb - ha) * (wb - wa);
        if (p.countIncludePad)
          count = (min(h0 + p.kh, H + p.pb) - max(h0, -p.pt)) * (min(w0 + p.kw, W + p.pr) - max(w0, -p.pl));
        const yp = y + <usize>(((n * OH + oh) * OW + ow) * C);
        const xw = x + <usize>(((n * H + ha) * W + wa) * C);
        let c = 0;
        if (ASC_FEATURE_SIMD) c = poolSimd(isMax, xw, yp, W * C, C, hb - ha, wb - wa, count, zp);
        for (; c < C; c++) {
          let acc = isMax ? -128 : 0;
          for (let ih = ha; ih < hb; ih++)
            for (let iw = wa; iw < wb; iw++) {
              const v = <i32>load<i8>(x + <usize>(((n * H + ih) * W + iw) * C + c));
              if (isMax) {
                if (v > acc) acc = v;
              } else acc += v - zp;
            }
          store<i8>(yp + <usize>c, <i8>(isMax ? acc : clampI8(zp + divRoundQs8(acc, count))));
        }
      }
}

/**
 * The SIMD channels of one output pixel: the window's rows × cols pixels from xw (row stride rs bytes, pixel stride C),
 * channels [0, returned) to yp; the same sums (exact in i32) and the same per-channel rounding as the scalar loop.
 */
function poolSimd(isMax: bool, xw: usize, yp: usize, rs: i32, C: i32, rows: i32, cols: i32, count: i32, zp: i32): i32 {
  let c = 0;
  if (isMax) {
    for (; c + 16 <= C; c += 16) {
      let v = i8x16.splat(-128);
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < cols; j++) v = i8x16.max_s(v, v128.load(xw + <usize>(i * rs + j * C + c)));
      v128.store(yp + <usize>c, v);
    }
    for (; c + 8 <= C; c += 8) {
      let v = i8x16.splat(-128);
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < cols; j++) v = i8x16.max_s(v, v128.load64_zero(xw + <usize>(i * rs + j * C + c)));
      v128.store64_lane(yp + <usize>c, v, 0);
    }
    return c;
  }
  // Σ (x − zp) over the rows·cols in-bounds pixels = Σ x − rows·cols·zp
  const zs = i32x4.splat(rows * cols * zp);
  for (; c + 8 <= C; c += 8) {
    let lo = i32x4.splat(0),
      hi = i32x4.splat(0);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) {
        const v = v128.load8x8_s(xw + <usize>(i * rs + j * C + c));
        lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(v));
        hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(v));
      }
    lo = i32x4.sub(lo, zs);
    hi = i32x4.sub(hi, zs);
    const o = yp + <usize>c;
    store<i8>(o, <i8>clampI8(zp + divRoundQs8(i32x4.extract_lane(lo, 0), count)));
    store<i8>(o, <i8>clampI8(zp + divRoundQs8(i32x4.extract_lane(lo, 1), count)), 1);
    store<i8>(o, <i8>clampI8(zp + divRoundQs8(i32x4.extract_lane(lo, 2), count)), 2);
    store<i8>(o, <i8>clampI8(zp + divRoundQs8(i32x4.extract_lane(lo, 3), count)), 3);
    store<i8>(o, <i8>clampI8(zp + divRoundQs8(i32x4.extract_lane(hi, 0), count)), 4);
    store<i8>(o, <i8>clampI8(zp + divRoundQs8(i32x4.extract_lane(hi, 1), count)), 5);
    store<i8>(o, <i8>clampI8(zp + divRoundQs8(i32x4.extract_lane(hi, 2), count)), 6);
    store<i8>(o, <i8>clampI8(zp + divRoundQs8(i32x4.extract_lane(hi, 3), count)), 7);
  }
  return c;
}

// @ts-ignore: decorator
@inline function clampI8(v: i32): i32 {
  return v < -128 ? -128 : v > 127 ? 127 : v;
}

export function globalAvgPoolQs8<R>(
  x: usize,
  qc: usize,
  y: usize,
  N: i32,
  H: i32,
  W: i32,
  C: i32,
  zpIn: i32,
  zpOut: i32,
): void {
  const HW = H * W;
  for (let n = 0; n < N; n++) {
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      // 8 channels per step, pixel-contiguous loads; Σ x − HW·zp_in equals Σ (x − zp_in) (i32, mod 2^32 alike)
      const zs = i32x4.splat(HW * zpIn);
      for (; c + 8 <= C; c += 8) {
        let lo = i32x4.splat(0),
          hi = i32x4.splat(0);
        let xp = x + <usize>(n * HW * C + c);
        for (let i = 0; i < HW; i++) {
          const v = v128.load8x8_s(xp);
          lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(v));
          hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(v));
          xp += <usize>C;
        }
        lo = i32x4.sub(lo, zs);
        hi = i32x4.sub(hi, zs);
        const yp = y + <usize>(n * C + c);
        store<i8>(yp, <i8>gapOut<R>(i32x4.extract_lane(lo, 0), qc, zpOut));
        store<i8>(yp, <i8>gapOut<R>(i32x4.extract_lane(lo, 1), qc, zpOut), 1);
        store<i8>(yp, <i8>gapOut<R>(i32x4.extract_lane(lo, 2), qc, zpOut), 2);
        store<i8>(yp, <i8>gapOut<R>(i32x4.extract_lane(lo, 3), qc, zpOut), 3);
        store<i8>(yp, <i8>gapOut<R>(i32x4.extract_lane(hi, 0), qc, zpOut), 4);
        store<i8>(yp, <i8>gapOut<R>(i32x4.extract_lane(hi, 1), qc, zpOut), 5);
        store<i8>(yp, <i8>gapOut<R>(i32x4.extract_lane(hi, 2), qc, zpOut), 6);
        store<i8>(yp, <i8>gapOut<R>(i32x4.extract_lane(hi, 3), qc, zpOut), 7);
      }
    }
    for (; c < C; c++) {
      let acc = 0;
      for (let i = 0; i < HW; i++) acc += <i32>load<i8>(x + <usize>((n * HW + i) * C + c)) - zpIn;
      store<i8>(y + <usize>(n * C + c), <i8>gapOut<R>(acc, qc, zpOut));
    }
  }
}

/** GAP's requantisation of a channel sum: fixed point (R = i64, qc [mult, shift]) or XNNPACK's fp32 (R = f32, qc [scale]). */
// @ts-ignore: decorator
@inline export function gapOut<R>(acc: i32, qc: usize, zp: i32): i32 {
  if (isFloat<R>()) return requantFp32(acc, load<f32>(qc), zp, -128, 127);
  return requantQs8(<i64>acc, load<i32>(qc), load<i32>(qc, 4), zp, -128, 127);
}
