// The stem's output pixels two at a time (qs8-conv2d-3x3s2c3-wasmsimd.ts, simd build): F(2, 2) along each kernel row.
// Output pixels 2p, 2p + 1 of one output row read input columns E0 O0 E1 O1 E2 (3 channels each) of each kernel row
// kh, with weights w0, w1, w2 (kw = 0, 1, 2); per (kh, ci):
//   y(2p)     = w0·E0 + w1·O0 + w2·E1 = [w0·(E0 − E1) + w1·O0] + (w0 + w2)·E1 = A + B
//   y(2p + 1) = w0·E1 + w1·O1 + w2·E2 = (w0 + w2)·E1 + [w2·(E2 − E1) + w1·O1] = B + C
// an integer identity, so the sums (and the bytes) are im2col + GEMM's. A and C take 18 taps (9 k pairs) each, B 9
// (5 pairs, the 10th tap's weight zero): 23 k pairs per two pixels where the tile of qs8-conv2d-3x3s2c3-wasmsimd.ts
// runs 28. Exact in i16 lanes: E0 − E1 and E2 − E1 in [−255, 255], w0 + w2 in [−256, 254]; each product of
// `i32x4.dot_i16x8_s` at most 2^15 in magnitude ((−256)·(−128)), a pair's sum exact in its i32 lane.
// A tile: 4 pixel pairs (8 output pixels of one row, every tap inside the image, the 8-byte loads too) × 8 columns:
// B's 5 pairs from the bias into 8 accumulators, kept aside; A's 9 on from them give the even pixels, requantised;
// C's 9 on from B again the odd ones. The weights are transformed once per call (wideT), the tile's taps once per tile
// (rowT: per pixel pair B, A, C, ROWT bytes) and every 8-column block runs over them.
import { fp32mMin, fp32mZp } from '../gemm/qs8-requant';
import { quadWeights, requantStore4, stemEpi } from './qs8-conv2d-3x3s2c3-quadtaps-wasmsimd';

/** Widest output (as the stem kernel's STEM_MAX_CO). */
const PAIRS_MAX_CO = 64;
/** k pairs per 8-column block: B, A, C. */
const KB = 5;
const KA = 9;
const KC = 9;
/** i16 bytes of one pixel pair's taps: B (10 taps), A (18), C (18). */
export const ROWT = 92;
/** Bytes of one 8-column block's transformed weights (23 k pairs × 8 columns × 2 i16). */
const BLOCKT = (KB + KA + KC) * 32;
/** Static in the simd build only (the relaxed build runs its own stem tile). */
const PAIRS_STATIC = ASC_FEATURE_SIMD && !ASC_FEATURE_RELAXED_SIMD;
let wideT: usize = PAIRS_STATIC ? memory.data((PAIRS_MAX_CO / 8) * BLOCKT, 16) : 0;
/** 4 pixel pairs' taps; the last 16-byte store writes 4 bytes past them. */
let rowT: usize = PAIRS_STATIC ? memory.data(4 * ROWT + 16, 16) : 0;
/** B's 8 accumulators while A runs. */
let keepB: usize = PAIRS_STATIC ? memory.data(128, 16) : 0;
/** The packed weights wideT was made from (Co·28 bytes) and their Co; 0: none yet. */
let lastW: usize = PAIRS_STATIC ? memory.data(PAIRS_MAX_CO * 28, 16) : 0;
let lastCo: i32 = 0;

/** Threaded build: a worker instance's own buffers (privateStemBuffers). */
export function privatePairBuffers(): void {
  wideT = (heap.alloc((PAIRS_MAX_CO / 8) * BLOCKT + 16) + 15) & ~(<usize>15);
  rowT = (heap.alloc(4 * ROWT + 32) + 15) & ~(<usize>15);
  keepB = (heap.alloc(128 + 16) + 15) & ~(<usize>15);
  lastW = (heap.alloc(PAIRS_MAX_CO * 28 + 16) + 15) & ~(<usize>15);
  lastCo = 0;
}

/** Pixel-pair tiles that fit one output row: the first at output column wa = ⌈pl / 2⌉ (its first tap column
 *  2·wa − pl ≥ 0), tile t at input column iw0 = 2·wa − pl + 16·t, whose 8-byte loads end inside the row while
 *  iw0 + 19 ≤ W (the last tap column is iw0 + 16). */
