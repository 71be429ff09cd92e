// qs8 GEMM, tile 4 rows x 8 columns, c2 packing: y[m, n] = requant(qc.bias[n] + Σk a[m,k]·w[n,k]).
// a i8 [M, lda] (first K used), packed w i8: blocks of 8 columns [Kp/2][8][2] (Kp = K rounded up to 2; per k
// pair the 8 columns' two weights side by side, zero past K), the last N mod 8 columns as one block
// [Kp/2][N mod 8][2] (no padding: N·Kp bytes), qc i32 [3, qcStride] (bias with −zp_in·Σw
// folded in, multiplier, shift), y i8 rows of ldy bytes. SIMD: 4 rows of a widened once into an i16 panel,
// per k pair a 4-byte splat per row and i32x4.dot_i16x8_s into 4 columns; the accumulators are 4 consecutive
// columns, requantised as vectors. Scalar build: same sums in i32. Integer-exact (reference: assembly/reference/qs8.ts).
import { requantQs8, requant4, qcAt } from './qs8-requant';

/** Bytes of the packed weights for N columns of K: the packer in compiler/lower/int8.ts writes this. */
export function qs8GemmPackedSize(N: i32, K: i32): i32 { return N * ((K + 1) & ~1); }

/** The i16 panel: static for K ≤ 4096; a longer K takes one heap block, kept for later runs. */
const STATIC_K = 4096;
const staticPanel: usize = ASC_FEATURE_SIMD ? memory.data(4 * STATIC_K * 2, 16) : 0;
let panel: usize = staticPanel;
let panelK: i32 = STATIC_K;
/** Longest K the SIMD path takes (longer K runs the scalar loop). */
const PANEL_K = 1 << 20;

function ensurePanel(Kp: i32): void {
  if (Kp <= panelK) return;
  panel = (heap.alloc(<usize>(Kp << 3) + 16) + 15) & ~<usize>15;
  panelK = Kp;
}

// @ts-ignore: decorator
@inline function store4(y: usize, c: i32, N: i32, acc: v128, qc: usize, qs: i32, zp: i32, lo: i32, hi: i32): void {
  const v = i32x4.add(acc, v128.load(qc + (<usize>c << 2)));
  if (c + 4 <= N) {
    const q = requant4(v, qc, qs, c, zp, lo, hi);
    store<i32>(y + <usize>c, i32x4.extract_lane(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q, q), i16x8.splat(0)), 0));
  } else {
    // last partial group: the lanes past N would read constants beyond qc
    for (let l = 0; l < N - c; l++) {
      const s = l == 0 ? i32x4.extract_lane(acc, 0) : l == 1 ? i32x4.extract_lane(acc, 1) : i32x4.extract_lane(acc, 2);
      store<i8>(y + <usize>(c + l), <i8>requantQs8(<i64>(qcAt(qc, qs, 0, c + l) + s), qcAt(qc, qs, 1, c + l), qcAt(qc, qs, 2, c + l), zp, lo, hi));
    }
  }
}

export function gemmQs8(a: usize, lda: i32, M: i32, K: i32, w: usize, qc: usize, qcStride: i32, N: i32,
                        y: usize, ldy: i32, zp: i32, lo: i32, hi: i32): void {
  const Kp = (K + 1) & ~1;
  const blockBytes = <usize>(Kp << 3);
  const N8 = N & ~7;
  if (ASC_FEATURE_SIMD) {
    if (Kp <= PANEL_K) {
      ensurePanel(Kp);
      const rowBytes = <usize>(Kp << 1);
      const p0 = panel, p1 = panel + rowBytes, p2 = p1 + rowBytes, p3 = p2 + rowBytes;
      for (let m = 0; m < M; m += 4) {
        // widen rows m..m+3 (rows past M repeat the last row: computed, never stored)
        for (let r = 0; r < 4; r++) {
          const src = a + <usize>min(m + r, M - 1) * <usize>lda, dst = panel + <usize>r * rowBytes;
          let k = 0;
          for (; k + 8 <= K; k += 8) v128.store(dst + (<usize>k << 1), v128.load8x8_s(src + <usize>k));
          for (; k < Kp; k++) store<i16>(dst + (<usize>k << 1), k < K ? <i16>load<i8>(src + <usize>k) : 0);
        }
        const y0 = y + <usize>m * <usize>ldy;
        for (let n = 0; n < N8; n += 8) {
          let wp = w + <usize>(n >> 3) * blockBytes;
          let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c10 = i32x4.splat(0), c11 = i32x4.splat(0);
          let c20 = i32x4.splat(0), c21 = i32x4.splat(0), c30 = i32x4.splat(0), c31 = i32x4.splat(0);
          for (let o: usize = 0; o < rowBytes; o += 4) {
            const wv = v128.load(wp);
            const wl = i16x8.extend_low_i8x16_s(wv), wh = i16x8.extend_high_i8x16_s(wv);
            const x0 = v128.load32_splat(p0 + o);
            c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl)); c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
            const x1 = v128.load32_splat(p1 + o);
            c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl)); c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
            const x2 = v128.load32_splat(p2 + o);
            c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl)); c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
            const x3 = v128.load32_splat(p3 + o);
            c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl)); c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
            wp += 16;
          }
          store4(y0, n, N, c00, qc, qcStride, zp, lo, hi);
          if (n + 4 < N) store4(y0, n + 4, N, c01, qc, qcStride, zp, lo, hi);
          if (m + 1 < M) {
            const y1 = y0 + <usize>ldy;
            store4(y1, n, N, c10, qc, qcStride, zp, lo, hi);
            if (n + 4 < N) store4(y1, n + 4, N, c11, qc, qcStride, zp, lo, hi);
          }
          if (m + 2 < M) {
            const y2 = y0 + <usize>(2 * ldy);
            store4(y2, n, N, c20, qc, qcStride, zp, lo, hi);
            if (n + 4 < N) store4(y2, n + 4, N, c21, qc, qcStride, zp, lo, hi);
          }
          if (m + 3 < M) {
            const y3 = y0 + <usize>(3 * ldy);
            store4(y3, n, N, c30, qc, qcStride, zp, lo, hi);
            if (n + 4 < N) store4(y3, n + 4, N, c31, qc, qcStride, zp, lo, hi);
          }
        }
      }
      if (N8 == N) return;
    }
  }
  // Scalar build (and K beyond the panel): every column; the SIMD build runs only the last N mod 8 here.
  const n0 = ASC_FEATURE_SIMD && Kp <= PANEL_K ? N8 : 0;
  for (let n = n0; n < N; n++) {
    // column n: block base, its place in the block, and the block's bytes per k pair
    const base = w + <usize>(n & ~7) * <usize>Kp, stride = <usize>(n < N8 ? 16 : (N - N8) << 1);
    const col = base + <usize>((n & 7) << 1);
    for (let m = 0; m < M; m++) {
      const ar = a + <usize>m * <usize>lda;
      let s0 = 0, wp = col, k = 0;
      for (; k + 2 <= K; k += 2) {
        s0 += <i32>load<i8>(ar + <usize>k) * <i32>load<i8>(wp) + <i32>load<i8>(ar + <usize>k, 1) * <i32>load<i8>(wp, 1);
        wp += stride;
      }
      if (k < K) s0 += <i32>load<i8>(ar + <usize>k) * <i32>load<i8>(wp);
      store<i8>(y + <usize>m * <usize>ldy + <usize>n, <i8>requantQs8(<i64>(qcAt(qc, qcStride, 0, n) + s0), qcAt(qc, qcStride, 1, n), qcAt(qc, qcStride, 2, n), zp, lo, hi));
    }
  }
}
