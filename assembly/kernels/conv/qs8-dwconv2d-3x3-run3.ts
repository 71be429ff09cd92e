// The three-pixel 3×3 depthwise loops of qs8-dwconv2d.ts (simd build) for RQ_E40(C) and RQ_FP32 at strides 1 and 2,
// and the one-pixel step every two- and three-pixel loop ends a row with. Same layout and contract as there: x i8 rows
// rs bytes apart, pixels cs = C bytes apart, 8 channels per call, biases zp-folded (RQ_E40: weights and biases times
// 2^(40 − s)); the sums are the one-pixel loop's mod 2^32 and requantise as rq8, so the bytes equal the reference's.
// Constants: RQ_E40(C) mlo / mhi the multipliers, rz, hlo / hhi the clamps as i16; RQ_FP32 mlo / mhi the f32 scales,
// rz = requantFp32m's vmin, hlo = its vzp, hhi = q_max in every i8 lane (hiClamp8 after the narrowing to i8; RQ_FP32U,
// q_max = 127: none; RQ_FP32N, requantFp32n: no vmin either).
import { rqOf, rq8, hiClamp8, tap8lo, tap8hi, ilo, ihi } from './qs8-dwconv2d-requant';

/** dw3x3Run2 (qs8-dwconv2d.ts) for stride 1 and RQ_E40(C) or RQ_FP32: three output pixels per step over input columns 0..4, each
 * column's rows-0/1 pair (taps 0+3, 1+4, 2+5) serving up to three pixels (5 pairs per 3 pixels, not 6), row 2 paired
 * (p, q), (q, u), (u, v), (v, z) against (w6, w7) and (0, w8) (4 pairs, not 4.5), one loop step's overhead per 3
 * pixels. The never-taken branches (dw3x3Run2s2's segments) after columns 1 and 2 and before row 2 keep TurboFan from
 * holding every loaded column at once: 235 x64 instructions per 3 pixels (34 stack moves) against 249 (72) without
 * them and 162 (37) per 2 pixels in dw3x3Run2; 0.95–0.965× the stride-1 depthwise time on MobileNetV2. Four pixels
 * per step: 314 per 4 (61 stack moves), no better. RQ_FP32 (requantFp32m, 5 ops per 4 lanes, then hiClamp8): 217 per 3
 * pixels (37 stack operands) against dw3x3Run2's 159 per 2 with requantFp32v; 0.89× the stride-1 fp32 depthwise time;
 * RQ_FP32U 214, RQ_FP32N 210 (together 0.96–0.98× again). */
