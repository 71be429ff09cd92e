// qs8 GEMM, SIMD tile 1 row x 8 columns, c2 packing: the odd last 8-column block of the one-row GEMV
// (qs8-gemm-1x16c2-wasmsimd.ts runs the pairs; qs8-gemm.ts: Dense on one sample, the 4×8 tile's last M mod 4 rows when
// that is 1 or 2, the relaxed 2×8 tile's odd last row). Same contract, weights (blocks of 8 columns [Kp/2][8][2], compiler/kernels/pack.ts)
// and bytes as qs8-gemm-4x8c2-wasmsimd.ts: the row widened once to an i16 panel [Kp/2][2] (zero past K), per k pair
// a 4-byte splat × 8 weights widened by two 8-byte loads, `i32x4.dot_i16x8_s` into 2 accumulators of 4 consecutive
// columns started at the bias, requantised by the 4×8 tile's store8. Integer-exact (reference:
// assembly/reference/qs8.ts); compiled into the simd and relaxed builds.
import { i16Panel, store8, uniformShift } from './qs8-gemm-4x8c2-wasmsimd';

/** Columns [0, N8) of y (N8 a multiple of 8), every row. */
export function gemmQs8Simd1x8c2<R>(
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
): void {
  const Kp = (K + 1) & ~1;
  const blockBytes = <usize>(Kp << 3);
  // the one-row tiles' i16 panel (qs8-gemm-4x8c2-wasmsimd.ts i16Panel), Kp·2 bytes
  const panel = i16Panel(Kp);
  const fs = uniformShift<R>(qc, qcStride, N8);
  const rz = i32x4.splat(fs ? (1 << (fs - 33)) + zp * (1 << (fs - 32)) : 0);
  const lov = i16x8.splat(<i16>lo),
    hiv = i16x8.splat(<i16>hi);
  const pe = panel + <usize>(Kp << 1);
  for (let m = 0; m < M; m++) {
    const r = a + <usize>m * <usize>lda;
    let k = 0;
    for (; k + 8 <= K; k += 8) v128.store(panel + ((<usize>k) << 1), v128.load8x8_s(r + <usize>k));
    for (; k < Kp; k++) store<i16>(panel + ((<usize>k) << 1), k < K ? <i16>load<i8>(r + <usize>k) : 0);
    const y0 = y + <usize>m * <usize>ldy;
    for (let n = 0; n < N8; n += 8) {
      let c0 = v128.load(qc + ((<usize>n) << 2)),
        c1 = v128.load(qc + ((<usize>n) << 2), 16);
      let q = w + <usize>(n >> 3) * blockBytes,
        p = panel;
      while (p < pe) {
        const x = v128.load32_splat(p);
        c0 = i32x4.add(c0, i32x4.dot_i16x8_s(x, v128.load8x8_s(q)));
        c1 = i32x4.add(c1, i32x4.dot_i16x8_s(x, v128.load8x8_s(q, 8)));
        q += 16;
        p += 4;
      }
      const mp = qc + ((<usize>(qcStride + n)) << 2);
      store8<R>(y0, n, c0, c1, qc, qcStride, fs, v128.load(mp), v128.load(mp, 16), rz, lov, hiv, zp, lo, hi);
    }
  }
}
