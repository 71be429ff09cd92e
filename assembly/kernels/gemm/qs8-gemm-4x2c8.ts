// qs8 GEMM, tile 4 rows x 2 columns, c8 packing: y[m, n] = requant(qc.bias[n] + Σk a[m,k]·w[n,k]).
// a i8 [M, lda] (first K used), packed w i8 [⌈N/2⌉][Kp/8][2][8] (Kp = K rounded up to 8, zeros beyond
// K), qc i32 [3, qcStride] (bias with −zp_in·Σw folded in, multiplier, shift), y i8 rows of ldy bytes.
// SIMD: i16x8 widening loads + i32x4.dot_i16x8_s, 8 i32x4 accumulators; scalar build: same sums in i32.
// Integer-exact: identical bytes in both builds and in the reference twin (assembly/reference/qs8.ts).
import { requantQs8, requant4v, qcAt } from './qs8-requant';

/** Bytes of the packed weights for N columns of K: the packer in compiler/lower/int8.ts writes this. */
export function qs8GemmPackedSize(N: i32, K: i32): i32 { return ((N + 1) >> 1) * (((K + 7) & ~7) << 1); }

// @ts-ignore: decorator
@inline function hsum2(c0: v128, c1: v128): v128 {
  // lanes: [Σc0, Σc1, Σc0, Σc1]
  const x = i32x4.add(v128.shuffle<i32>(c0, c1, 0, 4, 2, 6), v128.shuffle<i32>(c0, c1, 1, 5, 3, 7));
  return i32x4.add(x, v128.shuffle<i32>(x, x, 2, 3, 0, 1));
}

/** [a, b, a, b] */
// @ts-ignore: decorator
@inline function pair(a: i32, b: i32): v128 {
  return i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(a), 1, b), 3, b);
}

// @ts-ignore: decorator
@inline function out2(y: usize, m: i32, M: i32, n: i32, two: bool, s0: i32, s1: i32, qc: usize, qs: i32, zp: i32, lo: i32, hi: i32): void {
  if (m >= M) return;
  store<i8>(y, <i8>requantQs8(<i64>(qcAt(qc, qs, 0, n) + s0), qcAt(qc, qs, 1, n), qcAt(qc, qs, 2, n), zp, lo, hi));
  if (two) store<i8>(y, <i8>requantQs8(<i64>(qcAt(qc, qs, 0, n + 1) + s1), qcAt(qc, qs, 1, n + 1), qcAt(qc, qs, 2, n + 1), zp, lo, hi), 1);
}

