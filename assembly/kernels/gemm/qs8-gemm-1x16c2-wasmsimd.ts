// qs8 GEMM, SIMD tile 1 row x 16 columns, c2 packing: the one-row GEMV (Dense on one sample, the last M mod 4 rows of
// the 4×8 tile when that is 1 or 2, the relaxed 2×8 tile's odd last row; qs8-gemm.ts). Same contract, weights (blocks
// of 8 columns [Kp/2][8][2], compiler/kernels/pack.ts) and bytes as qs8-gemm-1x8c2-wasmsimd.ts, which it runs for an
// odd last 8-column block: two blocks side by side (4 accumulators of 4 consecutive columns, started at the bias) and
// two k pairs per iteration, so each 4-byte splat of the i16 row panel [Kp/2][2] feeds 4 dot products and the loop
// overhead is paid once per 64 MACs (1.3× the 1×8 tile on a 640→128 Dense, bench by hand). Sums are exact i32 in any
// order, so the bytes are the 1×8 tile's. Integer-exact (reference: assembly/reference/qs8.ts); simd and relaxed builds.
import { i16Panel, keepTouched, store8, uniformShift } from './qs8-gemm-4x8c2-wasmsimd';
import { gemmQs8Simd1x8c2 } from './qs8-gemm-1x8c2-wasmsimd';

/** Columns [0, N8) of y (N8 a multiple of 8), every row. */
export function gemmQs8Simd1x16c2<R>(
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
  const N16 = N8 & ~15;
  if (N16 > 0) {
    const panel = i16Panel(Kp);
    const fs = uniformShift<R>(qc, qcStride, N16);
    const rz = i32x4.splat(fs ? (1 << (fs - 33)) + zp * (1 << (fs - 32)) : 0);
    const lov = i16x8.splat(<i16>lo),
      hiv = i16x8.splat(<i16>hi);
    const pe = panel + <usize>(Kp << 1);
    // the last whole pair of k pairs: one k pair may remain after it
    const pe2 = panel + <usize>((Kp & ~3) << 1);
    for (let m = 0; m < M; m++) {
      const r = a + <usize>m * <usize>lda;
      let k = 0;
      for (; k + 8 <= K; k += 8) v128.store(panel + ((<usize>k) << 1), v128.load8x8_s(r + <usize>k));
      for (; k < Kp; k++) store<i16>(panel + ((<usize>k) << 1), k < K ? <i16>load<i8>(r + <usize>k) : 0);
      const y0 = y + <usize>m * <usize>ldy;
      for (let n = 0; n < N16; n += 16) {
        const b = qc + ((<usize>n) << 2);
        let c0 = v128.load(b),
          c1 = v128.load(b, 16),
          c2 = v128.load(b, 32),
          c3 = v128.load(b, 48);
        let q = w + <usize>(n >> 3) * blockBytes,
          p = panel;
        const q2 = blockBytes;
        // one word of each 64-byte line of the next two blocks per iteration (as long as this pair: 64 bytes per
        // iteration), so they are near when their loop starts (wasm has no prefetch; the 4×8 tile's rows4 says why);
        // the last pair touches itself. Dense 1280 → 1000 in whole MobileNetV2 runs 0.89–0.90×
        let tq = n + 16 < N16 ? q + (q2 << 1) : q;
        let sink: i32 = 0;
        while (p < pe2) {
          sink ^= load<i32>(tq);
          tq += 64;
          const x = v128.load32_splat(p);
          c0 = i32x4.add(c0, i32x4.dot_i16x8_s(x, v128.load8x8_s(q)));
          c1 = i32x4.add(c1, i32x4.dot_i16x8_s(x, v128.load8x8_s(q, 8)));
          c2 = i32x4.add(c2, i32x4.dot_i16x8_s(x, v128.load8x8_s(q + q2)));
          c3 = i32x4.add(c3, i32x4.dot_i16x8_s(x, v128.load8x8_s(q + q2, 8)));
          const x2 = v128.load32_splat(p, 4);
          c0 = i32x4.add(c0, i32x4.dot_i16x8_s(x2, v128.load8x8_s(q, 16)));
          c1 = i32x4.add(c1, i32x4.dot_i16x8_s(x2, v128.load8x8_s(q, 24)));
          c2 = i32x4.add(c2, i32x4.dot_i16x8_s(x2, v128.load8x8_s(q + q2, 16)));
          c3 = i32x4.add(c3, i32x4.dot_i16x8_s(x2, v128.load8x8_s(q + q2, 24)));
          q += 32;
          p += 8;
        }
        if (p < pe) {
          const x = v128.load32_splat(p);
          c0 = i32x4.add(c0, i32x4.dot_i16x8_s(x, v128.load8x8_s(q)));
          c1 = i32x4.add(c1, i32x4.dot_i16x8_s(x, v128.load8x8_s(q, 8)));
          c2 = i32x4.add(c2, i32x4.dot_i16x8_s(x, v128.load8x8_s(q + q2)));
          c3 = i32x4.add(c3, i32x4.dot_i16x8_s(x, v128.load8x8_s(q + q2, 8)));
        }
        keepTouched(sink);
        const mp = qc + ((<usize>(qcStride + n)) << 2);
        store8<R>(y0, n, c0, c1, qc, qcStride, fs, v128.load(mp), v128.load(mp, 16), rz, lov, hiv, zp, lo, hi);
        store8<R>(y0, n + 8, c2, c3, qc, qcStride, fs, v128.load(mp, 32), v128.load(mp, 48), rz, lov, hiv, zp, lo, hi);
      }
    }
  }
  if (N16 < N8)
    gemmQs8Simd1x8c2<R>(
      a,
      lda,
      M,
      K,
      w + <usize>(N16 >> 3) * blockBytes,
      qc + ((<usize>N16) << 2),
      qcStride,
      8,
      y + <usize>N16,
      ldy,
      zp,
      lo,
      hi,
    );
}
