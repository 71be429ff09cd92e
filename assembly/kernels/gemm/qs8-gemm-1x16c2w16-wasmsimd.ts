// qs8 GEMV on weights widened to i16 once, at load: a one-row Dense (batch 1: MLPerf Tiny AD's ten layers) whose
// weights are small keeps an i16 copy of its c2-packed weights (widenQs8W16, from the executor's load), so each k pair
// of 16 columns is 4 plain 16-byte loads (folded into vpmaddwd) + 4 dots + 4 adds instead of 4 `load8x8_s` (a load
// and a shuffle-port op each) + 4 dots + 4 adds: the vector pipes' work per 64 MACs drops from 24 ops to 16.
// i16 layout (bytes, 16-byte aligned): blocks of 16 columns [Kp/2][16][2] (block g at w16 + g·Kp·32; per k pair
// columns 0–3, 4–7 of the int8 block 2g, then 8–11, 12–15 of block 2g+1), an odd last 8-column block [Kp/2][8][2]
// (at (N8 >> 4)·Kp·32), zero past K. Columns past the last multiple of 8 run on the 2×2 tile over the int8 weights.
// Sums are exact i32 in any order and the epilogue is the 4×8 tile's store8, so the bytes are qs8-gemm.ts's
// (integer-exact; reference: assembly/reference/qs8.ts). Compiled into the simd, relaxed and threads builds.
import { i16Panel, store8, uniformShift } from './qs8-gemm-4x8c2-wasmsimd';
import { gemmQs8Scalar2x2 } from './qs8-gemm-2x2-scalar';

/** Largest i16 copy of one step's weights, and of all the steps of one bundle together (bytes). AD: 528 KiB in all,
 *  the 640×128 layers 160 KiB each. A bundle past the total keeps its later steps on the int8 weights. */
export const QS8_W16_STEP_BYTES = 256 << 10;
export const QS8_W16_TOTAL_BYTES = 1 << 20;

/** Bytes of the i16 copy of N columns of K (its 8-column blocks only). */
export function qs8W16Bytes(N: i32, K: i32): i32 {
  return (N & ~7) * ((K + 1) & ~1) * 2;
}

/** A kept 16-byte aligned heap block holding the i16 copy of the c2-packed int8 weights w (N columns of K). */
export function widenQs8W16(w: usize, N: i32, K: i32): usize {
  const Kp = (K + 1) & ~1;
  const N8 = N & ~7,
    N16 = N & ~15;
  const out = (heap.alloc(<usize>qs8W16Bytes(N, K) + 16) + 15) & ~(<usize>15);
  const src = <usize>(Kp << 3); // bytes of one int8 8-column block
  let d = out;
  for (let n = 0; n < N16; n += 16) {
    const b0 = w + <usize>(n >> 3) * src;
    for (let j: usize = 0; j < <usize>(Kp << 3); j += 16) {
      v128.store(d, v128.load8x8_s(b0 + j));
      v128.store(d, v128.load8x8_s(b0 + j, 8), 16);
      v128.store(d, v128.load8x8_s(b0 + src + j), 32);
      v128.store(d, v128.load8x8_s(b0 + src + j, 8), 48);
      d += 64;
    }
  }
  if (N16 < N8) {
    const b0 = w + <usize>(N16 >> 3) * src;
    for (let j: usize = 0; j < <usize>(Kp << 3); j += 16) {
      v128.store(d, v128.load8x8_s(b0 + j));
      v128.store(d, v128.load8x8_s(b0 + j, 8), 16);
      d += 32;
    }
  }
  return out;
}

