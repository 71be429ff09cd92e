// Conv2D_QS8 3×3 stride 2 over 3 input channels (the image stems: MobileNetV2's 224²×3 → 112²×32), simd build, no
// im2col: x i8 [N,H,W,3] → y i8 [N,OH,OW,Co], Co a multiple of 8 up to STEM_MAX_CO, any padding, dilation 1, one
// group. Weights: qs8-gemm's c2 blocks (K = 27 in (kh, kw, ci) order, Kp = 28, zero at k = 27), widened to i16 once
// per call. Per tile of 4 output pixels each pixel's 27 taps are widened straight from the input into a 56-byte i16
// row (per kernel row two overlapping 8-byte widening loads and stores; 4 pixels of one output row with every tap
// inside take one check for all; taps outside the image = zp_in, one by one);
// then per 8-column block the 4×8c2 tile's k loop (qs8-gemm-4x8c2-wasmsimd.ts: a 4-byte splat per pixel and k pair,
// i32x4.dot_i16x8_s) and its requantisations. Slot k = 27 of a pixel row is never written: its weight is zero.
// Output rows with every tap inside (at least 19 input columns wide) run most of their pixels by F(2, 2) instead: two
// such rows 2 × 2 pixels at a time, 38 k pairs per 4 pixels (qs8-conv2d-3x3s2c3-quads-wasmsimd.ts), a lone one two
// pixels at a time, 23 k pairs per 2 (qs8-conv2d-3x3s2c3-pairs-wasmsimd.ts); pixels: the driver below.
// Integer-exact, the sums of im2col + GEMM (reference twin: refConv2dQs8, assembly/reference/qs8.ts).
import { StepParams } from '../../bundle/model';
import { fp32Bounded, widenBlock, requantRows2, uniformShift } from '../gemm/qs8-gemm-4x8c2-wasmsimd';
import { fp32mMin, fp32mZp } from '../gemm/qs8-requant';
import { pairRow, pairTiles, pairWeights, privatePairBuffers } from './qs8-conv2d-3x3s2c3-pairs-wasmsimd';
import { quadRow } from './qs8-conv2d-3x3s2c3-quads-wasmsimd';
import { stemEpi } from './qs8-conv2d-3x3s2c3-quadtaps-wasmsimd';

/** Widest output this kernel takes (the widened weights: Co·56 bytes, static). */
const STEM_MAX_CO = 64;
/** i16 bytes of one pixel's row: 28 taps. */
const ROW = 56;
let wideW: usize = ASC_FEATURE_SIMD ? memory.data(STEM_MAX_CO * ROW, 16) : 0;
let tile: usize = ASC_FEATURE_SIMD ? memory.data(4 * ROW, 16) : 0;

/** Threaded build (assembly/threads.ts): a worker instance's own buffers, in its heap (the stem splits by rows). */
export function privateStemBuffers(): void {
  wideW = (heap.alloc(STEM_MAX_CO * ROW + 16) + 15) & ~(<usize>15);
  tile = (heap.alloc(4 * ROW + 16) + 15) & ~(<usize>15);
  privatePairBuffers();
}

/** Whether conv3x3s2c3Qs8 takes this conv (Ci = 3 and the build checked by the caller). */
export function conv3x3s2c3Fits(p: StepParams, Co: i32): bool {
  return (
    p.groups == 1 &&
    p.kh == 3 &&
    p.kw == 3 &&
    p.sh == 2 &&
    p.sw == 2 &&
    p.dh == 1 &&
    p.dw == 1 &&
    (Co & 7) == 0 &&
    Co > 0 &&
    Co <= STEM_MAX_CO
  );
}

/** Epilogues as type arguments (one compiled copy each, as in the 4×8 tile): requant4At per 4 columns; the high-word
 *  path (every channel one shift in [33, 54]) without and with the clamp; the fp32 rule's clamp-free EpiFp32N. */
