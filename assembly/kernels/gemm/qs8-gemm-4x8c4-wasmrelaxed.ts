// qs8 GEMM, relaxed-SIMD tile 4 rows x 8 columns, c4, ONE i32x4.relaxed_dot_i8x16_i7x16_add_s per 16 products, for
// engines whose dot is exact on full-range operands (runtime/index.ts relaxedDotMode probes the engine and
// edgec_set_dot_mode passes the answer in): 'usdot' (x86 AVX-VNNI vpdpbusd: the second operand read as u8, i32 sums
// that wrap) or 'sdot' (ARM sdot, AVX-VNNI-INT8 vpdpbssd: both operands i8). Any other engine runs the split 2×8 tile
// (qs8-gemm-2x8c4-wasmrelaxed.ts: two dots per 16 products, exact everywhere). Same contract and bytes as the simd and
// scalar builds: y[m, n] = requant(qc.bias[n] + Σk a[m,k]·w[n,k]), integer-exact (reference: assembly/reference/qs8.ts).
// usdot: the activations go in as u = x ^ 0x80 = x + 128 in [0, 255], so Σ w·u = Σ w·x + 128·Σk w; the accumulators
// start at bias − 128·Σk w (kept per column after the c4 copy, qs8-gemm-2x8c4-wasmrelaxed.ts c4Weights), in wrapping
// i32 like the reference's sums. sdot: x as is (flip 0) and no correction.
// Layouts: weights the c4 copy [N8/8][Kq][8][4] i8 then [N8] i32 corrections; 4 rows of u as a panel [Kq][4 rows][4]
// (16 bytes per k quad, zero past K, where the weights are zero too); per k quad two 16-byte weight loads (columns
// 0–3, 4–7), a 4-byte splat per row and 8 dots into 8 accumulators. Epilogue picked once per call (columns4x8c4 is
// inlined once per kind, so its column loop carries no requantisation branch): one shift 33..54 → requantHigh8, two
// rows per narrowing (0.86–0.88× on MobileNetV2's K = 16–32 expansions against store8 per row with both its paths
// inlined, bench/relaxed-profile.ts); the fp32 requantisation (R = f32) → the 4×8c2 tile's requantRows2, two rows per
// narrowing; else store8's general path. Compiled into the relaxed build only.
import { EPI_GENERAL, requantRows2, store8, uniformShift } from './qs8-gemm-4x8c2-wasmsimd';
import { fp32mMin, fp32mZp } from './qs8-requant';
import { c4Weights, relaxedPanel } from './qs8-gemm-2x8c4-wasmrelaxed';

/** The engine's dot product as the host's probe classified it: 0 split (the fallback), 1 usdot, 2 sdot. */
export const DOT_SPLIT = 0;
export const DOT_USDOT = 1;
export const DOT_SDOT = 2;
let dotMode: i32 = DOT_SPLIT;

/** Sets the mode (edgec_set_dot_mode; anything unknown is the split fallback) and returns it. The c4 copies hold the
 *  corrections whatever the mode, so it may change between runs. */
export function setDotMode(mode: i32): i32 {
  dotMode = ASC_FEATURE_RELAXED_SIMD && (mode == DOT_USDOT || mode == DOT_SDOT) ? mode : DOT_SPLIT;
  return dotMode;
}

export function getDotMode(): i32 {
  return dotMode;
}

/** Columns [0, N8) of y (N8 a multiple of 8), every row (rows past M of the last group repeat row M − 1: computed,
 *  never stored). Only for dotMode usdot or sdot. */
