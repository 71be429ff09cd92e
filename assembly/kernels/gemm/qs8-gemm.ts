// qs8 GEMM entry: y[m, n] = requant(qc.bias[n] + Σk a[m,k]·w[n,k]) over c2-packed weights (compiler/kernels/pack.ts).
// Which tile runs which columns is fixed per build: simd — whole 8-column blocks on qs8-gemm-4x8c2-wasmsimd.ts (its
// last M mod 4 rows, when that is 1 or 2, on qs8-gemm-1x16c2-wasmsimd.ts: pairs of blocks, an odd last one on
// qs8-gemm-1x8c2-wasmsimd.ts), the last N mod 8 columns (and K beyond its panel) on qs8-gemm-2x2-scalar.ts; relaxed —
// the same with, for the 8-column blocks, qs8-gemm-4x8c4-wasmrelaxed.ts where the engine's dot is exact on full-range
// operands (the host's probe, edgec_set_dot_mode; M mod 4 = 1: the last row on qs8-gemm-1x16c4-wasmrelaxed.ts), else
// qs8-gemm-2x8c4-wasmrelaxed.ts (an odd last row on the 1-row tiles); scalar —
// whole 8-column blocks on qs8-gemm-6x8c2-scalar.ts (K ≤ its limit, fixed-point requantisation only), the rest on the
// 2×2 tile.
// Every tile gives the same bytes (integer-exact; reference: assembly/reference/qs8.ts). R picks the requantisation at
// compile time (qs8-requant.ts requantAt): i64 fixed point (*_QS8), f32 XNNPACK's (*_QS8_FP32). A one-row Dense whose
// weights got an i16 copy at load comes here only in the relaxed build with a one-dot mode (qs8-steps.ts; else it
// runs qs8-gemm-1x16c2w16-wasmsimd.ts).
import { gemmQs8Simd4x8c2, QS8_SIMD_PANEL_K } from './qs8-gemm-4x8c2-wasmsimd';
import { gemmQs8Scalar2x2 } from './qs8-gemm-2x2-scalar';
import { gemmQs8Scalar6x8 } from './qs8-gemm-6x8c2-scalar';
import { gemmQs8Relaxed2x8c4, QS8_RELAXED_PANEL_K } from './qs8-gemm-2x8c4-wasmrelaxed';
import { gemmQs8Simd1x16c2 } from './qs8-gemm-1x16c2-wasmsimd';
import { gemmQs8Relaxed4x8c4, getDotMode } from './qs8-gemm-4x8c4-wasmrelaxed';
import { gemvQs8Relaxed1x16c4 } from './qs8-gemm-1x16c4-wasmrelaxed';

/** Bytes of the packed weights for N columns of K: the packer in compiler/kernels/pack.ts writes this. */
export function qs8GemmPackedSize(N: i32, K: i32): i32 {
  return N * ((K + 1) & ~1);
}

export function gemmQs8<R>(
  a: usize,
  lda: i32,
  M: i32,
  K: i32,
  w: usize,
  qc: usize,
  qcStride: i32,
  N: i32,
  y: usize,
  ldy: i32,
  zp: i32,
  lo: i32,
  hi: i32,
): void {
  let n0 = 0;
  // isInteger<R>: the 6×8 tile requantises in fixed point only (qc [3, N]); the fp32 ids take the 2×2 tile
  if (!ASC_FEATURE_SIMD && isInteger<R>()) {
    n0 = gemmQs8Scalar6x8(a, lda, M, K, w, qc, qcStride, N, y, ldy, zp, lo, hi);
    if (n0 == N) return;
  }
  if (ASC_FEATURE_RELAXED_SIMD && ((K + 3) & ~3) <= QS8_RELAXED_PANEL_K) {
    n0 = N & ~7;
    if (n0 > 0) {
      // one dot per 16 products where the engine's dot is exact on full-range operands (usdot/sdot), else the split
      // tile; a lone row past the last 4 (1-row tile) or 2 (split tile) on the 1-row tile, not as repeated rows
      const one = getDotMode() != 0;
      const mt = one ? ((M & 3) == 1 ? M - 1 : M) : M & ~1;
      const ar = a + <usize>mt * <usize>lda,
        yr = y + <usize>mt * <usize>ldy;
      if (mt > 0 && one) gemmQs8Relaxed4x8c4<R>(a, lda, mt, K, w, qc, qcStride, n0, y, ldy, zp, lo, hi);
      else if (mt > 0) gemmQs8Relaxed2x8c4<R>(a, lda, mt, K, w, qc, qcStride, n0, y, ldy, zp, lo, hi);
      if (mt < M && one) gemvQs8Relaxed1x16c4<R>(ar, lda, M - mt, K, w, qc, qcStride, n0, yr, ldy, zp, lo, hi);
      else if (mt < M) gemmQs8Simd1x16c2<R>(ar, lda, M - mt, K, w, qc, qcStride, n0, yr, ldy, zp, lo, hi);
    }
    if (n0 == N) return;
  } else if (ASC_FEATURE_SIMD && ((K + 1) & ~1) <= QS8_SIMD_PANEL_K) {
    n0 = N & ~7;
    if (n0 > 0) {
      // 1 or 2 rows past the last multiple of 4 on the 1-row tile: cheaper than a 4-row pass with repeated rows (3 are
      // not), and than a 1-row pass over rows4's widened blocks (7² layers: Node 1.01×, Chromium ~1.00×; bench-log)
      const mt = (M & 3) == 3 ? M : M & ~3;
      const ar = a + <usize>mt * <usize>lda,
        yr = y + <usize>mt * <usize>ldy;
      if (mt > 0) gemmQs8Simd4x8c2<R>(a, lda, mt, K, w, qc, qcStride, n0, y, ldy, zp, lo, hi);
      if (mt < M) gemmQs8Simd1x16c2<R>(ar, lda, M - mt, K, w, qc, qcStride, n0, yr, ldy, zp, lo, hi);
    }
    if (n0 == N) return;
  }
  gemmQs8Scalar2x2<R>(a, lda, M, K, w, qc, qcStride, N, n0, y, ldy, zp, lo, hi);
}