type EpiGeneral = u8;
type EpiHigh = u16;
type EpiHighClamp = u32;
type EpiFp32N = u64;

export function conv3x3s2c3Qs8<R>(
  x: usize,
  w: usize,
  qc: usize,
  y: usize,
  N: i32,
  H: i32,
  W: i32,
  OH: i32,
  OW: i32,
  Co: i32,
  p: StepParams,
  zpIn: i32,
  zpOut: i32,
): void {
  // packed blocks [14][8][2] i8 (112 bytes per 8 columns) to [14][8][2] i16
  widenBlock(w, <usize>(Co * 28), wideW);
  // pixel-pair tiles per output row with every tap inside (qs8-conv2d-3x3s2c3-pairs-wasmsimd.ts)
  const nt = pairTiles(W, OW, p.pl);
  if (nt > 0) pairWeights(w, Co);
  const lo = p.qMin,
    hi = p.qMax;
  const fs = uniformShift<R>(qc, Co, Co);
  // R = f32 at [−128, 127] with every |acc|·scale ≤ 2^23 (K = 27): the 4×8 tile's clamp-free fp32 epilogue
  const fp32n = isFloat<R>() && lo == -128 && hi == 127 && fp32Bounded(qc, Co, Co, 27);
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>(n * H * W * 3),
      yn = y + <usize>n * <usize>(OH * OW * Co);
    if (fp32n) pixels<R, EpiFp32N>(xn, qc, yn, H, W, OH, OW, Co, p.pt, p.pl, zpIn, zpOut, lo, hi, 0, nt);
    else if (fs == 0) pixels<R, EpiGeneral>(xn, qc, yn, H, W, OH, OW, Co, p.pt, p.pl, zpIn, zpOut, lo, hi, 0, nt);
    else if (lo > -128 || hi < 127)
      pixels<R, EpiHighClamp>(xn, qc, yn, H, W, OH, OW, Co, p.pt, p.pl, zpIn, zpOut, lo, hi, fs, nt);
    else pixels<R, EpiHigh>(xn, qc, yn, H, W, OH, OW, Co, p.pt, p.pl, zpIn, zpOut, lo, hi, fs, nt);
  }
}

/** Output pixel (ih0, iw0: its top-left tap) of one image as 27 i16 taps at d. */
// @ts-ignore: decorator
@inline function widenPixel(x: usize, H: i32, W: i32, ih0: i32, iw0: i32, zp: i32, d: usize): void {
  if (ih0 >= 0 && ih0 + 3 <= H && iw0 >= 0 && iw0 + 3 <= W) {
    widenTaps(x + <usize>((ih0 * W + iw0) * 3), <usize>(W * 3), d);
  } else {
    widenBorderPixel(x, H, W, ih0, iw0, zp, d);
  }
}

/** widenPixel's inside path for 4 pixels of one output row: the first one's top-left tap at s, input rows rs apart. */
// @ts-ignore: decorator
@inline function widenInside(s: usize, rs: usize, d: usize): void {
  widenTaps(s, rs, d);
  widenTaps(s + 6, rs, d + ROW);
  widenTaps(s + 12, rs, d + 2 * ROW);
  widenTaps(s + 18, rs, d + 3 * ROW);
}

/** One pixel's 27 taps from its top-left one at s (every tap inside the image) to d. */
// @ts-ignore: decorator
@inline function widenTaps(s: usize, rs: usize, d: usize): void {
  // per kernel row 9 bytes: taps 0–7 and 1–8, the second store rewriting 7 of the first's with the same values
  v128.store(d, v128.load8x8_s(s));
  v128.store(d, v128.load8x8_s(s, 1), 2);
  v128.store(d, v128.load8x8_s(s + rs), 18);
  v128.store(d, v128.load8x8_s(s + rs, 1), 20);
  v128.store(d, v128.load8x8_s(s + 2 * rs), 36);
  v128.store(d, v128.load8x8_s(s + 2 * rs, 1), 38);
}