export function gemmQs8Relaxed4x8c4<R>(
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
  const us = dotMode == DOT_USDOT;
  const flipByte: u32 = us ? 0x80 : 0;
  const flip = i8x16.splat(<i8>flipByte),
    cmask = i32x4.splat(us ? -1 : 0);
  const fs = uniformShift<R>(qc, qcStride, N8);
  const rz = i32x4.splat(fs ? (1 << (fs - 33)) + zp * (1 << (fs - 32)) : 0);
  const lov = i16x8.splat(<i16>lo),
    hiv = i16x8.splat(<i16>hi);
  const pe = panel + <usize>(Kq << 4);
  for (let m = 0; m < M; m += 4) {
    const r0 = a + <usize>m * <usize>lda;
    const r1 = m + 1 < M ? r0 + <usize>lda : r0;
    const r2 = m + 2 < M ? r1 + <usize>lda : r1;
    const r3 = m + 3 < M ? r2 + <usize>lda : r2;
    let k = 0;
    for (; k + 16 <= K; k += 16) {
      const q0 = v128.xor(v128.load(r0 + <usize>k), flip),
        q1 = v128.xor(v128.load(r1 + <usize>k), flip),
        q2 = v128.xor(v128.load(r2 + <usize>k), flip),
        q3 = v128.xor(v128.load(r3 + <usize>k), flip);
      // a 4×4 transpose of 4-byte quads: per k quad the four rows' bytes side by side
      const t0 = v128.shuffle<i32>(q0, q1, 0, 4, 1, 5),
        t1 = v128.shuffle<i32>(q2, q3, 0, 4, 1, 5),
        t2 = v128.shuffle<i32>(q0, q1, 2, 6, 3, 7),
        t3 = v128.shuffle<i32>(q2, q3, 2, 6, 3, 7);
      const d = panel + ((<usize>k) << 2);
      v128.store(d, v128.shuffle<i64>(t0, t1, 0, 2));
      v128.store(d, v128.shuffle<i64>(t0, t1, 1, 3), 16);
      v128.store(d, v128.shuffle<i64>(t2, t3, 0, 2), 32);
      v128.store(d, v128.shuffle<i64>(t2, t3, 1, 3), 48);
    }
    // 8 and 4 k past the last 16 (K = 24 in MobileNetV2's 56×56 expansions) the same way, from 8- and 4-byte loads
    for (; k + 4 <= K; k += 4) {
      const q0 = v128.xor(v128.load32_zero(r0 + <usize>k), flip),
        q1 = v128.xor(v128.load32_zero(r1 + <usize>k), flip),
        q2 = v128.xor(v128.load32_zero(r2 + <usize>k), flip),
        q3 = v128.xor(v128.load32_zero(r3 + <usize>k), flip);
      const t0 = v128.shuffle<i32>(q0, q1, 0, 4, 1, 5),
        t1 = v128.shuffle<i32>(q2, q3, 0, 4, 1, 5);
      v128.store(panel + ((<usize>k) << 2), v128.shuffle<i64>(t0, t1, 0, 2));
    }
    for (; k < Kq << 2; k++) {
      const d = panel + ((<usize>(k >> 2)) << 4) + <usize>(k & 3);
      const live = k < K;
      store<u8>(d, live ? load<u8>(r0 + <usize>k) ^ flipByte : 0);
      store<u8>(d, live ? load<u8>(r1 + <usize>k) ^ flipByte : 0, 4);
      store<u8>(d, live ? load<u8>(r2 + <usize>k) ^ flipByte : 0, 8);
      store<u8>(d, live ? load<u8>(r3 + <usize>k) ^ flipByte : 0, 12);
    }
    const y0 = y + <usize>m * <usize>ldy;
    // the epilogue picked once per call (a constant in each inlined copy): one shift 33..54 with or without the clamp,
    // f32's two rows per narrowing, else store8's general path
    if (fs && lo == -128 && hi == 127)
      columns4x8c4<R>(
        y0,
        ldy,
        m,
        M,
        N8,
        wq,
        corr,
        blockBytes,
        panel,
        pe,
        cmask,
        qc,
        qcStride,
        fs,
        rz,
        lov,
        hiv,
        zp,
        lo,
        hi,
        1,
      );
    else if (fs)
      columns4x8c4<R>(
        y0,
        ldy,
        m,
        M,
        N8,
        wq,
        corr,
        blockBytes,
        panel,
        pe,
        cmask,
        qc,
        qcStride,
        fs,
        rz,
        lov,
        hiv,
        zp,
        lo,
        hi,
        2,
      );
    else
      columns4x8c4<R>(
        y0,
        ldy,
        m,
        M,
        N8,
        wq,
        corr,
        blockBytes,
        panel,
        pe,
        cmask,
        qc,
        qcStride,
        0,
        rz,
        lov,
        hiv,
        zp,
        lo,
        hi,
        isFloat<R>() ? 3 : 0,
      );
  }
}

/** The 8-column blocks [0, N8) of rows m..m+3 (y0: row m) from the panel; `kind` (a constant at each call) the epilogue:
 *  1 / 2 requantHigh8 (one shift fs ∈ [33, 54]) without / with the clamp, two rows per narrowing; 3 (R = f32) the 4×8c2
 *  tile's requantRows2, two rows per narrowing; 0 store8 per row. */
