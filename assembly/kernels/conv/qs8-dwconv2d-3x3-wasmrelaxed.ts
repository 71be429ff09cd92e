// qs8 depthwise 3×3 in the relaxed build (M = 1, dilation 1, stride 1 or 2 across, any stride down, C a multiple of 8),
// for engines whose relaxed dot is exact on full-range operands (dot mode usdot / sdot, qs8-gemm-4x8c4-wasmrelaxed.ts;
// 'split' engines run the simd kernel, qs8-dwconv2d.ts). Same contract and bytes as the simd and scalar builds:
// y[oh, ow, c] = requant(bias[c] + Σ in-bounds taps (x − zp_in)·w), integer-exact (assembly/reference/qs8.ts).
// ONE i32x4.relaxed_dot_i8x16_i7x16_add_s per kernel row per 4 channels per pixel: lane c sums 4 bytes, the row's 3
// taps and a zero weight. Each input row is turned once into a "window" row [C/8][OWr][2][4 ch][4 bytes]: for output
// pixel ow and channel c the 4 input bytes x[ow·sw + 0..3, c] (out-of-bounds taps zp_in, from a padded copy of the row),
// so a pixel's 8 channels are 3 rows × two 16-byte loads and 6 dots. Built per 4 input columns × 16 channels: a 4×4
// byte transpose (8 unpacks) gives the windows of columns 0 and (via i32 lane shifts with the next 4 columns'
// transpose) 1, 2, 3; the last 3 window rows stay in a ring (each input row is built once per image, read by ≤ 3
// output rows). Weights per call as [C/8][3 rows][2][4 ch][w0 w1 w2 0]. usdot (the second operand read as u8): the
// windows hold u = x ^ 0x80 = x + 128, and the accumulators start at bias − (zp_in + 128)·Σ9 w, so Σ w·u − 128·Σw −
// zp_in·Σw = Σ w·(x − zp_in) (padded taps hold zp_in: a zero term) mod 2^32 like the reference's i32 sums; sdot: x as
// is, bias − zp_in·Σw. Requantisation: the GEMM's store8 per 8 channels (one shift 33..54 in i32, else requant4At).
import { StepParams } from '../../bundle/model';
import { store8 } from '../gemm/qs8-gemm-4x8c2-wasmsimd';
import { getDotMode, requantHigh8, DOT_SPLIT, DOT_USDOT } from '../gemm/qs8-gemm-4x8c4-wasmrelaxed';

/** Largest window row (OWr·C·4 bytes) taken; larger steps run the simd kernel. The ring is 3 of them. */
const WIN_ROW_MAX = 1 << 18;
/** Ring of 3 window rows, the padded byte row, the packed weights (+ biases, shifts): heap blocks, grown, kept. */
let WIN: usize = 0;
let winBytes: i32 = 0;
let PAD: usize = 0;
let padBytes: i32 = 0;
let WQ: usize = 0;
let wqBytes: i32 = 0;
/** Input row each ring slot holds (−2^31: none). */
let tag0: i32 = 0,
  tag1: i32 = 0,
  tag2: i32 = 0;

/** A 16-aligned heap block of at least `need` bytes: `cur` if large enough, else a new one. */
function grow(cur: usize, have: i32, need: i32): usize {
  return need <= have ? cur : (heap.alloc(<usize>need + 16) + 15) & ~(<usize>15);
}