export function pairTiles(W: i32, OW: i32, pl: i32): i32 {
  const wa = (pl + 1) >> 1;
  const room = W - 19 - (2 * wa - pl);
  return room < 0 || OW < wa ? 0 : min(room / 16 + 1, (OW - wa) >> 3);
}

/** tap k (kh·9 + kw·3 + ci) of column c in the packed i8 block q ([14][8][2]; k = 27 is zero) */
// @ts-ignore: decorator
@inline function wAt(q: usize, k: i32, c: i32): i32 {
  return <i32>load<i8>(q + <usize>((k >> 1) * 16 + c * 2 + (k & 1)));
}

/** The packed weights w (Co/8 blocks [14][8][2] i8) as B, A, C k pairs [23][8][2] i16 per block in wideT; kept
 *  while the next call's weights are the same bytes (a model runs its stem on the same weights every time; the check
 *  is 16 bytes a step, the transform ~1 % of the stem). */
export function pairWeights(w: usize, Co: i32): void {
  const bytes = <usize>(Co * 28);
  if (Co == lastCo) {
    let diff = i8x16.splat(0);
    for (let o: usize = 0; o < bytes; o += 16) diff = v128.or(diff, v128.xor(v128.load(w + o), v128.load(lastW + o)));
    if (!v128.any_true(diff)) return;
  }
  memory.copy(lastW, w, bytes);
  lastCo = Co;
  quadWeights(w, Co);
  for (let b = 0; b < Co >> 3; b++) {
    const q = w + <usize>(b * 224),
      d = wideT + <usize>(b * BLOCKT);
    for (let s = 0; s < 46; s++) {
      // tap s of a pair's row: B (w0 + w2 of (kh, ci) = s / 3, s % 3; s = 9 zero), A (w0 then w1 of kh), C (w2, w1)
      let k1 = 27,
        k2 = 27;
      if (s < 9) {
        k1 = (s / 3) * 9 + (s % 3);
        k2 = k1 + 6;
      } else if (s >= 10 && s < 28) {
        k1 = ((s - 10) / 6) * 9 + ((s - 10) % 6);
      } else if (s >= 28) {
        const r = (s - 28) % 6;
        k1 = ((s - 28) / 6) * 9 + (r < 3 ? r + 6 : r);
      }
      const e = d + <usize>((s >> 1) * 32 + (s & 1) * 2);
      for (let c = 0; c < 8; c++) store<i16>(e + <usize>(c * 4), <i16>(wAt(q, k1, c) + wAt(q, k2, c)));
    }
  }
}

/** One pixel pair's taps from its kernel rows' first input column at s (rows rs bytes apart) to d (ROWT bytes):
 *  B at 0 (E1 per kh, 6 bytes apart), A at 20 ([E0 − E1, O0] per kh, 12 apart), C at 56 ([E2 − E1, O1]); each
 *  16-byte store's tail is rewritten by the next (stores in address order), B's last tap (weight zero) is O1's. */
// @ts-ignore: decorator
@inline function pairTaps(s: usize, rs: usize, d: usize): void {
  const l00 = v128.load8x8_s(s),
    l06 = v128.load8x8_s(s, 6),
    l0c = v128.load8x8_s(s, 12);
  const l10 = v128.load8x8_s(s + rs),
    l16 = v128.load8x8_s(s + rs, 6),
    l1c = v128.load8x8_s(s + rs, 12);
  const l20 = v128.load8x8_s(s + 2 * rs),
    l26 = v128.load8x8_s(s + 2 * rs, 6),
    l2c = v128.load8x8_s(s + 2 * rs, 12);
  v128.store(d, l06);
  v128.store(d, l16, 6);
  v128.store(d, l26, 12);
  v128.store(d, v128.shuffle<i16>(i16x8.sub(l00, l06), l00, 0, 1, 2, 11, 12, 13, 14, 15), 20);
  v128.store(d, v128.shuffle<i16>(i16x8.sub(l10, l16), l10, 0, 1, 2, 11, 12, 13, 14, 15), 32);
  v128.store(d, v128.shuffle<i16>(i16x8.sub(l20, l26), l20, 0, 1, 2, 11, 12, 13, 14, 15), 44);
  v128.store(d, v128.shuffle<i16>(i16x8.sub(l0c, l06), l06, 0, 1, 2, 11, 12, 13, 14, 15), 56);
  v128.store(d, v128.shuffle<i16>(i16x8.sub(l1c, l16), l16, 0, 1, 2, 11, 12, 13, 14, 15), 68);
  v128.store(d, v128.shuffle<i16>(i16x8.sub(l2c, l26), l26, 0, 1, 2, 11, 12, 13, 14, 15), 80);
}