// @ts-ignore: decorator
@inline function columns4x8c4<R>(
  y0: usize,
  ldy: i32,
  m: i32,
  M: i32,
  N8: i32,
  wq: usize,
  corr: usize,
  blockBytes: usize,
  panel: usize,
  pe: usize,
  cmask: v128,
  qc: usize,
  qcStride: i32,
  fs: i32,
  rz: v128,
  lov: v128,
  hiv: v128,
  zp: i32,
  lo: i32,
  hi: i32,
  kind: i32,
): void {
  const y1 = y0 + <usize>ldy,
    y2 = y1 + <usize>ldy,
    y3 = y2 + <usize>ldy;
  // kind 3 (R = f32): requantFp32m's constants and hi as i8 (qs8-gemm-4x8c2-wasmsimd.ts requantRows2)
  const vmin = fp32mMin(zp, lo),
    vzp = fp32mZp(zp),
    hi8 = i8x16.splat(<i8>hi);
  for (let n = 0; n < N8; n += 8) {
    const cp = corr + ((<usize>n) << 2);
    const b0 = i32x4.sub(v128.load(qc + ((<usize>n) << 2)), v128.and(v128.load(cp), cmask)),
      b1 = i32x4.sub(v128.load(qc + ((<usize>n) << 2), 16), v128.and(v128.load(cp, 16), cmask));
    let c00 = b0,
      c01 = b1,
      c10 = b0,
      c11 = b1,
      c20 = b0,
      c21 = b1,
      c30 = b0,
      c31 = b1;
    let q = wq + <usize>(n >> 3) * blockBytes,
      p = panel;
    while (p < pe) {
      const wl = v128.load(q),
        wh = v128.load(q, 16);
      const x0 = v128.load32_splat(p),
        x1 = v128.load32_splat(p, 4);
      c00 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wl, x0, c00);
      c01 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wh, x0, c01);
      c10 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wl, x1, c10);
      c11 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wh, x1, c11);
      const x2 = v128.load32_splat(p, 8),
        x3 = v128.load32_splat(p, 12);
      c20 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wl, x2, c20);
      c21 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wh, x2, c21);
      c30 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wl, x3, c30);
      c31 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wh, x3, c31);
      q += 32;
      p += 16;
    }
    const mp = qc + ((<usize>(qcStride + n)) << 2);
    const m0 = v128.load(mp),
      m1 = v128.load(mp, 16);
    if (kind == 3) {
      // m0, m1: the f32 scales
      const o01 = requantRows2<R>(
        EPI_GENERAL,
        c00,
        c01,
        c10,
        c11,
        qc,
        qcStride,
        n,
        m0,
        m1,
        rz,
        0,
        hi8,
        hi8,
        vmin,
        vzp,
        zp,
        lo,
        hi,
      );
      const o23 = requantRows2<R>(
        EPI_GENERAL,
        c20,
        c21,
        c30,
        c31,
        qc,
        qcStride,
        n,
        m0,
        m1,
        rz,
        0,
        hi8,
        hi8,
        vmin,
        vzp,
        zp,
        lo,
        hi,
      );
      v128.store64_lane(y0 + <usize>n, o01, 0);
      if (m + 1 < M) v128.store64_lane(y1 + <usize>n, o01, 1);
      if (m + 2 < M) v128.store64_lane(y2 + <usize>n, o23, 0);
      if (m + 3 < M) v128.store64_lane(y3 + <usize>n, o23, 1);
    } else if (kind != 0) {
      const t = fs - 32,
        clamp = kind == 2;
      const o01 = i8x16.narrow_i16x8_s(
        requantHigh8(c00, c01, m0, m1, rz, t, lov, hiv, clamp),
        requantHigh8(c10, c11, m0, m1, rz, t, lov, hiv, clamp),
      );
      const o23 = i8x16.narrow_i16x8_s(
        requantHigh8(c20, c21, m0, m1, rz, t, lov, hiv, clamp),
        requantHigh8(c30, c31, m0, m1, rz, t, lov, hiv, clamp),
      );
      v128.store64_lane(y0 + <usize>n, o01, 0);
      if (m + 1 < M) v128.store64_lane(y1 + <usize>n, o01, 1);
      if (m + 2 < M) v128.store64_lane(y2 + <usize>n, o23, 0);
      if (m + 3 < M) v128.store64_lane(y3 + <usize>n, o23, 1);
    } else {
      store8<R>(y0, n, c00, c01, qc, qcStride, 0, m0, m1, rz, lov, hiv, zp, lo, hi);
      if (m + 1 < M) store8<R>(y1, n, c10, c11, qc, qcStride, 0, m0, m1, rz, lov, hiv, zp, lo, hi);
      if (m + 2 < M) store8<R>(y2, n, c20, c21, qc, qcStride, 0, m0, m1, rz, lov, hiv, zp, lo, hi);
      if (m + 3 < M) store8<R>(y3, n, c30, c31, qc, qcStride, 0, m0, m1, rz, lov, hiv, zp, lo, hi);
    }
  }
}

/** 8 accumulators (bias in) of channels sharing one shift s ∈ [33, 54] requantised to i16 as store8's fast path (proof
 *  there; t = s − 32, rz = 2^(s−33) + zp·2^t): (hi32(acc·mult) + rz) >> t, then the clamp to [lov, hiv] when `clamp`
 *  (false at the whole int8 range, which the narrowing to i8 saturates to). Shared with the relaxed depthwise 3×3. */
// @ts-ignore: decorator
@inline export function requantHigh8(
  lo: v128,
  hi: v128,
  m0: v128,
  m1: v128,
  rz: v128,
  t: i32,
  lov: v128,
  hiv: v128,
  clamp: bool,
): v128 {
  const a = i64x2.extmul_low_i32x4_s(lo, m0),
    b = i64x2.extmul_high_i32x4_s(lo, m0);
  const d = i64x2.extmul_low_i32x4_s(hi, m1),
    e = i64x2.extmul_high_i32x4_s(hi, m1);
  const u0 = i32x4.shr_s(i32x4.add(v128.shuffle<i32>(a, b, 1, 3, 5, 7), rz), t);
  const u1 = i32x4.shr_s(i32x4.add(v128.shuffle<i32>(d, e, 1, 3, 5, 7), rz), t);
  const h = i16x8.narrow_i32x4_s(u0, u1);
  return clamp ? i16x8.min_s(i16x8.max_s(h, lov), hiv) : h;
}
