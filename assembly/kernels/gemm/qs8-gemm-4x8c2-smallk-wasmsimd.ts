// The 4×8c2 SIMD GEMM tile (qs8-gemm-4x8c2-wasmsimd.ts: packing, k loop, epilogues) with its loops swapped, for small
// K: every 8-column block's weights widened to i16 once per call into `wide` ([N8/8][Kp/2][8][2], Kp·16 bytes per
// block; E40: times 2^(40−s), then the N8 biases times 2^(40−s) as i32), then per 4-row tile the rows widened
// ([Kp/2][4][2], Kp·8 bytes at rowBlock) and every column block run over them: the tile's rows and all the weights
// stay in L1 (rows4 streams a 128 KiB row block from L2 once per column block), and each output row is written whole,
// its 8-byte pieces in ascending order (rows4: 8 bytes per row per pass over the row block). Same accumulators, same
// epilogues (requantRows2): the same bytes; plus EpiFp32L, EpiFp32N's arithmetic in fewer operations where its lanes
// stay small (fp32Lows). Integer-exact (reference: assembly/reference/qs8.ts); simd build only.
import {
  epiOf,
  requantRows2,
  widen4,
  widenBlock,
  widenBlockScaled,
  wide,
  rowBlock,
  EPI_E40,
  EPI_E40_CLAMP,
  WIDE_BYTES,
  WIDE_MIN_TILES,
} from './qs8-gemm-4x8c2-wasmsimd';
import { fp32mMin, fp32mZp, qcAt, FP32_MAGIC } from './qs8-requant';

/** EpiFp32N (XNNPACK's fp32 requantisation, [q_min, q_max] = [−128, 127]) when fp32Lows holds: r = f32(acc)·scale +
 *  (1.5·2^23 + zp), whose bits' low 16 are the output before the i8 saturation; so no i32 subtraction (4 per 4×8 tile)
 *  and, per row, one `i32x4.shl` by 16 and one 16-bit blend instead of two subtractions and an i32 → i16 narrowing.
 *  For the blend to give the columns in order the block's weights are widened with its even columns in the low
 *  accumulator and the odd ones in the high (widenBlockEO), and its biases and scales alike. */
export class EpiFp32L {}

/** Bound on |f32(acc)·scale| + |zp| for EpiFp32L (below 2^15 with a margin for the float products' rounding). */
const FP32L_LIMIT: f64 = 32000;

/**
 * Whether rowsSmallK takes EpiFp32L (callers: the EpiFp32N conditions and smallK hold). Why it is exact, for v =
 * f32(f32(acc)·scale) (the reference's rounding) and an even zp: 1.5·2^23 + zp is an even integer below 2^24, and
 * |v + zp| < 2^22, so the float add rounds v + zp half to even, which for an even zp is round(v) + zp, and the sum's
 * bits are 0x4b400000 + round(v) + zp (requantFp32m's proof); the low 16 bits of 0x4b400000 are zero, so when
 * |round(v) + zp| < 2^15 the low 16 bits as i16 are round(v) + zp, and the i16 → i8 saturating narrowing is the clamp
 * to [−128, 127]. |acc| ≤ |folded bias| + K·2^14 (fp32Bounded's bound), so the check is per channel with the scale;
 * and `wide` must hold the weights, the reordered biases and scales (N8·4 bytes each) and the magic (16).
 */
export function fp32Lows(qc: usize, qs: i32, N8: i32, K: i32, zp: i32): bool {
  const Kp = (K + 1) & ~1;
  if (zp & 1 || N8 * ((Kp << 1) + 8) + 16 > WIDE_BYTES) return false;
  for (let n = 0; n < N8; n++) {
    const b = abs<f64>(<f64>qcAt(qc, qs, 0, n));
    const v = (b + <f64>K * 16384) * <f64>reinterpret<f32>(qcAt(qc, qs, 1, n));
    if (v + <f64>abs(zp) > FP32L_LIMIT) return false;
  }
  return true;
}

