// qs8 GEMM, scalar tile 2 rows x 2 columns over the c2-packed weights of qs8-gemm-4x8c2-wasmsimd.ts: y[m, n] =
// requant(qc.bias[n] + Σk a[m,k]·w[n,k]) in i32, k ascending. The scalar build runs every column here; the simd
// build the last N mod 8 columns and K beyond the SIMD panel. Integer-exact (reference: assembly/reference/qs8.ts).
import { requantAt, qcAt } from './qs8-requant';

/** Columns [n0, N) of y, every row (n0 a multiple of 8). */
export function gemmQs8Scalar2x2<R>(
  a: usize,
  lda: i32,
  M: i32,
  K: i32,
  w: usize,
  qc: usize,
  qcStride: i32,
  N: i32,
  n0: i32,
  y: usize,
  ldy: i32,
  zp: i32,
  lo: i32,
  hi: i32,
): void {
  const Kp = (K + 1) & ~1;
  const N8 = N & ~7;
  // 2 rows × 2 columns per pass (a pair of columns never straddles a block: blocks start at multiples of 8),
  // so each loaded byte serves two products — about half the loads per MAC of one output at a time, which is
  // what an interpreter such as wasm3 pays for. A missing second row / column repeats the first (computed,
  // never stored).
  for (let n = n0; n < N; n += 2) {
    // column n: block base, its place in the block, and the block's bytes per k pair
    const base = w + <usize>(n & ~7) * <usize>Kp,
      stride = <usize>(n < N8 ? 16 : (N - N8) << 1);
    const col0 = base + <usize>((n & 7) << 1);
    const has1 = n + 1 < N;
    const col1 = has1 ? col0 + 2 : col0;
    const b0 = qcAt(qc, qcStride, 0, n),
      b1 = has1 ? qcAt(qc, qcStride, 0, n + 1) : 0;
    for (let m = 0; m < M; m += 2) {
      const r0 = a + <usize>m * <usize>lda,
        r1 = m + 1 < M ? r0 + <usize>lda : r0;
      let s00 = b0,
        s01 = b1,
        s10 = b0,
        s11 = b1,
        w0 = col0,
        w1 = col1,
        k = 0;
      for (; k + 2 <= K; k += 2) {
        const x0 = <i32>load<i8>(r0 + <usize>k),
          x1 = <i32>load<i8>(r0 + <usize>k, 1);
        const z0 = <i32>load<i8>(r1 + <usize>k),
          z1 = <i32>load<i8>(r1 + <usize>k, 1);
        const u0 = <i32>load<i8>(w0),
          u1 = <i32>load<i8>(w0, 1),
          v0 = <i32>load<i8>(w1),
          v1 = <i32>load<i8>(w1, 1);
        s00 += x0 * u0 + x1 * u1;
        s01 += x0 * v0 + x1 * v1;
        s10 += z0 * u0 + z1 * u1;
        s11 += z0 * v0 + z1 * v1;
        w0 += stride;
        w1 += stride;
      }
      if (k < K) {
        const x0 = <i32>load<i8>(r0 + <usize>k),
          z0 = <i32>load<i8>(r1 + <usize>k),
          u0 = <i32>load<i8>(w0),
          v0 = <i32>load<i8>(w1);
        s00 += x0 * u0;
        s01 += x0 * v0;
        s10 += z0 * u0;
        s11 += z0 * v0;
      }
      const y0 = y + <usize>m * <usize>ldy + <usize>n;
      store<i8>(y0, <i8>requantAt<R>(s00, qc, qcStride, n, zp, lo, hi));
      if (has1) store<i8>(y0, <i8>requantAt<R>(s01, qc, qcStride, n + 1, zp, lo, hi), 1);
      if (m + 1 < M) {
        store<i8>(y0 + <usize>ldy, <i8>requantAt<R>(s10, qc, qcStride, n, zp, lo, hi));
        if (has1) store<i8>(y0 + <usize>ldy, <i8>requantAt<R>(s11, qc, qcStride, n + 1, zp, lo, hi), 1);
      }
    }
  }
}
