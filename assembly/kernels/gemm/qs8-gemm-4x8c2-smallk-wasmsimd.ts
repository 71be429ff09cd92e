// The 4×8c2 SIMD GEMM tile (qs8-gemm-4x8c2-wasmsimd.ts: packing, k loop, epilogues) with its loops swapped, for small
// K: every 8-column block's weights widened to i16 once per call into `wide` ([N8/8][Kp/2][8][2], Kp·16 bytes per
// block; E40: times 2^(40−s), then the N8 biases times 2^(40−s) as i32), then per 4-row tile the rows widened
// ([Kp/2][4][2], Kp·8 bytes at rowBlock) and every column block run over them: the tile's rows and all the weights
// stay in L1 (rows4 streams a 128 KiB row block from L2 once per column block), and each output row is written whole,
// its 8-byte pieces in ascending order (rows4: 8 bytes per row per pass over the row block). Same accumulators, same
// epilogues (requantRows2): the same bytes. Integer-exact (reference: assembly/reference/qs8.ts); simd build only.
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
import { fp32mMin, fp32mZp } from './qs8-requant';

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
  let bias = qc;
  if (e40) {
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
      const mp = qc + ((<usize>qcStride) << 2) + nb;
      const m0 = v128.load(mp),
        m1 = v128.load(mp, 16);
      // prettier-ignore
      const v01 = requantRows2<R>(epi, c00, c01, c10, c11, qc, qcStride, n, m0, m1, rz, t, lo8, hi8, vmin, vzp, zp, lo, hi);
      // prettier-ignore
      const v23 = requantRows2<R>(epi, c20, c21, c30, c31, qc, qcStride, n, m0, m1, rz, t, lo8, hi8, vmin, vzp, zp, lo, hi);
      v128.store64_lane(y0 + <usize>n, v01, 0);
      v128.store64_lane(y1 + <usize>n, v01, 1);
      v128.store64_lane(y2 + <usize>n, v23, 0);
      v128.store64_lane(y3 + <usize>n, v23, 1);
    }
  }
}