/**
 * nt pixel-pair tiles of output row y (y: its first tile's first pixel, Co bytes each; x: that pixel's top-left tap),
 * input rows rs bytes apart; epilogue E as in pixels (qs8-conv2d-3x3s2c3-wasmsimd.ts), wideT from pairWeights.
 */
export function pairRow<R, E>(
  x: usize,
  rs: usize,
  y: usize,
  nt: i32,
  qc: usize,
  Co: i32,
  zp: i32,
  lo: i32,
  hi: i32,
  fs: i32,
): void {
  const epi = stemEpi<E>();
  const t = fs - 32;
  const rz = i32x4.splat(fs ? (1 << (fs - 33)) + zp * (1 << (fs - 32)) : 0);
  const lo8 = i8x16.splat(<i8>lo),
    hi8 = i8x16.splat(<i8>hi);
  const vmin = fp32mMin(zp, lo),
    vzp = fp32mZp(zp);
  const wEnd = wideT + <usize>((Co >> 3) * BLOCKT);
  const co = <usize>Co;
  for (let i = 0; i < nt; i++) {
    pairTaps(x, rs, rowT);
    pairTaps(x + 12, rs, rowT + ROWT);
    pairTaps(x + 24, rs, rowT + 2 * ROWT);
    pairTaps(x + 36, rs, rowT + 3 * ROWT);
    let q = wideT,
      n = 0;
    while (q < wEnd) {
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
      const mp = qc + ((<usize>(Co + n)) << 2);
      let s = rowT;
      // part 0: B (5 k pairs) into c, kept; 1: A on from B, the even pixels; 2: C on from B, the odd ones
      let qe = q + <usize>(KB * 32);
      for (let part = 0; part < 3; part++) {
        while (q < qe) {
          const wl = v128.load(q),
            wh = v128.load(q, 16);
          const x0 = v128.load32_splat(s);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wl));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wh));
          const x1 = v128.load32_splat(s, ROWT);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wl));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wh));
          const x2 = v128.load32_splat(s, 2 * ROWT);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, wl));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, wh));
          const x3 = v128.load32_splat(s, 3 * ROWT);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, wl));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, wh));
          q += 32;
          s += 4;
        }
        if (part == 0) {
          v128.store(keepB, c00);
          v128.store(keepB, c01, 16);
          v128.store(keepB, c10, 32);
          v128.store(keepB, c11, 48);
          v128.store(keepB, c20, 64);
          v128.store(keepB, c21, 80);
          v128.store(keepB, c30, 96);
          v128.store(keepB, c31, 112);
          qe = q + <usize>(KA * 32);
        } else {
          // pixel pair j's pixel 2j + part − 1
          const m0 = v128.load(mp),
            m1 = v128.load(mp, 16);
          // prettier-ignore
          requantStore4<R>(epi, c00, c01, c10, c11, c20, c21, c30, c31, qc, Co, n, m0, m1, rz, t, lo8, hi8, vmin, vzp, zp, lo, hi,
                           y + <usize>n + (part == 1 ? 0 : co), co);
          if (part == 1) {
            c00 = v128.load(keepB);
            c01 = v128.load(keepB, 16);
            c10 = v128.load(keepB, 32);
            c11 = v128.load(keepB, 48);
            c20 = v128.load(keepB, 64);
            c21 = v128.load(keepB, 80);
            c30 = v128.load(keepB, 96);
            c31 = v128.load(keepB, 112);
            qe = q + <usize>(KC * 32);
          }
        }
      }
      n += 8;
    }
    x += 48;
    y += 8 * co;
  }
}