/** widenPixel for a pixel with taps outside the image (zp there). */
function widenBorderPixel(x: usize, H: i32, W: i32, ih0: i32, iw0: i32, zp: i32, d: usize): void {
  for (let kh = 0; kh < 3; kh++) {
    const ih = ih0 + kh;
    for (let kw = 0; kw < 3; kw++) {
      const iw = iw0 + kw;
      const e = d + <usize>((kh * 9 + kw * 3) << 1);
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
        store<i16>(e, <i16>zp);
        store<i16>(e, <i16>zp, 2);
        store<i16>(e, <i16>zp, 4);
      } else {
        const s = x + <usize>((ih * W + iw) * 3);
        store<i16>(e, <i16>load<i8>(s));
        store<i16>(e, <i16>load<i8>(s, 1), 2);
        store<i16>(e, <i16>load<i8>(s, 2), 4);
      }
    }
  }
}

/** Every output pixel of one image, epilogue E: per two output rows with every tap inside nt quad tiles (quadRow),
 *  per lone such row nt pixel-pair tiles (pairRow), the rest 4 at a time (tiles). */
function pixels<R, E>(
  x: usize,
  qc: usize,
  y: usize,
  H: i32,
  W: i32,
  OH: i32,
  OW: i32,
  Co: i32,
  pt: i32,
  pl: i32,
  zpIn: i32,
  zp: i32,
  lo: i32,
  hi: i32,
  fs: i32,
  nt: i32,
): void {
  const M = OH * OW;
  // pixels from pend on are left for tiles
  let pend = 0;
  if (nt > 0) {
    const wa = (pl + 1) >> 1;
    for (let oh = 0; oh < OH;) {
      const ih0 = oh * 2 - pt;
      if (ih0 < 0 || ih0 + 3 > H) {
        oh++;
        continue;
      }
      const m0 = oh * OW + wa;
      if (m0 > pend) tiles<R, E>(x, qc, y, H, W, OW, Co, pt, pl, zpIn, zp, lo, hi, fs, pend, m0);
      const s = x + <usize>((ih0 * W + 2 * wa - pl) * 3);
      if (oh + 1 < OH && ih0 + 5 <= H) {
        // rows oh, oh + 1 in quads; then row oh's tail and row oh + 1's head
        quadRow<R, E>(s, <usize>(W * 3), y + <usize>m0 * <usize>Co, <usize>(OW * Co), nt, qc, Co, zp, lo, hi, fs);
        pend = m0 + 8 * nt;
        if (8 * nt < OW) tiles<R, E>(x, qc, y, H, W, OW, Co, pt, pl, zpIn, zp, lo, hi, fs, pend, m0 + OW);
        pend = m0 + OW + 8 * nt;
        oh += 2;
      } else {
        pairRow<R, E>(s, <usize>(W * 3), y + <usize>m0 * <usize>Co, nt, qc, Co, zp, lo, hi, fs);
        pend = m0 + 8 * nt;
        oh++;
      }
    }
  }
  if (pend < M) tiles<R, E>(x, qc, y, H, W, OW, Co, pt, pl, zpIn, zp, lo, hi, fs, pend, M);
}

