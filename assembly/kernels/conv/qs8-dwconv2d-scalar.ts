// DepthwiseConv2D_QS8, scalar build, multiplier 1 (what wasm3 runs on microcontrollers): x i8 [N,H,W,C], w i8
// [KH,KW,C], qc i32 [3, C] → y i8 [N,OH,OW,C], the same bytes as the reference (integer-exact). Channel outer: each
// channel's input is copied once into a padded plane of i32 u = x + 128 (out of bounds u = zp_in + 128, so a padded
// tap adds (zp_in − zp_in)·w = 0), then every output pixel is a whole KH×KW window with no bounds checks; the
// weights sit in locals and zp_in + 128 is folded into the bias (bias − (zp_in + 128)·Σw, exact mod 2^32 like the
// i32 sum itself). 3×3 stride 1 dilation 1 computes two pixels per multiply: an i64 load of plane[j], plane[j+1]
// is u_j + 2^32·u_(j+1) (u ≥ 0), so b·(2^32 + 1) + Σ_taps load·w = (b + L) + 2^32·(b + R) with L, R the two pixels'
// sums, and zp_out rides in the rounding constant (exactness conditions: pairFolds).
import { StepParams } from '../../bundle/model';
import { qcAt } from '../gemm/qs8-requant';

/** Largest plane (i32 elements) the scalar path takes; bigger images keep the per-pixel path in qs8-dwconv2d.ts. */
const PLANE_MAX = 1 << 16;
/** The plane: one heap block, taken on the first run that needs it (or a larger one), kept. */
let plane: usize = 0;
let planeBytes: i32 = 0;

/** Runs the step if it fits the plane (multiplier 1, plane ≤ PLANE_MAX); false leaves it to the caller. */
export function dwconv2dQs8Plane(x: usize, w: usize, qc: usize, y: usize, N: i32, H: i32, W: i32, C: i32,
                                 OH: i32, OW: i32, p: StepParams, zpIn: i32, zpOut: i32): bool {
  const KH = p.kh, KW = p.kw, sh = p.sh, sw = p.sw, dh = p.dh, dw = p.dw;
  if (p.mult != 1 || OH <= 0 || OW <= 0) return false;
  const Hp = (OH - 1) * sh + (KH - 1) * dh + 1, Wp = (OW - 1) * sw + (KW - 1) * dw + 1;
  if (<i64>Hp * <i64>Wp > PLANE_MAX) return false;
  // + 1 element: the pair loads of an odd last pixel read one element past the last row (its half is not stored)
  const need = (Hp * Wp + 1) << 2;
  if (need > planeBytes) { plane = (heap.alloc(<usize>need + 16) + 15) & ~<usize>15; planeBytes = need; }
  const pad = zpIn + 128;
  for (let i = 0; i < Hp * Wp; i++) store<i32>(plane + (<usize>i << 2), pad);
  // plane (r, q) is input (r − pt, q − pl): the in-bounds rectangle [rA, rB) × [qA, qB)
  const rA = max(0, p.pt), rB = min(Hp, p.pt + H), qA = max(0, p.pl), qB = min(Wp, p.pl + W);
  const pair = KH == 3 && KW == 3 && sh == 1 && sw == 1 && dh == 1 && dw == 1;
  const cs = <usize>C, cs2 = cs << 1, qn = max(0, qB - qA);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let r = rA; r < rB; r++) {
        let s = x + <usize>((((n * H + r - p.pt) * W + qA - p.pl) * C) + c), d = plane + (<usize>(r * Wp + qA) << 2);
        // two pixels per pass (wasm3 pays per loop step), the odd one after
        for (let k = qn >> 1; k > 0; k--) {
          store<i32>(d, <i32>load<i8>(s) + 128);
          store<i32>(d, <i32>load<i8>(s + cs) + 128, 4);
          s += cs2;
          d += 8;
        }
        if (qn & 1) store<i32>(d, <i32>load<i8>(s) + 128);
      }
      let sumW = 0;
      for (let t = 0; t < KH * KW; t++) sumW += <i32>load<i8>(w + <usize>(t * C + c));
      const b = qcAt(qc, C, 0, c) - pad * sumW;
      const m = <i64>qcAt(qc, C, 1, c), shift = qcAt(qc, C, 2, c);
      const rnd = <i64>1 << <i64>(shift - 1), s64 = <i64>shift;
      const yc = y + <usize>(n * OH * OW * C + c);
      // the pair kernel folds the bias into both halves and zp_out into the rounding constant (pairFolds)
      if (pair && pairFolds(b, shift, zpOut))
        dw3x3Pairs(w + <usize>c, C, b, m, rnd + (<i64>zpOut << s64), s64, yc, OH, OW, Wp, p.qMin, p.qMax);
      else dwWindows(w + <usize>c, C, KH, KW, sh, sw, dh, dw, b, m, rnd, s64, yc, OH, OW, Wp, zpOut, p.qMin, p.qMax);
    }
  }
  return true;
}