export function gemmQs8(a: usize, lda: i32, M: i32, K: i32, w: usize, qc: usize, qcStride: i32, N: i32,
                        y: usize, ldy: i32, zp: i32, lo: i32, hi: i32): void {
  const Kp = (K + 7) & ~7;
  const K8 = K & ~7;
  const blockBytes = <usize>(Kp << 1);
  if (ASC_FEATURE_SIMD) {
    for (let n = 0; n < N; n += 2) {
      const wb = w + <usize>(n >> 1) * blockBytes;
      const two = n + 1 < N;
      const n1 = two ? n + 1 : n;
      const bias = pair(qcAt(qc, qcStride, 0, n), qcAt(qc, qcStride, 0, n1));
      const mult = pair(qcAt(qc, qcStride, 1, n), qcAt(qc, qcStride, 1, n1));
      const s0 = qcAt(qc, qcStride, 2, n), s1 = qcAt(qc, qcStride, 2, n1);
      let tail01 = i32x4.splat(0), tail23 = i32x4.splat(0);
      for (let m = 0; m < M; m += 4) {
        // rows past M repeat the last row (read, never stored)
        const a0 = a + <usize>m * <usize>lda;
        const a1 = m + 1 < M ? a0 + <usize>lda : a0;
        const a2 = m + 2 < M ? a1 + <usize>lda : a1;
        const a3 = m + 3 < M ? a2 + <usize>lda : a2;
        let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c10 = i32x4.splat(0), c11 = i32x4.splat(0);
        let c20 = i32x4.splat(0), c21 = i32x4.splat(0), c30 = i32x4.splat(0), c31 = i32x4.splat(0);
        let wp = wb;
        for (let k = 0; k < K8; k += 8) {
          const w0 = v128.load8x8_s(wp), w1 = v128.load8x8_s(wp, 8);
          const x0 = v128.load8x8_s(a0 + <usize>k);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, w0)); c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, w1));
          const x1 = v128.load8x8_s(a1 + <usize>k);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, w0)); c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, w1));
          const x2 = v128.load8x8_s(a2 + <usize>k);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, w0)); c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, w1));
          const x3 = v128.load8x8_s(a3 + <usize>k);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, w0)); c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, w1));
          wp += 16;
        }
        const h0 = hsum2(c00, c01), h1 = hsum2(c10, c11), h2 = hsum2(c20, c21), h3 = hsum2(c30, c31);
        if (K8 < K) {
          // K tail (< 8) in scalars, added lane-wise: [row0 n, row0 n+1, row1 n, row1 n+1] etc.
          let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
          for (let k = K8; k < K; k++) {
            const t = <usize>(k - K8);
            const v0 = <i32>load<i8>(wp + t), v1 = <i32>load<i8>(wp + t, 8);
            const x0 = <i32>load<i8>(a0 + <usize>k), x1 = <i32>load<i8>(a1 + <usize>k);
            const x2 = <i32>load<i8>(a2 + <usize>k), x3 = <i32>load<i8>(a3 + <usize>k);
            s00 += x0 * v0; s01 += x0 * v1; s10 += x1 * v0; s11 += x1 * v1;
            s20 += x2 * v0; s21 += x2 * v1; s30 += x3 * v0; s31 += x3 * v1;
          }
          tail01 = i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(s00), 1, s01), 2, s10), 3, s11);
          tail23 = i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(s20), 1, s21), 2, s30), 3, s31);
        }
        // rows (m, m+1) and (m+2, m+3) x columns (n, n+1): bias, multipliers and shifts per lane
        const a01 = i32x4.add(i32x4.add(v128.shuffle<i32>(h0, h1, 0, 1, 4, 5), bias), tail01);
        const a23 = i32x4.add(i32x4.add(v128.shuffle<i32>(h2, h3, 0, 1, 4, 5), bias), tail23);
        const r = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(
          requant4v(a01, mult, s0, s1, s0, s1, zp, lo, hi), requant4v(a23, mult, s0, s1, s0, s1, zp, lo, hi)), i16x8.splat(0));
        const yb = y + <usize>m * <usize>ldy + <usize>n;
        if (two) {
          store<u16>(yb, i16x8.extract_lane_u(r, 0));
          if (m + 1 < M) store<u16>(yb + <usize>ldy, i16x8.extract_lane_u(r, 1));
          if (m + 2 < M) store<u16>(yb + <usize>(2 * ldy), i16x8.extract_lane_u(r, 2));
          if (m + 3 < M) store<u16>(yb + <usize>(3 * ldy), i16x8.extract_lane_u(r, 3));
        } else {
          store<i8>(yb, i8x16.extract_lane_s(r, 0));
          if (m + 1 < M) store<i8>(yb + <usize>ldy, i8x16.extract_lane_s(r, 2));
          if (m + 2 < M) store<i8>(yb + <usize>(2 * ldy), i8x16.extract_lane_s(r, 4));
          if (m + 3 < M) store<i8>(yb + <usize>(3 * ldy), i8x16.extract_lane_s(r, 6));
        }
      }
    }
  } else {
    // Scalar build: one row x 2 columns in locals, k ascending through the packed blocks.
    for (let n = 0; n < N; n += 2) {
      const wb = w + <usize>(n >> 1) * blockBytes;
      const two = n + 1 < N;
      for (let m = 0; m < M; m++) {
        const ar = a + <usize>m * <usize>lda;
        let s0 = 0, s1 = 0;
        let wp = wb;
        let k = 0;
        for (; k < K8; k += 8) {
          for (let t = 0; t < 8; t++) {
            const xv = <i32>load<i8>(ar + <usize>(k + t));
            s0 += xv * <i32>load<i8>(wp + <usize>t);
            s1 += xv * <i32>load<i8>(wp + <usize>t, 8);
          }
          wp += 16;
        }
        for (; k < K; k++) {
          const xv = <i32>load<i8>(ar + <usize>k), t = <usize>(k - K8);
          s0 += xv * <i32>load<i8>(wp + t);
          s1 += xv * <i32>load<i8>(wp + t, 8);
        }
        out2(y + <usize>m * <usize>ldy + <usize>n, m, M, n, two, s0, s1, qc, qcStride, zp, lo, hi);
      }
    }
  }
}
