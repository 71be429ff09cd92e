// qs8 GEMM, relaxed-SIMD tile 2 rows x 8 columns, c4 (the columns of whole 8-column blocks; qs8-gemm.ts runs the
// rest through qs8-gemm-2x2-scalar.ts): y[m, n] = requant(qc.bias[n] + Σk a[m,k]·w[n,k]), the same contract and
// bytes as qs8-gemm-4x8c2-wasmsimd.ts. i32x4.relaxed_dot_i8x16_i7x16_add_s is exact on every engine only while its
// second operand is in [0, 127], so each activation is split: x = (x & 127) − 128·(x < 0), and
// Σ w·x = Σ w·(x & 127) − 128·Σ w·(x < 0): two dots with the weights as the signed operand and the two 7-bit parts
// (both in [0, 127]) as the other. Per pair of products the i16 intermediate is at most 2·128·127 = 32512, so it
// never saturates either; sums are i32 (wrapping, like the reference's).
// Layouts: the bundle's c2-packed weights (compiler/kernels/pack.ts) are re-laid once per weight tensor as blocks of
// 8 columns [Kq][8][4] i8 (Kq = ⌈K/4⌉, zero past K) followed by [N8] i32 128·Σk w (the correction the one-dot tile
// qs8-gemm-4x8c4-wasmrelaxed.ts needs), kept in the heap keyed by the weight address (the bump allocator never reuses
// an address and the executor never writes a constant). 2 rows of a are split once into a panel
// [Kq][xl r0, xl r1, xs r0, xs r1] (4 bytes each: 16 bytes per k quad, zero past K); per k quad two 16-byte weight
// loads (columns 0–3, 4–7), a 4-byte splat per row and part, and 8 dots into 4 + 4 accumulators per row.
// Integer-exact (reference: assembly/reference/qs8.ts); compiled into the relaxed build only.
import { store8, uniformShift } from './qs8-gemm-4x8c2-wasmsimd';

/** Longest K this tile takes (qs8-gemm.ts sends longer K to the scalar 2×2 tile). */
export const QS8_RELAXED_PANEL_K = 1 << 20;

/** The panel (16 bytes per k quad): static for K ≤ 8192; a longer K takes one heap block, kept for later runs. */
const STATIC_K = 8192;
const staticPanel: usize = ASC_FEATURE_RELAXED_SIMD ? memory.data(STATIC_K * 4, 16) : 0;
let panelAt: usize = staticPanel;
let panelK: i32 = STATIC_K;

/** c4 copies of the c2-packed weights, by weight address (see the header). */
const packed = new Map<usize, usize>();

/** The c4 copy of N8 columns (whole 8-column blocks) of c2-packed weights w over K, then N8 i32 corrections
 *  128·Σk w[n, k]; made on first use. */
export function c4Weights(w: usize, N8: i32, K: i32): usize {
  if (packed.has(w)) return packed.get(w);
  const Kq = (K + 3) >> 2,
    Kp = (K + 1) & ~1;
  const bytes = <usize>N8 * <usize>(Kq << 2);
  const out = (heap.alloc(bytes + ((<usize>N8) << 2) + 16) + 15) & ~(<usize>15);
  memory.fill(out, 0, bytes);
  for (let b = 0; b < N8; b += 8) {
    const src = w + <usize>b * <usize>Kp,
      dst = out + <usize>b * <usize>(Kq << 2);
    // c2: per k pair 8 columns × 2 bytes; c4: per k quad 8 columns × 4 bytes (pairs 2q and 2q+1 of each column)
    for (let kp = 0; kp < Kp >> 1; kp++) {
      const s = src + ((<usize>kp) << 4),
        d = dst + ((<usize>(kp >> 1)) << 5) + ((<usize>(kp & 1)) << 1);
      for (let c = 0; c < 8; c++) store<u16>(d + ((<usize>c) << 2), load<u16>(s + ((<usize>c) << 1)));
    }
    for (let c = 0; c < 8; c++) {
      let sum = 0;
      for (let k = 0; k < Kp; k++)
        sum += <i32>load<i8>(src + ((<usize>(k >> 1)) << 4) + ((<usize>c) << 1) + <usize>(k & 1));
      store<i32>(out + bytes + ((<usize>(b + c)) << 2), sum << 7);
    }
  }
  packed.set(w, out);
  return out;
}

/** The shared activation panel (16 bytes per k quad) for Kq k quads: both relaxed tiles fill it per row group. */
export function relaxedPanel(Kq: i32): usize {
  if (Kq << 2 > panelK) {
    panelAt = (heap.alloc(<usize>(Kq << 4) + 16) + 15) & ~(<usize>15);
    panelK = Kq << 2;
  }
  return panelAt;
}

