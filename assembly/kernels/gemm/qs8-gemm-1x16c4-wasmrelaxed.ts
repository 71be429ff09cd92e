// qs8 GEMV, relaxed-SIMD tile 1 row × 16 columns (an odd last 8-column block alone), c4: the lone row of the relaxed
// build's GEMMs (Dense on one sample; the last row when M mod 4 = 1; qs8-gemm.ts) where the engine's dot is exact on
// full-range operands ('usdot' / 'sdot'; the contract, the c4 weight copy [N8/8][Kq][8][4] and its corrections
// 128·Σk w are qs8-gemm-4x8c4-wasmrelaxed.ts's and qs8-gemm-2x8c4-wasmrelaxed.ts's). The row, flipped to u8 for usdot
// (x ^ 0x80, the accumulators started at bias − 128·Σk w), sits in the relaxed panel as [Kq][4] bytes (zero past K,
// where the weights are zero too); per k quad one 4-byte splat feeds 4 `i32x4.relaxed_dot_i8x16_i7x16_add_s`, each 16
// MACs with the accumulation included (the 1×16c2 tile: 8 MACs per dot and add). Requantised by the 4×8 tile's store8.
// Same bytes as every other tile (integer-exact; reference: assembly/reference/qs8.ts). Compiled into the relaxed build.
import { store8, uniformShift } from './qs8-gemm-4x8c2-wasmsimd';
import { c4Weights, relaxedPanel } from './qs8-gemm-2x8c4-wasmrelaxed';
import { DOT_USDOT, getDotMode } from './qs8-gemm-4x8c4-wasmrelaxed';

/** Columns [0, N8) of y (N8 a multiple of 8), every row, one at a time. Only for dot mode usdot or sdot. */
export function gemvQs8Relaxed1x16c4<R>(
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
  const Kq = (K + 3) >> 2;
  const blockBytes = <usize>(Kq << 5);
  const wq = c4Weights(w, N8, K);
  const corr = wq + <usize>N8 * <usize>(Kq << 2);
  const panel = relaxedPanel(Kq);
  const us = getDotMode() == DOT_USDOT;
  const flipByte: u32 = us ? 0x80 : 0;
  const flip = i8x16.splat(<i8>flipByte),
    cmask = i32x4.splat(us ? -1 : 0);
  const fs = uniformShift<R>(qc, qcStride, N8);
  const rz = i32x4.splat(fs ? (1 << (fs - 33)) + zp * (1 << (fs - 32)) : 0);
  const lov = i16x8.splat(<i16>lo),
    hiv = i16x8.splat(<i16>hi);
  const pe = panel + <usize>(Kq << 2);
  // the last whole pair of k quads: one k quad may remain after it
  const pe2 = panel + <usize>((Kq & ~1) << 2);
  const N16 = N8 & ~15;
  for (let m = 0; m < M; m++) {
    const r = a + <usize>m * <usize>lda;
    let k = 0;
    for (; k + 16 <= K; k += 16) v128.store(panel + <usize>k, v128.xor(v128.load(r + <usize>k), flip));
    for (; k < Kq << 2; k++) store<u8>(panel + <usize>k, k < K ? load<u8>(r + <usize>k) ^ flipByte : 0);
    const y0 = y + <usize>m * <usize>ldy;
    for (let n = 0; n < N16; n += 16) {
      const b = qc + ((<usize>n) << 2),
        cp = corr + ((<usize>n) << 2);
      let c0 = i32x4.sub(v128.load(b), v128.and(v128.load(cp), cmask)),
        c1 = i32x4.sub(v128.load(b, 16), v128.and(v128.load(cp, 16), cmask)),
        c2 = i32x4.sub(v128.load(b, 32), v128.and(v128.load(cp, 32), cmask)),
        c3 = i32x4.sub(v128.load(b, 48), v128.and(v128.load(cp, 48), cmask));
      let q = wq + <usize>(n >> 3) * blockBytes;
      // two k quads per iteration into two sets of accumulators: the dot's latency, not its throughput, bounds a
      // chain of one accumulator
      let d0 = i32x4.splat(0),
        d1 = i32x4.splat(0),
        d2 = i32x4.splat(0),
        d3 = i32x4.splat(0);
      let p = panel;
      for (; p < pe2; p += 8) {
        const x = v128.load32_splat(p),
          x2 = v128.load32_splat(p, 4);
        c0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(q), x, c0);
        c1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(q, 16), x, c1);
        c2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(q + blockBytes), x, c2);
        c3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(q + blockBytes, 16), x, c3);
        d0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(q, 32), x2, d0);
        d1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(q, 48), x2, d1);
        d2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(q + blockBytes, 32), x2, d2);
        d3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(q + blockBytes, 48), x2, d3);
        q += 64;
      }
      if (p < pe) {
        const x = v128.load32_splat(p);
        c0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(q), x, c0);
        c1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(q, 16), x, c1);
        c2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(q + blockBytes), x, c2);
        c3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(q + blockBytes, 16), x, c3);
      }
      c0 = i32x4.add(c0, d0);
      c1 = i32x4.add(c1, d1);
      c2 = i32x4.add(c2, d2);
      c3 = i32x4.add(c3, d3);
      const mp = qc + ((<usize>(qcStride + n)) << 2);
      store8<R>(y0, n, c0, c1, qc, qcStride, fs, v128.load(mp), v128.load(mp, 16), rz, lov, hiv, zp, lo, hi);
      store8<R>(y0, n + 8, c2, c3, qc, qcStride, fs, v128.load(mp, 32), v128.load(mp, 48), rz, lov, hiv, zp, lo, hi);
    }
    if (N16 < N8) {
      const b = qc + ((<usize>N16) << 2),
        cp = corr + ((<usize>N16) << 2);
      let c0 = i32x4.sub(v128.load(b), v128.and(v128.load(cp), cmask)),
        c1 = i32x4.sub(v128.load(b, 16), v128.and(v128.load(cp, 16), cmask));
      let q = wq + <usize>(N16 >> 3) * blockBytes;
      for (let p = panel; p < pe; p += 4) {
        const x = v128.load32_splat(p);
        c0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(q), x, c0);
        c1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(q, 16), x, c1);
        q += 32;
      }
      const mp = qc + ((<usize>(qcStride + N16)) << 2);
      store8<R>(y0, N16, c0, c1, qc, qcStride, fs, v128.load(mp), v128.load(mp, 16), rz, lov, hiv, zp, lo, hi);
    }
  }
}