/**
 * Whether dw3x3Pairs is exact for a channel: |b| < 2^30 keeps b + L (|L| ≤ 9·255·128) inside i32, so the low half of
 * b·(2^32 + 1) + Σ is b + L and (acc + 2^31) >> 32 is b + R; shift in [1, 54] and |zp| ≤ 256 keep
 * acc·m + 2^(s−1) + zp·2^s below 2^63 in magnitude, so its floor shift is the reference's ((acc·m + 2^(s−1)) >> s) + zp.
 */
// @ts-ignore: decorator
@inline function pairFolds(b: i32, shift: i32, zp: i32): bool {
  return b > -(1 << 30) && b < 1 << 30 && shift >= 1 && shift <= 54 && zp >= -256 && zp <= 256;
}

/** One channel, 3×3 stride 1: two output pixels per pass, one i64 multiply per tap for both; rz = 2^(s−1) + zp·2^s. */
function dw3x3Pairs(wc: usize, C: i32, b: i32, m: i64, rz: i64, s: i64, y: usize, OH: i32, OW: i32, Wp: i32,
                    lo: i32, hi: i32): void {
  const cs = <usize>C;
  const w0 = <i64>load<i8>(wc), w1 = <i64>load<i8>(wc + cs), w2 = <i64>load<i8>(wc + 2 * cs);
  const w3 = <i64>load<i8>(wc + 3 * cs), w4 = <i64>load<i8>(wc + 4 * cs), w5 = <i64>load<i8>(wc + 5 * cs);
  const w6 = <i64>load<i8>(wc + 6 * cs), w7 = <i64>load<i8>(wc + 7 * cs), w8 = <i64>load<i8>(wc + 8 * cs);
  const rs = <usize>(Wp << 2), lo64 = <i64>lo, hi64 = <i64>hi, bb = <i64>b * ((<i64>1 << 32) + 1), half = <i64>1 << 31;
  let yp = y;
  for (let oh = 0; oh < OH; oh++) {
    let a = plane + <usize>oh * rs;
    for (let k = OW >> 1; k > 0; k--) {
      const a1 = a + rs, a2 = a1 + rs;
      const acc = bb + load<i64>(a) * w0 + load<i64>(a, 4) * w1 + load<i64>(a, 8) * w2 +
                  load<i64>(a1) * w3 + load<i64>(a1, 4) * w4 + load<i64>(a1, 8) * w5 +
                  load<i64>(a2) * w6 + load<i64>(a2, 4) * w7 + load<i64>(a2, 8) * w8;
      let v = (<i64><i32>acc * m + rz) >> s;
      v = v < lo64 ? lo64 : v > hi64 ? hi64 : v;
      store<i8>(yp, <i8>v);
      let u = (((acc + half) >> 32) * m + rz) >> s;
      u = u < lo64 ? lo64 : u > hi64 ? hi64 : u;
      store<i8>(yp + cs, <i8>u);
      a += 8;
      yp += cs << 1;
    }
    if (OW & 1) {
      // the last pixel: the low half of a pair (the plane has one element of slack for its right neighbour)
      const a1 = a + rs, a2 = a1 + rs;
      const acc = bb + load<i64>(a) * w0 + load<i64>(a, 4) * w1 + load<i64>(a, 8) * w2 +
                  load<i64>(a1) * w3 + load<i64>(a1, 4) * w4 + load<i64>(a1, 8) * w5 +
                  load<i64>(a2) * w6 + load<i64>(a2, 4) * w7 + load<i64>(a2, 8) * w8;
      let v = (<i64><i32>acc * m + rz) >> s;
      v = v < lo64 ? lo64 : v > hi64 ? hi64 : v;
      store<i8>(yp, <i8>v);
      yp += cs;
    }
  }
}

/** One channel, any window: each output pixel a KH×KW loop over the plane. */
function dwWindows(wc: usize, C: i32, KH: i32, KW: i32, sh: i32, sw: i32, dh: i32, dw: i32, b: i32, m: i64, rnd: i64,
                   s: i64, y: usize, OH: i32, OW: i32, Wp: i32, zp: i32, lo: i32, hi: i32): void {
  const cs = <usize>C, lo64 = <i64>lo, hi64 = <i64>hi;
  const rowStep = <usize>((dh * Wp) << 2), colStep = <usize>(dw << 2);
  let yp = y;
  for (let oh = 0; oh < OH; oh++) {
    for (let ow = 0; ow < OW; ow++) {
      let acc = b, row = plane + (<usize>(oh * sh * Wp + ow * sw) << 2), wp = wc;
      for (let kh = 0; kh < KH; kh++) {
        let a = row;
        for (let kw = 0; kw < KW; kw++) {
          acc += load<i32>(a) * <i32>load<i8>(wp);
          a += colStep;
          wp += cs;
        }
        row += rowStep;
      }
      let v = ((<i64>acc * m + rnd) >> s) + <i64>zp;
      v = v < lo64 ? lo64 : v > hi64 ? hi64 : v;
      store<i8>(yp, <i8>v);
      yp += cs;
    }
  }
}