/** widenBlock with each 8-column block's columns reordered 0, 2, 4, 6 | 1, 3, 5, 7 (EpiFp32L). */
function widenBlockEO(q: usize, bytes: usize, d: usize): void {
  for (let o: usize = 0; o < bytes; o += 16) {
    const lo = v128.load8x8_s(q + o),
      hi = v128.load8x8_s(q + o, 8);
    v128.store(d + (o << 1), v128.shuffle<i32>(lo, hi, 0, 2, 4, 6));
    v128.store(d + (o << 1), v128.shuffle<i32>(lo, hi, 1, 3, 5, 7), 16);
  }
}

/** N8 columns' i32 (per 8: n..n+3 at s, n+4..n+7 at s + 16) stored at d reordered as widenBlockEO's. */
function reorderEO(s: usize, d: usize, N8: i32): void {
  for (let n: usize = 0; n < <usize>(N8 << 2); n += 32) {
    const a = v128.load(s + n),
      b = v128.load(s + n, 16);
    v128.store(d + n, v128.shuffle<i32>(a, b, 0, 2, 4, 6));
    v128.store(d + n, v128.shuffle<i32>(a, b, 1, 3, 5, 7), 16);
  }
}

/** One row's 8 columns under EpiFp32L as i16 (a: even columns, b: odd; mg: 1.5·2^23 + zp, 4 lanes). */
// @ts-ignore: decorator
@inline function lows8(a: v128, b: v128, m0: v128, m1: v128, mg: v128): v128 {
  const ra = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(a), m0), mg),
    rb = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(b), m1), mg);
  // the low 16 bits of ra's lanes and of rb's, alternately: i16x8 lane 2j from ra's lane j, 2j + 1 from rb's
  return i8x16.shuffle(ra, i32x4.shl(rb, 16), 0, 1, 18, 19, 4, 5, 22, 23, 8, 9, 26, 27, 12, 13, 30, 31);
}

/** Longest Kp taken: MobileNetV2's small-K 1×1 layers (K 16, 24, 32; in Chromium 0.95–0.975× rows4's time on three of
 *  the four). Its project 56² and 28² (K 144, 192) fit `wide` too but ran 1.01–1.07× slower this way. */
const SMALL_K_MAX = 32;

/** Whether rowsSmallK takes a call: Kp ≤ SMALL_K_MAX, every block's widened weights and (E40) the scaled biases fit
 *  `wide`, and at least WIDE_MIN_TILES tiles to repay widening all the weights (shiftE40's M > 8 too). */
// @ts-ignore: decorator
@inline export function smallK(M: i32, K: i32, N8: i32): bool {
  const Kp = (K + 1) & ~1;
  return Kp <= SMALL_K_MAX && M > (WIDE_MIN_TILES - 1) << 2 && N8 * ((Kp << 1) + 4) <= WIDE_BYTES;
}