/** Runs the step and returns true, or returns false (nothing written) when it is not this kernel's. */
export function dwconv2dQs8Relaxed3x3<R>(
  x: usize,
  w: usize,
  qc: usize,
  y: usize,
  N: i32,
  H: i32,
  W: i32,
  C: i32,
  OH: i32,
  OW: i32,
  p: StepParams,
  zpIn: i32,
  zpOut: i32,
): bool {
  if (!ASC_FEATURE_RELAXED_SIMD) return false;
  const mode = getDotMode();
  const sw = p.sw;
  if (mode == DOT_SPLIT || p.mult != 1 || p.kh != 3 || p.kw != 3 || p.dh != 1 || p.dw != 1) return false;
  if ((sw != 1 && sw != 2) || p.sh < 1 || C < 8 || (C & 7) != 0 || OW <= 0 || OH <= 0) return false;
  const owr = (OW + 3) & ~3;
  if (<i64>owr * <i64>C * 4 > WIN_ROW_MAX) return false;
  const rowBytes = owr * C * 4,
    pw = sw * owr + 4;
  WIN = grow(WIN, winBytes, 3 * rowBytes);
  winBytes = max(winBytes, 3 * rowBytes);
  PAD = grow(PAD, padBytes, pw * C + 16);
  padBytes = max(padBytes, pw * C + 16);
  const wq = C * 12 + C * 4 + (C >> 3) * 4;
  WQ = grow(WQ, wqBytes, wq);
  wqBytes = max(wqBytes, wq);
  const us = mode == DOT_USDOT;
  packWeights<R>(w, qc, C, zpIn + (us ? 128 : 0), zpOut);
  const flip = i8x16.splat(us ? -128 : 0);
  const G = C >> 3,
    bias = WQ + <usize>(C * 12),
    shifts = bias + <usize>(C * 4);
  const lov = i16x8.splat(<i16>p.qMin),
    hiv = i16x8.splat(<i16>p.qMax);
  const gs = (<usize>owr) << 5;
  for (let n = 0; n < N; n++) {
    tag0 = tag1 = tag2 = i32.MIN_VALUE;
    const yn = y + <usize>n * <usize>OH * <usize>OW * <usize>C;
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * p.sh - p.pt;
      const r0 = windowRow(x, n, H, W, C, ih0, -p.pl, pw, sw, owr, zpIn, flip, rowBytes);
      const r1 = windowRow(x, n, H, W, C, ih0 + 1, -p.pl, pw, sw, owr, zpIn, flip, rowBytes);
      const r2 = windowRow(x, n, H, W, C, ih0 + 2, -p.pl, pw, sw, owr, zpIn, flip, rowBytes);
      const yrow = yn + <usize>oh * <usize>OW * <usize>C;
      for (let g = 0; g < G; g++) {
        const wp = WQ + <usize>g * 96;
        const a0 = v128.load(wp),
          b0 = v128.load(wp, 16),
          a1 = v128.load(wp, 32),
          b1 = v128.load(wp, 48),
          a2 = v128.load(wp, 64),
          b2 = v128.load(wp, 80);
        const c0 = g << 3;
        const blo = v128.load(bias + ((<usize>c0) << 2)),
          bhi = v128.load(bias + ((<usize>c0) << 2), 16);
        const fs = load<i32>(shifts + ((<usize>g) << 2));
        const rz = i32x4.splat(fs ? (1 << (fs - 33)) + zpOut * (1 << (fs - 32)) : 0);
        const mp = qc + ((<usize>(C + c0)) << 2);
        const m0 = v128.load(mp),
          m1 = v128.load(mp, 16);
        const off = <usize>g * gs;
        let q0 = r0 + off,
          q1 = r1 + off,
          q2 = r2 + off,
          yp = yrow;
        if (fs && p.qMin == -128 && p.qMax == 127)
          runHigh(
            q0,
            q1,
            q2,
            yp + <usize>c0,
            OW,
            <usize>C,
            a0,
            b0,
            a1,
            b1,
            a2,
            b2,
            blo,
            bhi,
            m0,
            m1,
            rz,
            fs - 32,
            lov,
            hiv,
            false,
          );
        else if (fs)
          runHigh(
            q0,
            q1,
            q2,
            yp + <usize>c0,
            OW,
            <usize>C,
            a0,
            b0,
            a1,
            b1,
            a2,
            b2,
            blo,
            bhi,
            m0,
            m1,
            rz,
            fs - 32,
            lov,
            hiv,
            true,
          );
        else {
          const qe = q0 + ((<usize>OW) << 5);
          while (q0 < qe) {
            let lo = i32x4.relaxed_dot_i8x16_i7x16_add_s(a0, v128.load(q0), blo),
              hi = i32x4.relaxed_dot_i8x16_i7x16_add_s(b0, v128.load(q0, 16), bhi);
            lo = i32x4.relaxed_dot_i8x16_i7x16_add_s(a1, v128.load(q1), lo);
            hi = i32x4.relaxed_dot_i8x16_i7x16_add_s(b1, v128.load(q1, 16), hi);
            lo = i32x4.relaxed_dot_i8x16_i7x16_add_s(a2, v128.load(q2), lo);
            hi = i32x4.relaxed_dot_i8x16_i7x16_add_s(b2, v128.load(q2, 16), hi);
            store8<R>(yp, c0, lo, hi, qc, C, 0, m0, m1, rz, lov, hiv, zpOut, p.qMin, p.qMax);
            q0 += 32;
            q1 += 32;
            q2 += 32;
            yp += <usize>C;
          }
        }
      }
    }
  }
  return true;
}