// @ts-ignore: decorator
@inline export function dw3x3Run3<M>(
  x: usize,
  y: usize,
  rs: usize,
  cs: usize,
  cnt: i32,
  nrows: i32,
  is: usize,
  os: usize,
  w0: v128,
  w1: v128,
  w2: v128,
  w3: v128,
  w4: v128,
  w5: v128,
  w6: v128,
  w7: v128,
  w8: v128,
  blo: v128,
  bhi: v128,
  mlo: v128,
  mhi: v128,
  rz: v128,
  hlo: v128,
  hhi: v128,
): void {
  const rq = rqOf<M>();
  const v03l = ilo(w0, w3),
    v03h = ihi(w0, w3),
    v14l = ilo(w1, w4),
    v14h = ihi(w1, w4);
  const v25l = ilo(w2, w5),
    v25h = ihi(w2, w5),
    v67l = ilo(w6, w7),
    v67h = ihi(w6, w7);
  const v8l = ilo(w8, i16x8.splat(0)),
    v8h = ihi(w8, i16x8.splat(0)),
    v08l = ilo(i16x8.splat(0), w8),
    v08h = ihi(i16x8.splat(0), w8);
  for (let r = 0; r < nrows; r++) {
    let r0 = x + <usize>r * is,
      yp = y + <usize>r * os;
    let i = 0;
    for (; i + 3 <= cnt; i += 3) {
      const r1 = r0 + rs,
        r2 = r1 + rs;
      let a = v128.load8x8_s(r0),
        e = v128.load8x8_s(r1);
      let lo0 = i32x4.add(blo, i32x4.dot_i16x8_s(ilo(a, e), v03l)),
        hi0 = i32x4.add(bhi, i32x4.dot_i16x8_s(ihi(a, e), v03h));
      a = v128.load8x8_s(r0 + cs);
      e = v128.load8x8_s(r1 + cs);
      let cl = ilo(a, e),
        ch = ihi(a, e);
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(cl, v14l));
      hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(ch, v14h));
      let lo1 = i32x4.add(blo, i32x4.dot_i16x8_s(cl, v03l)),
        hi1 = i32x4.add(bhi, i32x4.dot_i16x8_s(ch, v03h));
      if (cnt < 0) {
        store<i32>(0, 0);
        const t = lo0;
        lo0 = hi0;
        hi0 = lo1;
        lo1 = hi1;
        hi1 = t;
      }
      a = v128.load8x8_s(r0 + 2 * cs);
      e = v128.load8x8_s(r1 + 2 * cs);
      cl = ilo(a, e);
      ch = ihi(a, e);
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(cl, v25l));
      hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(ch, v25h));
      lo1 = i32x4.add(lo1, i32x4.dot_i16x8_s(cl, v14l));
      hi1 = i32x4.add(hi1, i32x4.dot_i16x8_s(ch, v14h));
      let lo2 = i32x4.add(blo, i32x4.dot_i16x8_s(cl, v03l)),
        hi2 = i32x4.add(bhi, i32x4.dot_i16x8_s(ch, v03h));
      if (cnt < 0) {
        store<i32>(0, 0);
        const t = lo0;
        lo0 = hi0;
        hi0 = lo1;
        lo1 = hi1;
        hi1 = lo2;
        lo2 = hi2;
        hi2 = t;
      }
      a = v128.load8x8_s(r0 + 3 * cs);
      e = v128.load8x8_s(r1 + 3 * cs);
      cl = ilo(a, e);
      ch = ihi(a, e);
      lo1 = i32x4.add(lo1, i32x4.dot_i16x8_s(cl, v25l));
      hi1 = i32x4.add(hi1, i32x4.dot_i16x8_s(ch, v25h));
      lo2 = i32x4.add(lo2, i32x4.dot_i16x8_s(cl, v14l));
      hi2 = i32x4.add(hi2, i32x4.dot_i16x8_s(ch, v14h));
      a = v128.load8x8_s(r0 + 4 * cs);
      e = v128.load8x8_s(r1 + 4 * cs);
      lo2 = i32x4.add(lo2, i32x4.dot_i16x8_s(ilo(a, e), v25l));
      hi2 = i32x4.add(hi2, i32x4.dot_i16x8_s(ihi(a, e), v25h));
      if (cnt < 0) {
        store<i32>(0, 0);
        const t = lo0;
        lo0 = hi0;
        hi0 = lo1;
        lo1 = hi1;
        hi1 = lo2;
        lo2 = hi2;
        hi2 = t;
      }
      const p = v128.load8x8_s(r2),
        q = v128.load8x8_s(r2 + cs),
        u = v128.load8x8_s(r2 + 2 * cs);
      const v = v128.load8x8_s(r2 + 3 * cs),
        z = v128.load8x8_s(r2 + 4 * cs);
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(ilo(p, q), v67l));
      hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(ihi(p, q), v67h));
      cl = ilo(q, u);
      ch = ihi(q, u);
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(cl, v08l));
      hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(ch, v08h));
      lo1 = i32x4.add(lo1, i32x4.dot_i16x8_s(cl, v67l));
      hi1 = i32x4.add(hi1, i32x4.dot_i16x8_s(ch, v67h));
      cl = ilo(u, v);
      ch = ihi(u, v);
      lo1 = i32x4.add(lo1, i32x4.dot_i16x8_s(cl, v08l));
      hi1 = i32x4.add(hi1, i32x4.dot_i16x8_s(ch, v08h));
      lo2 = i32x4.add(lo2, i32x4.dot_i16x8_s(cl, v67l));
      hi2 = i32x4.add(hi2, i32x4.dot_i16x8_s(ch, v67h));
      lo2 = i32x4.add(lo2, i32x4.dot_i16x8_s(ilo(v, z), v08l));
      hi2 = i32x4.add(hi2, i32x4.dot_i16x8_s(ihi(v, z), v08h));
      const o = hiClamp8(
        rq,
        i8x16.narrow_i16x8_s(
          rq8(rq, lo0, hi0, mlo, mhi, rz, 0, hlo, hlo, hhi),
          rq8(rq, lo1, hi1, mlo, mhi, rz, 0, hlo, hlo, hhi),
        ),
        hhi,
      );
      const h2 = rq8(rq, lo2, hi2, mlo, mhi, rz, 0, hlo, hlo, hhi);
      v128.store64_lane(yp, o, 0);
      v128.store64_lane(yp + cs, o, 1);
      v128.store64_lane(yp + 2 * cs, hiClamp8(rq, i8x16.narrow_i16x8_s(h2, h2), hhi), 0);
      r0 += 3 * cs;
      yp += 3 * cs;
    }
    for (; i < cnt; i++) {
      dwPixel1(
        rq,
        r0,
        rs,
        cs,
        yp,
        v03l,
        v03h,
        v14l,
        v14h,
        v25l,
        v25h,
        v67l,
        v67h,
        w8,
        v8l,
        v8h,
        blo,
        bhi,
        mlo,
        mhi,
        rz,
        0,
        hlo,
        hlo,
        hhi,
      );
      r0 += cs;
      yp += cs;
    }
  }
}

