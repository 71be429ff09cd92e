// The quads' taps and weights (qs8-conv2d-3x3s2c3-quads-wasmsimd.ts: the stem's output pixels 2 × 2 at a time).
// Per quad (output rows r, r + 1 × columns c, c + 1) QROW bytes of i16 taps, 9 groups hv in the quad k loop's order
// BA' BC' BB' AB' AA' AC' CB' CA' CC' (h: A, B, C along the row on the row terms of v: A' = V0 with kernel row 0, V1
// with row 1; B' = V2 with rows 0 + 2; C' = V3 with row 2, V4 with row 1). Along a row term with kernel row w0 w1 w2
// (kw = 0, 1, 2) over input columns E0 O0 E1 O1 E2: A = [E0 − E1 (w0), O0 (w1)], B = [E1 (w0 + w2)], C = [E2 − E1
// (w2), O1 (w1)], 3 channels each. The weights: each slot's sum over the kernel taps it stands for, per 8-column block
// [38][8][2] i16 in wideQ, made by quadWeights when the packed weights change (pairWeights).

import { EPI_GENERAL, EPI_HIGH, EPI_HIGH_CLAMP, EPI_FP32N, requantRows2 } from '../gemm/qs8-gemm-4x8c2-wasmsimd';
/** Widest output (as the stem kernel's STEM_MAX_CO). */
const QUADS_MAX_CO = 64;
/** i16 bytes of one quad's taps (38 k pairs). */
export const QROW = 152;
/** Bytes of one 8-column block's transformed weights (38 k pairs × 8 columns × 2 i16). */
export const BLOCKQ = 38 * 32;
/** Heap blocks, made on the first call (the threaded build's workers make their own: each instance its heap). */
export let wideQ: usize = 0;
export let rowQ: usize = 0;
/** 5 kept sets of 8 accumulators: BA', BC', S1, S2, S3. */
export let keepQ: usize = 0;

function aligned(bytes: i32): usize {
  return (heap.alloc(<usize>bytes + 16) + 15) & ~(<usize>15);
}

/** Weight of tap (kh, kw, ci) = k in the packed i8 block q ([14][8][2]; k = 27 is zero), column c. */
// @ts-ignore: decorator
@inline function wAt(q: usize, k: i32, c: i32): i32 {
  return <i32>load<i8>(q + <usize>((k >> 1) * 16 + c * 2 + (k & 1)));
}

/** Per segment (BA' BC' BB' AB' AA' AC' CB' CA' CC'): its first tap slot, horizontal and vertical types. */
/** 0 6 12 16 22 34 46 52 64, 7 bits each from the low end */
const SEG_START: u64 = 0x4068b91162030300;
const SEG_H: i32 = 1 | (1 << 2) | (1 << 4) | (0 << 6) | (0 << 8) | (0 << 10) | (2 << 12) | (2 << 14) | (2 << 16);
const SEG_V: i32 = 0 | (2 << 2) | (1 << 4) | (1 << 6) | (0 << 8) | (2 << 10) | (1 << 12) | (0 << 14) | (2 << 16);