/** Columns [0, N8) of y (N8 a multiple of 8), every row. */
export function gemmQs8Relaxed2x8c4<R>(
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
  const panel = relaxedPanel(Kq);
  const fs = uniformShift<R>(qc, qcStride, N8);
  const rz = i32x4.splat(fs ? (1 << (fs - 33)) + zp * (1 << (fs - 32)) : 0);
  const lov = i16x8.splat(<i16>lo),
    hiv = i16x8.splat(<i16>hi);
  const low7 = i8x16.splat(0x7f);
  const pe = panel + <usize>(Kq << 4);
  for (let m = 0; m < M; m += 2) {
    // split rows m, m+1 (a row past M repeats row m: computed, never stored)
    const r0 = a + <usize>m * <usize>lda;
    const r1 = m + 1 < M ? r0 + <usize>lda : r0;
    let k = 0;
    for (; k + 16 <= K; k += 16) {
      const q0 = v128.load(r0 + <usize>k),
        q1 = v128.load(r1 + <usize>k);
      // per k quad the two rows' 4 bytes side by side: quads 0, 1 | 2, 3
      const t0 = v128.shuffle<i32>(q0, q1, 0, 4, 1, 5),
        t1 = v128.shuffle<i32>(q0, q1, 2, 6, 3, 7);
      const l0 = v128.and(t0, low7),
        s0 = i8x16.shr_u(t0, 7);
      const l1 = v128.and(t1, low7),
        s1 = i8x16.shr_u(t1, 7);
      const d = panel + ((<usize>k) << 2);
      v128.store(d, v128.shuffle<i64>(l0, s0, 0, 2));
      v128.store(d, v128.shuffle<i64>(l0, s0, 1, 3), 16);
      v128.store(d, v128.shuffle<i64>(l1, s1, 0, 2), 32);
      v128.store(d, v128.shuffle<i64>(l1, s1, 1, 3), 48);
    }
    for (; k < Kq << 2; k++) {
      const d = panel + ((<usize>(k >> 2)) << 4) + <usize>(k & 3);
      const x0 = k < K ? load<u8>(r0 + <usize>k) : 0,
        x1 = k < K ? load<u8>(r1 + <usize>k) : 0;
      store<u8>(d, x0 & 0x7f);
      store<u8>(d, x1 & 0x7f, 4);
      store<u8>(d, x0 >> 7, 8);
      store<u8>(d, x1 >> 7, 12);
    }
    const y0 = y + <usize>m * <usize>ldy;
    for (let n = 0; n < N8; n += 8) {
      const b0 = v128.load(qc + ((<usize>n) << 2)),
        b1 = v128.load(qc + ((<usize>n) << 2), 16);
      // l: Σ w·(x & 127) started at the bias; s: Σ w·(x < 0)
      let l00 = b0,
        l01 = b1,
        l10 = b0,
        l11 = b1;
      let s00 = i32x4.splat(0),
        s01 = i32x4.splat(0),
        s10 = i32x4.splat(0),
        s11 = i32x4.splat(0);
      let q = wq + <usize>(n >> 3) * blockBytes,
        p = panel;
      while (p < pe) {
        const wl = v128.load(q),
          wh = v128.load(q, 16);
        const xl0 = v128.load32_splat(p),
          xs0 = v128.load32_splat(p, 8);
        l00 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wl, xl0, l00);
        l01 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wh, xl0, l01);
        s00 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wl, xs0, s00);
        s01 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wh, xs0, s01);
        const xl1 = v128.load32_splat(p, 4),
          xs1 = v128.load32_splat(p, 12);
        l10 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wl, xl1, l10);
        l11 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wh, xl1, l11);
        s10 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wl, xs1, s10);
        s11 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wh, xs1, s11);
        q += 32;
        p += 16;
      }
      const mp = qc + ((<usize>(qcStride + n)) << 2);
      const m0 = v128.load(mp),
        m1 = v128.load(mp, 16);
      const c00 = i32x4.sub(l00, i32x4.shl(s00, 7)),
        c01 = i32x4.sub(l01, i32x4.shl(s01, 7));
      store8<R>(y0, n, c00, c01, qc, qcStride, fs, m0, m1, rz, lov, hiv, zp, lo, hi);
      if (m + 1 < M) {
        const c10 = i32x4.sub(l10, i32x4.shl(s10, 7)),
          c11 = i32x4.sub(l11, i32x4.shl(s11, 7));
        store8<R>(y0 + <usize>ldy, n, c10, c11, qc, qcStride, fs, m0, m1, rz, lov, hiv, zp, lo, hi);
      }
    }
  }
}