/** Output pixels m0..m1 − 1 of one image, 4 at a time (a last tile short of 4 repeats pixel m1 − 1), epilogue E. */
function tiles<R, E>(
  x: usize,
  qc: usize,
  y: usize,
  H: i32,
  W: i32,
  OW: i32,
  Co: i32,
  pt: i32,
  pl: i32,
  zpIn: i32,
  zp: i32,
  lo: i32,
  hi: i32,
  fs: i32,
  m0: i32,
  m1: i32,
): void {
  // the 4×8 tile's epilogue ids (qs8-gemm-4x8c2-wasmsimd.ts); constant per instance
  const epi = stemEpi<E>();
  const t = fs - 32;
  const rz = i32x4.splat(fs ? (1 << (fs - 33)) + zp * (1 << (fs - 32)) : 0);
  const lo8 = i8x16.splat(<i8>lo),
    hi8 = i8x16.splat(<i8>hi);
  // R = f32: requantFp32m's constants (qs8-requant.ts)
  const vmin = fp32mMin(zp, lo),
    vzp = fp32mZp(zp);
  const wEnd = wideW + <usize>(Co * ROW);
  let oh = m0 / OW,
    ow = m0 - oh * OW;
  for (let m = m0; m < m1; m += 4) {
    // the tile's 4 pixel rows; (oh, ow) walks pixel m + j, staying on the last pixel past m1
    const ih0 = oh * 2 - pt,
      iw0 = ow * 2 - pl;
    if (ow + 4 <= OW && ih0 >= 0 && ih0 + 3 <= H && iw0 >= 0 && iw0 + 9 <= W && m + 4 <= m1) {
      // 4 pixels of one output row, every tap inside: pixel j's taps 6·j bytes on (no per-pixel checks)
      widenInside(x + <usize>((ih0 * W + iw0) * 3), <usize>(W * 3), tile);
      ow += 4;
      if (ow == OW) {
        ow = 0;
        oh++;
      }
    } else {
      let d = tile;
      for (let j = 0; j < 4; j++) {
        widenPixel(x, H, W, oh * 2 - pt, ow * 2 - pl, zpIn, d);
        d += ROW;
        if (m + j + 1 < m1 && ++ow == OW) {
          ow = 0;
          oh++;
        }
      }
    }
    const y0 = y + <usize>m * <usize>Co;
    const yl = y + <usize>(m1 - 1) * <usize>Co;
    const y1 = m + 1 < m1 ? y0 + <usize>Co : yl,
      y2 = m + 2 < m1 ? y0 + <usize>(2 * Co) : yl,
      y3 = m + 3 < m1 ? y0 + <usize>(3 * Co) : yl;
    let q = wideW,
      n = 0;
    while (q < wEnd) {
      const qe = q + <usize>(14 * 32);
      const b0 = v128.load(qc + ((<usize>n) << 2)),
        b1 = v128.load(qc + ((<usize>n) << 2), 16);
      let c00 = b0,
        c01 = b1,
        c10 = b0,
        c11 = b1,
        c20 = b0,
        c21 = b1,
        c30 = b0,
        c31 = b1;
      let s = tile;
      while (q < qe) {
        // one k pair per trip: two per trip had V8 load all 12 operands first and spill accumulators (1.19× slower)
        const wl = v128.load(q),
          wh = v128.load(q, 16);
        const x0 = v128.load32_splat(s);
        c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
        c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
        const x1 = v128.load32_splat(s, ROW);
        c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
        c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
        const x2 = v128.load32_splat(s, 2 * ROW);
        c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
        c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
        const x3 = v128.load32_splat(s, 3 * ROW);
        c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
        c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
        q += 32;
        s += 4;
      }
      const mp = qc + ((<usize>(Co + n)) << 2);
      const m0 = v128.load(mp),
        m1 = v128.load(mp, 16);
      const v01 = requantRows2<R>(epi, c00, c01, c10, c11, qc, Co, n, m0, m1, rz, t, lo8, hi8, vmin, vzp, zp, lo, hi);
      const v23 = requantRows2<R>(epi, c20, c21, c30, c31, qc, Co, n, m0, m1, rz, t, lo8, hi8, vmin, vzp, zp, lo, hi);
      v128.store64_lane(y0 + <usize>n, v01, 0);
      v128.store64_lane(y1 + <usize>n, v01, 1);
      v128.store64_lane(y2 + <usize>n, v23, 0);
      v128.store64_lane(y3 + <usize>n, v23, 1);
      n += 8;
    }
  }
}