/** The weight of quad tap slot t (0..75) for column c of block q: a sum over the kernel taps it stands for. */
function slotWeight(q: usize, t: i32, c: i32): i32 {
  // segment g of slot t (starts 0 6 12 16 22 34 46 52 64, 7 bits each): horizontal type h (0 A, 1 B, 2 C) on the
  // row terms of vertical type v (0 A', 1 B', 2 C'), 2 bits each; j: the tap within the segment
  let g = 0;
  while (g < 8 && <i32>((SEG_START >> (<u64>(g + 1) * 7)) & 127) <= t) g++;
  const h = (SEG_H >> (g << 1)) & 3,
    v = (SEG_V >> (g << 1)) & 3,
    j = t - <i32>((SEG_START >> (<u64>g * 7)) & 127);
  // the row term: v = 0 (A'): kernel rows 0 then 1; v = 1 (B'): rows 0 + 2; v = 2 (C'): rows 2 then 1
  const per = h == 1 ? 3 : 6;
  const term = j / per,
    i = j - term * per;
  // B' has one row term (BB's 4th tap: weight zero)
  if (v == 1 && term > 0) return 0;
  let r0 = 0,
    r1 = -1;
  if (v == 0) r0 = term == 0 ? 0 : 1;
  else if (v == 1) r1 = 2;
  else r0 = term == 0 ? 2 : 1;
  // the kernel columns of tap i: A: i < 3 kw 0 (E0 − E1), else kw 1 (O0); B: kw 0 + kw 2 (E1); C: kw 2, else kw 1
  let k0 = 0,
    k1 = -1;
  if (h == 0) k0 = i < 3 ? 0 : 1;
  else if (h == 1) {
    k0 = 0;
    k1 = 2;
  } else k0 = i < 3 ? 2 : 1;
  const ci = i < 3 ? i : i - 3;
  let s = wAt(q, r0 * 9 + k0 * 3 + ci, c);
  if (k1 >= 0) s += wAt(q, r0 * 9 + k1 * 3 + ci, c);
  if (r1 >= 0) {
    s += wAt(q, r1 * 9 + k0 * 3 + ci, c);
    if (k1 >= 0) s += wAt(q, r1 * 9 + k1 * 3 + ci, c);
  }
  return s;
}

/** The packed weights w (Co/8 blocks [14][8][2] i8) as the quads' 38 k pairs [38][8][2] i16 per block in wideQ
 *  (pairWeights calls it when its weights change). */
export function quadWeights(w: usize, Co: i32): void {
  if (wideQ == 0) {
    wideQ = aligned((QUADS_MAX_CO / 8) * BLOCKQ);
    rowQ = aligned(4 * QROW + 16);
    keepQ = aligned(5 * 128);
  }
  for (let b = 0; b < Co >> 3; b++) {
    const q = w + <usize>(b * 224),
      d = wideQ + <usize>(b * BLOCKQ);
    for (let t = 0; t < 76; t++) {
      const e = d + <usize>((t >> 1) * 32 + (t & 1) * 2);
      for (let c = 0; c < 8; c++) store<i16>(e + <usize>(c * 4), <i16>slotWeight(q, t, c));
    }
  }
}

/** A and C taps of a row term from its columns widened from E0 (p), E1 (m), E2 (t) on: [E0 − E1, O0], [E2 − E1, O1];
 *  B's are m's first 3 lanes. */
// @ts-ignore: decorator
@inline function aOf(p: v128, m: v128): v128 {
  return v128.shuffle<i16>(i16x8.sub(p, m), p, 0, 1, 2, 11, 12, 13, 14, 15);
}
// @ts-ignore: decorator
@inline function cOf(m: v128, t: v128): v128 {
  return v128.shuffle<i16>(i16x8.sub(t, m), m, 0, 1, 2, 11, 12, 13, 14, 15);
}

/** One quad's taps from its top-left input byte s (input rows rs bytes apart) to d (QROW bytes), stores in address
 *  order (each 16-byte store's tail rewritten by the next; BB's 4th tap, weight zero, is a neighbour's value). */