/** dw3x3Run2s2 (qs8-dwconv2d.ts) for RQ_E40(C) or RQ_FP32: three output pixels per step over input columns 0..6 (pixel k starts
 * at column 2k), the rows-0/1 pairs of columns 2 and 4 serving two pixels each, a pixel's tap 8 from the next one's
 * (6, 7) pair, segments as there: 247 x64 instructions per 3 pixels against 169 per 2; 0.97–0.99× the stride-2
 * depthwise time on MobileNetV2. RQ_FP32: 236 per 3 pixels (43 stack operands), 0.89× the time of the one-pixel
 * dw3x3Run it replaced for the stride-2 fp32 steps; RQ_FP32U 230, RQ_FP32N 225. */
// @ts-ignore: decorator
@inline export function dw3x3Run3s2<M>(
  x: usize,
  y: usize,
  rs: usize,
  cs: usize,
  cnt: i32,
  nrows: i32,
  is: usize,
  os: usize,
  w0: v128,
  w1: v128,
  w2: v128,
  w3: v128,
  w4: v128,
  w5: v128,
  w6: v128,
  w7: v128,
  w8: v128,
  blo: v128,
  bhi: v128,
  mlo: v128,
  mhi: v128,
  rz: v128,
  hlo: v128,
  hhi: v128,
): void {
  const rq = rqOf<M>();
  const v03l = ilo(w0, w3),
    v03h = ihi(w0, w3),
    v14l = ilo(w1, w4),
    v14h = ihi(w1, w4);
  const v25l = ilo(w2, w5),
    v25h = ihi(w2, w5),
    v67l = ilo(w6, w7),
    v67h = ihi(w6, w7);
  const v8l = ilo(w8, i16x8.splat(0)),
    v8h = ihi(w8, i16x8.splat(0));
  for (let r = 0; r < nrows; r++) {
    let r0 = x + <usize>r * is,
      yp = y + <usize>r * os;
    let i = 0;
    for (; i + 3 <= cnt; i += 3) {
      const r1 = r0 + rs,
        r2 = r1 + rs;
      let a: v128, e: v128, cl: v128, ch: v128;
      a = v128.load8x8_s(r0);
      e = v128.load8x8_s(r1);
      cl = ilo(a, e);
      ch = ihi(a, e);
      let lo0 = i32x4.add(blo, i32x4.dot_i16x8_s(cl, v03l)),
        hi0 = i32x4.add(bhi, i32x4.dot_i16x8_s(ch, v03h));
      a = v128.load8x8_s(r0 + 1 * cs);
      e = v128.load8x8_s(r1 + 1 * cs);
      cl = ilo(a, e);
      ch = ihi(a, e);
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(cl, v14l));
      hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(ch, v14h));
      if (cnt < 0) {
        store<i32>(0, 0);
        const t = lo0;
        lo0 = hi0;
        hi0 = t;
      }
      a = v128.load8x8_s(r0 + 2 * cs);
      e = v128.load8x8_s(r1 + 2 * cs);
      cl = ilo(a, e);
      ch = ihi(a, e);
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(cl, v25l));
      hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(ch, v25h));
      let lo1 = i32x4.add(blo, i32x4.dot_i16x8_s(cl, v03l)),
        hi1 = i32x4.add(bhi, i32x4.dot_i16x8_s(ch, v03h));
      a = v128.load8x8_s(r0 + 3 * cs);
      e = v128.load8x8_s(r1 + 3 * cs);
      cl = ilo(a, e);
      ch = ihi(a, e);
      lo1 = i32x4.add(lo1, i32x4.dot_i16x8_s(cl, v14l));
      hi1 = i32x4.add(hi1, i32x4.dot_i16x8_s(ch, v14h));
      if (cnt < 0) {
        store<i32>(0, 0);
        const t = lo0;
        lo0 = hi0;
        hi0 = lo1;
        lo1 = hi1;
        hi1 = t;
      }
      a = v128.load8x8_s(r0 + 4 * cs);
      e = v128.load8x8_s(r1 + 4 * cs);
      cl = ilo(a, e);
      ch = ihi(a, e);
      lo1 = i32x4.add(lo1, i32x4.dot_i16x8_s(cl, v25l));
      hi1 = i32x4.add(hi1, i32x4.dot_i16x8_s(ch, v25h));
      let lo2 = i32x4.add(blo, i32x4.dot_i16x8_s(cl, v03l)),
        hi2 = i32x4.add(bhi, i32x4.dot_i16x8_s(ch, v03h));
      a = v128.load8x8_s(r0 + 5 * cs);
      e = v128.load8x8_s(r1 + 5 * cs);
      cl = ilo(a, e);
      ch = ihi(a, e);
      lo2 = i32x4.add(lo2, i32x4.dot_i16x8_s(cl, v14l));
      hi2 = i32x4.add(hi2, i32x4.dot_i16x8_s(ch, v14h));
      a = v128.load8x8_s(r0 + 6 * cs);
      e = v128.load8x8_s(r1 + 6 * cs);
      cl = ilo(a, e);
      ch = ihi(a, e);
      lo2 = i32x4.add(lo2, i32x4.dot_i16x8_s(cl, v25l));
      hi2 = i32x4.add(hi2, i32x4.dot_i16x8_s(ch, v25h));
      if (cnt < 0) {
        store<i32>(0, 0);
        const t = lo0;
        lo0 = hi0;
        hi0 = lo1;
        lo1 = hi1;
        hi1 = lo2;
        lo2 = hi2;
        hi2 = t;
      }
      const p0 = v128.load8x8_s(r2),
        p1 = v128.load8x8_s(r2 + cs),
        p2 = v128.load8x8_s(r2 + 2 * cs),
        p3 = v128.load8x8_s(r2 + 3 * cs);
      const p4 = v128.load8x8_s(r2 + 4 * cs),
        p5 = v128.load8x8_s(r2 + 5 * cs),
        p6 = v128.load8x8_s(r2 + 6 * cs);
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(ilo(p0, p1), v67l));
      hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(ihi(p0, p1), v67h));
      // a pixel's tap 8 from the next pixel's (6, 7) pair against (w8, 0)
      cl = ilo(p2, p3);
      ch = ihi(p2, p3);
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(cl, v8l));
      hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(ch, v8h));
      lo1 = i32x4.add(lo1, i32x4.dot_i16x8_s(cl, v67l));
      hi1 = i32x4.add(hi1, i32x4.dot_i16x8_s(ch, v67h));
      cl = ilo(p4, p5);
      ch = ihi(p4, p5);
      lo1 = i32x4.add(lo1, i32x4.dot_i16x8_s(cl, v8l));
      hi1 = i32x4.add(hi1, i32x4.dot_i16x8_s(ch, v8h));
      lo2 = i32x4.add(lo2, i32x4.dot_i16x8_s(cl, v67l));
      hi2 = i32x4.add(hi2, i32x4.dot_i16x8_s(ch, v67h));
      lo2 = i32x4.add(lo2, tap8lo(rq, p6, w8, v8l));
      hi2 = i32x4.add(hi2, tap8hi(rq, p6, w8, v8h));
      const o = hiClamp8(
        rq,
        i8x16.narrow_i16x8_s(
          rq8(rq, lo0, hi0, mlo, mhi, rz, 0, hlo, hlo, hhi),
          rq8(rq, lo1, hi1, mlo, mhi, rz, 0, hlo, hlo, hhi),
        ),
        hhi,
      );
      const h2 = rq8(rq, lo2, hi2, mlo, mhi, rz, 0, hlo, hlo, hhi);
      v128.store64_lane(yp, o, 0);
      v128.store64_lane(yp + cs, o, 1);
      v128.store64_lane(yp + 2 * cs, hiClamp8(rq, i8x16.narrow_i16x8_s(h2, h2), hhi), 0);
      r0 += 6 * cs;
      yp += 3 * cs;
    }
    for (; i < cnt; i++) {
      dwPixel1(
        rq,
        r0,
        rs,
        cs,
        yp,
        v03l,
        v03h,
        v14l,
        v14h,
        v25l,
        v25h,
        v67l,
        v67h,
        w8,
        v8l,
        v8h,
        blo,
        bhi,
        mlo,
        mhi,
        rz,
        0,
        hlo,
        hlo,
        hhi,
      );
      r0 += 2 * cs;
      yp += cs;
    }
  }
}