/** One 8-channel group of an output row whose channels share one shift s ∈ [33, 54] (t = s − 32, rz = 2^(s−33) +
 *  zp·2^t): two pixels per step, store8's fast requantisation (proof there) with one narrowing to i8 per two pixels;
 *  `clamp` (a constant at each call) false when [q_min, q_max] is the whole int8 range, the narrowing's saturation. */
// @ts-ignore: decorator
@inline function runHigh(
  q0: usize,
  q1: usize,
  q2: usize,
  yp: usize,
  cnt: i32,
  cs: usize,
  a0: v128,
  b0: v128,
  a1: v128,
  b1: v128,
  a2: v128,
  b2: v128,
  blo: v128,
  bhi: v128,
  m0: v128,
  m1: v128,
  rz: v128,
  t: i32,
  lov: v128,
  hiv: v128,
  clamp: bool,
): void {
  let i = 0;
  for (; i + 2 <= cnt; i += 2) {
    let l0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a0, v128.load(q0), blo),
      h0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(b0, v128.load(q0, 16), bhi),
      l1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a0, v128.load(q0, 32), blo),
      h1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(b0, v128.load(q0, 48), bhi);
    l0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a1, v128.load(q1), l0);
    h0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(b1, v128.load(q1, 16), h0);
    l1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a1, v128.load(q1, 32), l1);
    h1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(b1, v128.load(q1, 48), h1);
    l0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a2, v128.load(q2), l0);
    h0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(b2, v128.load(q2, 16), h0);
    l1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a2, v128.load(q2, 32), l1);
    h1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(b2, v128.load(q2, 48), h1);
    const o = i8x16.narrow_i16x8_s(
      requantHigh8(l0, h0, m0, m1, rz, t, lov, hiv, clamp),
      requantHigh8(l1, h1, m0, m1, rz, t, lov, hiv, clamp),
    );
    v128.store64_lane(yp, o, 0);
    v128.store64_lane(yp + cs, o, 1);
    q0 += 64;
    q1 += 64;
    q2 += 64;
    yp += cs << 1;
  }
  if (i < cnt) {
    let l0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a0, v128.load(q0), blo),
      h0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(b0, v128.load(q0, 16), bhi);
    l0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a1, v128.load(q1), l0);
    h0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(b1, v128.load(q1, 16), h0);
    l0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a2, v128.load(q2), l0);
    h0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(b2, v128.load(q2, 16), h0);
    const h = requantHigh8(l0, h0, m0, m1, rz, t, lov, hiv, clamp);
    v128.store64_lane(yp, i8x16.narrow_i16x8_s(h, h), 0);
  }
}

/** WQ: per 8-channel group and kernel row, [4 ch][w0 w1 w2 0] for channels 0–3 then 4–7 (96 bytes a group); then the
 *  biases bias − zk·Σ9 w (i32 × C, wrapping like the reference's sum); then per group the shift all 8 channels share
 *  when it is in [33, 54] (store8's fast path), else 0 (always for R = f32). */