/** Columns [0, N8) of y, every row, with epilogue E (rows4's arguments; smallK(M, K, N8) holds). */
export function rowsSmallK<R, E>(
  a: usize,
  lda: i32,
  M: i32,
  K: i32,
  w: usize,
  qc: usize,
  qcStride: i32,
  N8: i32,
  y: usize,
  ldy: i32,
  zp: i32,
  lo: i32,
  hi: i32,
  fs: i32,
): void {
  const epi = epiOf<E>();
  const lows = idof<E>() == idof<EpiFp32L>();
  const e40 = epi == EPI_E40 || epi == EPI_E40_CLAMP;
  const Kp = (K + 1) & ~1;
  const tileBytes = <usize>(Kp << 3);
  const t = fs - 32;
  // E40: fs = s ∈ [32, 40], weights and bias times 2^e (shiftE40), the total shift 40: rz = 2^7 + zp·2^8
  const e = 40 - fs;
  const rz = i32x4.splat(e40 ? 128 + zp * 256 : fs ? (1 << (fs - 33)) + zp * (1 << (fs - 32)) : 0);
  const lo8 = i8x16.splat(<i8>lo),
    hi8 = i8x16.splat(<i8>hi);
  const vmin = fp32mMin(zp, lo),
    vzp = fp32mZp(zp);
  const p0 = rowBlock;
  const wBytes = tileBytes * <usize>(N8 >> 3);
  // the biases the accumulators start at: qc's first row, or (E40) their scaled copies after the weights
  let bias = qc,
    sc = qc + ((<usize>qcStride) << 2);
  if (lows) {
    // the weights, biases and scales with each block's columns reordered, then the magic plus zp
    widenBlockEO(w, wBytes, wide);
    bias = wide + (wBytes << 1);
    sc = bias + ((<usize>N8) << 2);
    reorderEO(qc, bias, N8);
    reorderEO(qc + ((<usize>qcStride) << 2), sc, N8);
    v128.store(sc + ((<usize>N8) << 2), f32x4.splat(FP32_MAGIC + <f32>zp));
  } else if (e40) {
    widenBlockScaled(w, wBytes, wide, 1 << (e & 15));
    bias = wide + (wBytes << 1);
    for (let n: usize = 0; n < <usize>(N8 << 2); n += 16) v128.store(bias + n, i32x4.shl(v128.load(qc + n), e));
  } else widenBlock(w, wBytes, wide);
  const ldyu = <usize>ldy;
  const yl = y + <usize>(M - 1) * ldyu;
  for (let m = 0; m < M; m += 4) {
    widen4(a, lda, M, m, K, Kp, p0);
    // rows past M (repeats of the last row, so the same bytes) store over the last row
    const y0 = y + <usize>m * ldyu;
    const y1 = m + 1 < M ? y0 + ldyu : yl,
      y2 = m + 2 < M ? y0 + (ldyu << 1) : yl,
      y3 = m + 3 < M ? y0 + ldyu * 3 : yl;
    let q = wide;
    for (let n = 0; n < N8; n += 8) {
      const nb = (<usize>n) << 2;
      const d0 = v128.load(bias + nb),
        d1 = v128.load(bias + nb, 16);
      let c00 = d0,
        c01 = d1,
        c10 = d0,
        c11 = d1,
        c20 = d0,
        c21 = d1,
        c30 = d0,
        c31 = d1;
      let p = p0;
      const qe = q + (tileBytes << 1);
      while (q < qe) {
        const wl = v128.load(q),
          wh = v128.load(q, 16);
        const x0 = v128.load32_splat(p);
        c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
        c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
        const x1 = v128.load32_splat(p, 4);
        c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
        c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
        const x2 = v128.load32_splat(p, 8);
        c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
        c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
        const x3 = v128.load32_splat(p, 12);
        c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
        c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
        q += 32;
        p += 16;
      }
      const m0 = v128.load(sc + nb),
        m1 = v128.load(sc + nb, 16);
      let v01: v128, v23: v128;
      if (lows) {
        // the magic loaded in every tile: as a value V8 made it again in every tile (2 vector operations)
        const mg = v128.load(sc + ((<usize>N8) << 2));
        v01 = i8x16.narrow_i16x8_s(lows8(c00, c01, m0, m1, mg), lows8(c10, c11, m0, m1, mg));
        v23 = i8x16.narrow_i16x8_s(lows8(c20, c21, m0, m1, mg), lows8(c30, c31, m0, m1, mg));
      } else {
        // prettier-ignore
        v01 = requantRows2<R>(epi, c00, c01, c10, c11, qc, qcStride, n, m0, m1, rz, t, lo8, hi8, vmin, vzp, zp, lo, hi);
        // prettier-ignore
        v23 = requantRows2<R>(epi, c20, c21, c30, c31, qc, qcStride, n, m0, m1, rz, t, lo8, hi8, vmin, vzp, zp, lo, hi);
      }
      v128.store64_lane(y0 + <usize>n, v01, 0);
      v128.store64_lane(y1 + <usize>n, v01, 1);
      v128.store64_lane(y2 + <usize>n, v23, 0);
      v128.store64_lane(y3 + <usize>n, v23, 1);
    }
  }
}