/** y[0, n] for every n < N of one row a (K int8), over the i16 copy w16 of the int8 weights w (both kept). */
export function gemvQs8W16<R>(
  a: usize,
  K: i32,
  w: usize,
  w16: usize,
  qc: usize,
  qcStride: i32,
  N: i32,
  y: usize,
  zp: i32,
  lo: i32,
  hi: i32,
): void {
  const Kp = (K + 1) & ~1;
  const N8 = N & ~7,
    N16 = N & ~15;
  const panel = i16Panel(Kp);
  let k = 0;
  for (; k + 8 <= K; k += 8) v128.store(panel + ((<usize>k) << 1), v128.load8x8_s(a + <usize>k));
  for (; k < Kp; k++) store<i16>(panel + ((<usize>k) << 1), k < K ? <i16>load<i8>(a + <usize>k) : 0);
  const fs = uniformShift<R>(qc, qcStride, N8);
  const rz = i32x4.splat(fs ? (1 << (fs - 33)) + zp * (1 << (fs - 32)) : 0);
  const lov = i16x8.splat(<i16>lo),
    hiv = i16x8.splat(<i16>hi);
  const pe = panel + <usize>(Kp << 1);
  // the last whole pair of k pairs: one k pair may remain after it
  const pe2 = panel + <usize>((Kp & ~3) << 1);
  let q = w16;
  for (let n = 0; n < N16; n += 16) {
    const b = qc + ((<usize>n) << 2);
    let c0 = v128.load(b),
      c1 = v128.load(b, 16),
      c2 = v128.load(b, 32),
      c3 = v128.load(b, 48);
    let p = panel;
    while (p < pe2) {
      const x = v128.load32_splat(p);
      c0 = i32x4.add(c0, i32x4.dot_i16x8_s(x, v128.load(q)));
      c1 = i32x4.add(c1, i32x4.dot_i16x8_s(x, v128.load(q, 16)));
      c2 = i32x4.add(c2, i32x4.dot_i16x8_s(x, v128.load(q, 32)));
      c3 = i32x4.add(c3, i32x4.dot_i16x8_s(x, v128.load(q, 48)));
      const x2 = v128.load32_splat(p, 4);
      c0 = i32x4.add(c0, i32x4.dot_i16x8_s(x2, v128.load(q, 64)));
      c1 = i32x4.add(c1, i32x4.dot_i16x8_s(x2, v128.load(q, 80)));
      c2 = i32x4.add(c2, i32x4.dot_i16x8_s(x2, v128.load(q, 96)));
      c3 = i32x4.add(c3, i32x4.dot_i16x8_s(x2, v128.load(q, 112)));
      q += 128;
      p += 8;
    }
    if (p < pe) {
      const x = v128.load32_splat(p);
      c0 = i32x4.add(c0, i32x4.dot_i16x8_s(x, v128.load(q)));
      c1 = i32x4.add(c1, i32x4.dot_i16x8_s(x, v128.load(q, 16)));
      c2 = i32x4.add(c2, i32x4.dot_i16x8_s(x, v128.load(q, 32)));
      c3 = i32x4.add(c3, i32x4.dot_i16x8_s(x, v128.load(q, 48)));
      q += 64;
    }
    const mp = qc + ((<usize>(qcStride + n)) << 2);
    store8<R>(y, n, c0, c1, qc, qcStride, fs, v128.load(mp), v128.load(mp, 16), rz, lov, hiv, zp, lo, hi);
    store8<R>(y, n + 8, c2, c3, qc, qcStride, fs, v128.load(mp, 32), v128.load(mp, 48), rz, lov, hiv, zp, lo, hi);
  }
  if (N16 < N8) {
    let c0 = v128.load(qc + ((<usize>N16) << 2)),
      c1 = v128.load(qc + ((<usize>N16) << 2), 16);
    for (let p = panel; p < pe; p += 4) {
      const x = v128.load32_splat(p);
      c0 = i32x4.add(c0, i32x4.dot_i16x8_s(x, v128.load(q)));
      c1 = i32x4.add(c1, i32x4.dot_i16x8_s(x, v128.load(q, 16)));
      q += 32;
    }
    const mp = qc + ((<usize>(qcStride + N16)) << 2);
    store8<R>(y, N16, c0, c1, qc, qcStride, fs, v128.load(mp), v128.load(mp, 16), rz, lov, hiv, zp, lo, hi);
  }
  if (N8 < N) gemmQs8Scalar2x2<R>(a, K, 1, K, w, qc, qcStride, N, N8, y, N, zp, lo, hi);
}