function packWeights<R>(w: usize, qc: usize, C: i32, zk: i32, zpOut: i32): void {
  const cs = <usize>C,
    zero = i32x4.splat(0),
    zv = i32x4.splat(zk);
  const bias = WQ + <usize>(C * 12),
    shifts = bias + <usize>(C * 4);
  for (let c0 = 0; c0 < C; c0 += 8) {
    const wc = w + <usize>c0,
      d = WQ + <usize>c0 * 12;
    for (let kh = 0; kh < 3; kh++) {
      const t = wc + <usize>(kh * 3) * cs;
      const l = v128.shuffle<u8>(
        v128.load64_zero(t),
        v128.load64_zero(t + cs),
        0,
        16,
        1,
        17,
        2,
        18,
        3,
        19,
        4,
        20,
        5,
        21,
        6,
        22,
        7,
        23,
      );
      const h = v128.shuffle<u8>(
        v128.load64_zero(t + 2 * cs),
        zero,
        0,
        16,
        1,
        17,
        2,
        18,
        3,
        19,
        4,
        20,
        5,
        21,
        6,
        22,
        7,
        23,
      );
      v128.store(d + <usize>(kh << 5), v128.shuffle<u16>(l, h, 0, 8, 1, 9, 2, 10, 3, 11));
      v128.store(d + <usize>(kh << 5), v128.shuffle<u16>(l, h, 4, 12, 5, 13, 6, 14, 7, 15), 16);
    }
    let sum = v128.load8x8_s(wc);
    for (let t = 1; t < 9; t++) sum = i16x8.add(sum, v128.load8x8_s(wc + <usize>t * cs));
    const bp = qc + ((<usize>c0) << 2),
      dst = bias + ((<usize>c0) << 2);
    v128.store(dst, i32x4.sub(v128.load(bp), i32x4.mul(i32x4.extend_low_i16x8_s(sum), zv)));
    v128.store(dst, i32x4.sub(v128.load(bp, 16), i32x4.mul(i32x4.extend_high_i16x8_s(sum), zv)), 16);
    let fs = 0;
    if (!isFloat<R>()) {
      const sp = qc + ((<usize>(2 * C + c0)) << 2);
      const s = load<i32>(sp),
        sv = i32x4.splat(s);
      if (
        s >= 33 &&
        s <= 54 &&
        i32x4.all_true(i32x4.eq(v128.load(sp), sv)) &&
        i32x4.all_true(i32x4.eq(v128.load(sp, 16), sv))
      )
        fs = s;
    }
    store<i32>(shifts + ((<usize>(c0 >> 3)) << 2), fs);
  }
}

/** The ring slot holding input row ih of image n as a window row, built into the slot of row ih − 3 if absent. */
function windowRow(
  x: usize,
  n: i32,
  H: i32,
  W: i32,
  C: i32,
  ih: i32,
  iwStart: i32,
  pw: i32,
  sw: i32,
  owr: i32,
  zpIn: i32,
  flip: v128,
  rowBytes: i32,
): usize {
  const slot = ((ih % 3) + 3) % 3;
  const dst = WIN + <usize>(slot * rowBytes);
  if (slot == 0) {
    if (tag0 == ih) return dst;
    tag0 = ih;
  } else if (slot == 1) {
    if (tag1 == ih) return dst;
    tag1 = ih;
  } else {
    if (tag2 == ih) return dst;
    tag2 = ih;
  }
  // the padded byte row: pw columns from iwStart, zp_in outside the image
  const bytes = pw * C;
  const a = max(0, iwStart),
    b = min(W, iwStart + pw);
  if (ih < 0 || ih >= H || b <= a) {
    memory.fill(PAD, <u8>zpIn, <usize>bytes);
  } else {
    const left = (a - iwStart) * C,
      mid = (b - a) * C;
    if (left > 0) memory.fill(PAD, <u8>zpIn, <usize>left);
    memory.copy(PAD + <usize>left, x + <usize>(((n * H + ih) * W + a) * C), <usize>mid);
    if (left + mid < bytes) memory.fill(PAD + <usize>(left + mid), <u8>zpIn, <usize>(bytes - left - mid));
  }
  const gs = (<usize>owr) << 5,
    cs = <usize>C;
  let c = 0;
  for (; c + 16 <= C; c += 16)
    if (sw == 1) windowBlock(PAD + <usize>c, cs, dst + <usize>(c >> 3) * gs, gs, owr, 1, flip, false);
    else windowBlock(PAD + <usize>c, cs, dst + <usize>(c >> 3) * gs, gs, owr, 2, flip, false);
  if (c < C) {
    if (sw == 1) windowBlock(PAD + <usize>c, cs, dst + <usize>(c >> 3) * gs, gs, owr, 1, flip, true);
    else windowBlock(PAD + <usize>c, cs, dst + <usize>(c >> 3) * gs, gs, owr, 2, flip, true);
  }
  return dst;
}

/** Window rows of 16 channels (8 when `half`) of one padded row (src: its first column, columns cs apart) into groups
 *  d (channels 0–7) and d + gs (8–15), outputs 0..owr: per 4 input columns one transpose; `sw` and `half` are
 *  constants at every call. */