// @ts-ignore: decorator
@inline export function quadTaps(s: usize, rs: usize, d: usize): void {
  const p2 = v128.load8x8_s(s + 2 * rs),
    m2 = v128.load8x8_s(s + 2 * rs, 6),
    t2 = v128.load8x8_s(s + 2 * rs, 12);
  // V0 = R0 − R2, V3 = R4 − R2; V1 = R1, V4 = R3, V2 = R2
  const p0 = i16x8.sub(v128.load8x8_s(s), p2),
    m0 = i16x8.sub(v128.load8x8_s(s, 6), m2),
    t0 = i16x8.sub(v128.load8x8_s(s, 12), t2);
  const p1 = v128.load8x8_s(s + rs),
    m1 = v128.load8x8_s(s + rs, 6),
    t1 = v128.load8x8_s(s + rs, 12);
  const p3 = i16x8.sub(v128.load8x8_s(s + 4 * rs), p2),
    m3 = i16x8.sub(v128.load8x8_s(s + 4 * rs, 6), m2),
    t3 = i16x8.sub(v128.load8x8_s(s + 4 * rs, 12), t2);
  const p4 = v128.load8x8_s(s + 3 * rs),
    m4 = v128.load8x8_s(s + 3 * rs, 6),
    t4 = v128.load8x8_s(s + 3 * rs, 12);
  // BA' (B of V0, V1), BC' (V3, V4), BB' (V2)
  v128.store(d, m0);
  v128.store(d, m1, 6);
  v128.store(d, m3, 12);
  v128.store(d, m4, 18);
  v128.store(d, m2, 24);
  // AB' (V2), AA' (V0, V1), AC' (V3, V4)
  v128.store(d, aOf(p2, m2), 32);
  v128.store(d, aOf(p0, m0), 44);
  v128.store(d, aOf(p1, m1), 56);
  v128.store(d, aOf(p3, m3), 68);
  v128.store(d, aOf(p4, m4), 80);
  // CB' (V2), CA' (V0, V1), CC' (V3, V4)
  v128.store(d, cOf(m2, t2), 92);
  v128.store(d, cOf(m0, t0), 104);
  v128.store(d, cOf(m1, t1), 116);
  v128.store(d, cOf(m3, t3), 128);
  v128.store(d, cOf(m4, t4), 140);
}

/** 8 accumulators to d (a kept set, 128 bytes). */
// @ts-ignore: decorator
@inline export function keep8(d: usize, a: v128, b: v128, c: v128, e: v128, f: v128, g: v128, h: v128, i: v128): void {
  v128.store(d, a);
  v128.store(d, b, 16);
  v128.store(d, c, 32);
  v128.store(d, e, 48);
  v128.store(d, f, 64);
  v128.store(d, g, 80);
  v128.store(d, h, 96);
  v128.store(d, i, 112);
}

/** The stem's 4 × 8 outputs as requantRows2 gives them (rows a, b, c, d: accumulators c00 … c31 of 8 columns),
 *  stored 8 bytes each at yp, yp + 2·co, yp + 4·co, yp + 6·co (the pairs' and quads' output pixels). */
// @ts-ignore: decorator
@inline export function requantStore4<R>(
  epi: i32,
  c00: v128,
  c01: v128,
  c10: v128,
  c11: v128,
  c20: v128,
  c21: v128,
  c30: v128,
  c31: v128,
  qc: usize,
  Co: i32,
  n: i32,
  m0: v128,
  m1: v128,
  rz: v128,
  t: i32,
  lo8: v128,
  hi8: v128,
  vmin: v128,
  vzp: v128,
  zp: i32,
  lo: i32,
  hi: i32,
  yp: usize,
  co: usize,
): void {
  // prettier-ignore
  const v01 = requantRows2<R>(epi, c00, c01, c10, c11, qc, Co, n, m0, m1, rz, t, lo8, hi8, vmin, vzp, zp, lo, hi);
  // prettier-ignore
  const v23 = requantRows2<R>(epi, c20, c21, c30, c31, qc, Co, n, m0, m1, rz, t, lo8, hi8, vmin, vzp, zp, lo, hi);
  v128.store64_lane(yp, v01, 0);
  v128.store64_lane(yp + 2 * co, v01, 1);
  v128.store64_lane(yp + 4 * co, v23, 0);
  v128.store64_lane(yp + 6 * co, v23, 1);
}

/** The 4×8 tile's epilogue id (qs8-gemm-4x8c2-wasmsimd.ts) of the stem's epilogue type E (qs8-conv2d-3x3s2c3-wasmsimd.ts:
 *  EpiGeneral u8, EpiHigh u16, EpiHighClamp u32, EpiFp32N u64); a constant in every instance. */
// @ts-ignore: decorator
@inline export function stemEpi<E>(): i32 {
  return sizeof<E>() == 1 ? EPI_GENERAL : sizeof<E>() == 2 ? EPI_HIGH : sizeof<E>() == 4 ? EPI_HIGH_CLAMP : EPI_FP32N;
}
