// qs8 GEMM entry: y[m, n] = requant(qc.bias[n] + Σk a[m,k]·w[n,k]) over c2-packed weights (compiler/kernels/pack.ts).
// Which tile runs which columns is fixed per build: simd — whole 8-column blocks on qs8-gemm-4x8c2-wasmsimd.ts, the
// last N mod 8 columns (and K beyond its panel) on qs8-gemm-2x2-scalar.ts; relaxed — the same with
// qs8-gemm-2x8c4-wasmrelaxed.ts for the 8-column blocks; scalar — whole 8-column blocks on qs8-gemm-3x4c2-scalar.ts
// (K ≤ its limit), the rest on the 2×2 tile.
// Every tile gives the same bytes (integer-exact; reference: assembly/reference/qs8.ts).
import { gemmQs8Simd4x8c2, QS8_SIMD_PANEL_K } from './qs8-gemm-4x8c2-wasmsimd';
import { gemmQs8Scalar2x2 } from './qs8-gemm-2x2-scalar';
import { gemmQs8Scalar3x4 } from './qs8-gemm-3x4c2-scalar';
import { gemmQs8Relaxed2x8c4, QS8_RELAXED_PANEL_K } from './qs8-gemm-2x8c4-wasmrelaxed';

/** Bytes of the packed weights for N columns of K: the packer in compiler/kernels/pack.ts writes this. */
export function qs8GemmPackedSize(N: i32, K: i32): i32 {
  return N * ((K + 1) & ~1);
}

export function gemmQs8(
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
  if (!ASC_FEATURE_SIMD) {
    n0 = gemmQs8Scalar3x4(a, lda, M, K, w, qc, qcStride, N, y, ldy, zp, lo, hi);
    if (n0 == N) return;
  }
  if (ASC_FEATURE_RELAXED_SIMD && ((K + 3) & ~3) <= QS8_RELAXED_PANEL_K) {
    n0 = N & ~7;
    if (n0 > 0) gemmQs8Relaxed2x8c4(a, lda, M, K, w, qc, qcStride, n0, y, ldy, zp, lo, hi);
    if (n0 == N) return;
  } else if (ASC_FEATURE_SIMD && ((K + 1) & ~1) <= QS8_SIMD_PANEL_K) {
    n0 = N & ~7;
    if (n0 > 0) gemmQs8Simd4x8c2(a, lda, M, K, w, qc, qcStride, n0, y, ldy, zp, lo, hi);
    if (n0 == N) return;
  }
  gemmQs8Scalar2x2(a, lda, M, K, w, qc, qcStride, N, n0, y, ldy, zp, lo, hi);
}