// @ts-ignore: decorator
@inline function windowBlock(
  src: usize,
  cs: usize,
  d: usize,
  gs: usize,
  owr: i32,
  sw: i32,
  flip: v128,
  half: bool,
): void {
  // t0..t3: channels 0–3, 4–7, 8–11, 12–15 of columns j..j+3, each lane [x_j, x_j+1, x_j+2, x_j+3] (little end first)
  let a0 = column(src, flip, half),
    a1 = column(src + cs, flip, half),
    a2 = column(src + 2 * cs, flip, half),
    a3 = column(src + 3 * cs, flip, half);
  let l = v128.shuffle<u8>(a0, a1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23),
    m = v128.shuffle<u8>(a2, a3, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  let t0 = v128.shuffle<u16>(l, m, 0, 8, 1, 9, 2, 10, 3, 11),
    t1 = v128.shuffle<u16>(l, m, 4, 12, 5, 13, 6, 14, 7, 15);
  let t2 = t0,
    t3 = t1;
  if (!half) {
    l = v128.shuffle<u8>(a0, a1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    m = v128.shuffle<u8>(a2, a3, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    t2 = v128.shuffle<u16>(l, m, 0, 8, 1, 9, 2, 10, 3, 11);
    t3 = v128.shuffle<u16>(l, m, 4, 12, 5, 13, 6, 14, 7, 15);
  }
  let s = src,
    o = d;
  const e = d + ((<usize>owr) << 5);
  while (o < e) {
    s += cs << 2;
    a0 = column(s, flip, half);
    a1 = column(s + cs, flip, half);
    a2 = column(s + 2 * cs, flip, half);
    a3 = column(s + 3 * cs, flip, half);
    l = v128.shuffle<u8>(a0, a1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    m = v128.shuffle<u8>(a2, a3, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const n0 = v128.shuffle<u16>(l, m, 0, 8, 1, 9, 2, 10, 3, 11),
      n1 = v128.shuffle<u16>(l, m, 4, 12, 5, 13, 6, 14, 7, 15);
    let n2 = n0,
      n3 = n1;
    if (!half) {
      l = v128.shuffle<u8>(a0, a1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      m = v128.shuffle<u8>(a2, a3, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      n2 = v128.shuffle<u16>(l, m, 0, 8, 1, 9, 2, 10, 3, 11);
      n3 = v128.shuffle<u16>(l, m, 4, 12, 5, 13, 6, 14, 7, 15);
    }
    // column j: t; j + 1: t >> 8 (its 4th byte meets a zero weight); j + 2: t >> 16 | n << 16; j + 3: t >> 24 | n << 8
    emit(o, t0, t1, n0, n1, sw);
    if (!half) emit(o + gs, t2, t3, n2, n3, sw);
    o += sw == 1 ? 128 : 64;
    t0 = n0;
    t1 = n1;
    t2 = n2;
    t3 = n3;
  }
}

/** The windows of input columns j..j+3 (stride 1: outputs j..j+3, 32 bytes each) or j, j + 2 (stride 2: outputs j/2,
 *  j/2 + 1) of one 8-channel group, from the transposes t (columns j..j+3) and n (j+4..j+7). */
// @ts-ignore: decorator
@inline function emit(o: usize, t0: v128, t1: v128, n0: v128, n1: v128, sw: i32): void {
  v128.store(o, t0);
  v128.store(o, t1, 16);
  if (sw == 1) {
    v128.store(o, i32x4.shr_u(t0, 8), 32);
    v128.store(o, i32x4.shr_u(t1, 8), 48);
    v128.store(o, v128.or(i32x4.shr_u(t0, 16), i32x4.shl(n0, 16)), 64);
    v128.store(o, v128.or(i32x4.shr_u(t1, 16), i32x4.shl(n1, 16)), 80);
    v128.store(o, v128.or(i32x4.shr_u(t0, 24), i32x4.shl(n0, 8)), 96);
    v128.store(o, v128.or(i32x4.shr_u(t1, 24), i32x4.shl(n1, 8)), 112);
  } else {
    v128.store(o, v128.or(i32x4.shr_u(t0, 16), i32x4.shl(n0, 16)), 32);
    v128.store(o, v128.or(i32x4.shr_u(t1, 16), i32x4.shl(n1, 16)), 48);
  }
}

/** 16 channels (8 when `half`, the rest zero) of one padded column, flipped for usdot. */
// @ts-ignore: decorator
@inline function column(p: usize, flip: v128, half: bool): v128 {
  return v128.xor(half ? v128.load64_zero(p) : v128.load(p), flip);
}