/** The last pixels of dw3x3Run2(s2) and dw3x3Run3(s2) (input at r0, output at yp): one pixel alone, taps paired 0+3,
 * 1+4, 2+5, 6+7 against the pre-interleaved weights, then tap 8, requantised as rq8. */
// @ts-ignore: decorator
@inline export function dwPixel1(
  rq: i32,
  r0: usize,
  rs: usize,
  cs: usize,
  yp: usize,
  v03l: v128,
  v03h: v128,
  v14l: v128,
  v14h: v128,
  v25l: v128,
  v25h: v128,
  v67l: v128,
  v67h: v128,
  w8: v128,
  v8l: v128,
  v8h: v128,
  blo: v128,
  bhi: v128,
  mlo: v128,
  mhi: v128,
  k: v128,
  sh: i32,
  zv: v128,
  hlo: v128,
  hhi: v128,
): void {
  const r1 = r0 + rs,
    r2 = r1 + rs;
  const a = v128.load8x8_s(r0),
    b = v128.load8x8_s(r0 + cs),
    c = v128.load8x8_s(r0 + 2 * cs);
  const e = v128.load8x8_s(r1),
    f = v128.load8x8_s(r1 + cs),
    g = v128.load8x8_s(r1 + 2 * cs);
  const p = v128.load8x8_s(r2),
    q = v128.load8x8_s(r2 + cs),
    u = v128.load8x8_s(r2 + 2 * cs);
  let lo = i32x4.add(blo, i32x4.dot_i16x8_s(ilo(a, e), v03l)),
    hi = i32x4.add(bhi, i32x4.dot_i16x8_s(ihi(a, e), v03h));
  lo = i32x4.add(lo, i32x4.dot_i16x8_s(ilo(b, f), v14l));
  hi = i32x4.add(hi, i32x4.dot_i16x8_s(ihi(b, f), v14h));
  lo = i32x4.add(lo, i32x4.dot_i16x8_s(ilo(c, g), v25l));
  hi = i32x4.add(hi, i32x4.dot_i16x8_s(ihi(c, g), v25h));
  lo = i32x4.add(lo, i32x4.dot_i16x8_s(ilo(p, q), v67l));
  hi = i32x4.add(hi, i32x4.dot_i16x8_s(ihi(p, q), v67h));
  lo = i32x4.add(lo, tap8lo(rq, u, w8, v8l));
  hi = i32x4.add(hi, tap8hi(rq, u, w8, v8h));
  const h = rq8(rq, lo, hi, mlo, mhi, k, sh, zv, hlo, hhi);
  v128.store64_lane(yp, hiClamp8(rq, i8x16.narrow_i16x8_s(h, h), hhi), 0);
}
