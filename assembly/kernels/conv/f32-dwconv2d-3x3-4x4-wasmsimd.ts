// DepthwiseConv2D_F32 in the simd builds for 3×3 kernels, multiplier 1, no dilation, stride 1 or 2 (MobileNet's):
// x [N,H,W,C] / y [N,OH,OW,C] NHWC, w [3,3,C], b [C] or none; offsets in bytes. One output row at a time, channels
// [0, C4) (C4 = C rounded down to 4; f32-dwconv2d.ts does the rest): the row's kernel rows in bounds are found once;
// the columns whose 3 kernel columns are in bounds run 4 (then 2) pixels × 4 channels with no tap checks, channel
// blocks inner so the input rows are read in order. A kernel row's 3 weight vectors are loaded once for all pixels of
// the tile and the input columns neighbouring windows share once (stride 1: 6 loads for 4 pixels' 12 products, stride
// 2: 9). The border columns run one pixel with its kernel columns in bounds. Summation order per output as
// f32-dwconv2d.ts (acc = b; kh, kw ascending, padded taps skipped; then activation): bit-identical to it, to the
// scalar build and to refDwconv2d. On MobileNetV2's layers 1.2–3× faster than the 2×16 tile with a tap loop
// (the most at stride 1 and large W), the model's depthwise time about 0.55× (docs/benchmarks.md).
import { activate4 } from '../activation';

// The bias of a conv without one: 4 zeros (+0, what the accumulators start from), read with a step of 0. Read only.
const ZERO4: usize = memory.data(16, 16);

/** Output row yr (pixel 0, channel 0) of image xn, its first kernel row at input row ih0; owLo/owHi: the columns
 *  whose kernel columns are all in bounds (f32-dwconv2d.ts); act from simdAct. */
export function dwconv3x3RowF32(
  xn: usize,
  w: usize,
  b: usize,
  yr: usize,
  H: i32,
  W: i32,
  C: i32,
  C4: i32,
  ih0: i32,
  pl: i32,
  sw: i32,
  OW: i32,
  owLo: i32,
  owHi: i32,
  act: i32,
  lo: f32,
  hi: f32,
): void {
  const cs = (<usize>C) << 2,
    xRow = <usize>W * cs;
  const kh0 = ih0 < 0 ? -ih0 : 0,
    nkh = max(0, min(3, H - ih0) - kh0);
  // the first kernel row in bounds (never read when there is none)
  const xk = xn + <usize>(ih0 + kh0) * xRow,
    wk = w + <usize>(kh0 * 3) * cs;
  let ow = 0;
  for (; ow < owLo; ow++) border(xk, wk, b, yr, cs, xRow, W, nkh, ow * sw - pl, ow, C4, act, lo, hi);
  const n = owHi - ow;
  if (n > 0) {
    const xs = xk + <usize>(ow * sw - pl) * cs,
      ys = yr + <usize>ow * cs;
    const done =
      sw == 1
        ? tiles1(xs, wk, b, ys, cs, xRow, nkh, n, C4, act, lo, hi)
        : tiles2(xs, wk, b, ys, cs, xRow, nkh, n, C4, act, lo, hi);
    ow += done;
  }
  for (; ow < OW; ow++) border(xk, wk, b, yr, cs, xRow, W, nkh, ow * sw - pl, ow, C4, act, lo, hi);
}

/** Output column ow, its window starting at input column iw0: the kernel columns in bounds, one pixel. */
// @ts-ignore: decorator
@inline function border(
  xk: usize,
  wk: usize,
  b: usize,
  yr: usize,
  cs: usize,
  xRow: usize,
  W: i32,
  nkh: i32,
  iw0: i32,
  ow: i32,
  C4: i32,
  act: i32,
  lo: f32,
  hi: f32,
): void {
  const kw0 = iw0 < 0 ? -iw0 : 0,
    nkw = max(0, min(3, W - iw0) - kw0);
  pixel(
    xk + <usize>(iw0 + kw0) * cs,
    wk + <usize>kw0 * cs,
    b,
    yr + <usize>ow * cs,
    cs,
    xRow,
    nkh,
    nkw,
    C4,
    act,
    lo,
    hi,
  );
}

/** One pixel, nkh × nkw taps from input x0 / weights w0 (the first tap in bounds), channels [0, C4). */
function pixel(
  x0: usize,
  w0: usize,
  b: usize,
  y0: usize,
  cs: usize,
  xRow: usize,
  nkh: i32,
  nkw: i32,
  C4: i32,
  act: i32,
  lo: f32,
  hi: f32,
): void {
  const vlo = f32x4.splat(lo),
    vhi = f32x4.splat(hi);
  const wRow = cs * 3;
  let j = 0;
  // 16 channels: 4 independent sums per tap, the tap loops' overhead shared
  for (; j + 16 <= C4; j += 16) {
    const o = (<usize>j) << 2;
    let a0 = f32x4.splat(0),
      a1 = a0,
      a2 = a0,
      a3 = a0;
    if (b != 0) {
      a0 = v128.load(b + o);
      a1 = v128.load(b + o, 16);
      a2 = v128.load(b + o, 32);
      a3 = v128.load(b + o, 48);
    }
    let r = x0 + o,
      wr = w0 + o;
    for (let kh = 0; kh < nkh; kh++) {
      let xp = r,
        wp = wr;
      for (let kw = 0; kw < nkw; kw++) {
        a0 = f32x4.add(a0, f32x4.mul(v128.load(xp), v128.load(wp)));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(xp, 16), v128.load(wp, 16)));
        a2 = f32x4.add(a2, f32x4.mul(v128.load(xp, 32), v128.load(wp, 32)));
        a3 = f32x4.add(a3, f32x4.mul(v128.load(xp, 48), v128.load(wp, 48)));
        xp += cs;
        wp += cs;
      }
      r += xRow;
      wr += wRow;
    }
    const yo = y0 + o;
    v128.store(yo, activate4(a0, act, vlo, vhi));
    v128.store(yo, activate4(a1, act, vlo, vhi), 16);
    v128.store(yo, activate4(a2, act, vlo, vhi), 32);
    v128.store(yo, activate4(a3, act, vlo, vhi), 48);
  }
  for (; j < C4; j += 4) {
    const o = (<usize>j) << 2;
    let a = b == 0 ? f32x4.splat(0) : v128.load(b + o);
    let r = x0 + o,
      wr = w0 + o;
    for (let kh = 0; kh < nkh; kh++) {
      let xp = r,
        wp = wr;
      for (let kw = 0; kw < nkw; kw++) {
        a = f32x4.add(a, f32x4.mul(v128.load(xp), v128.load(wp)));
        xp += cs;
        wp += cs;
      }
      r += xRow;
      wr += wRow;
    }
    v128.store(y0 + o, activate4(a, act, vlo, vhi));
  }
}

/** Stride 1: n interior pixels from input x0 / output y0, in tiles of 4, then 2, then 1; returns n. */
function tiles1(
  x0: usize,
  w: usize,
  b: usize,
  y0: usize,
  cs: usize,
  xRow: usize,
  nkh: i32,
  n: i32,
  C4: i32,
  act: i32,
  lo: f32,
  hi: f32,
): i32 {
  const vlo = f32x4.splat(lo),
    vhi = f32x4.splat(hi);
  const bp = b == 0 ? ZERO4 : b,
    bStep: usize = b == 0 ? 0 : 16;
  const cs2 = cs << 1,
    cs3 = cs2 + cs,
    cs4 = cs2 << 1,
    cs5 = cs4 + cs;
  let q = 0;
  for (; q + 4 <= n; q += 4) {
    const xq = x0 + <usize>q * cs,
      yq = y0 + <usize>q * cs;
    let bj = bp;
    for (let j = 0; j < C4; j += 4) {
      const o = (<usize>j) << 2;
      let a = v128.load(bj),
        c = a,
        d = a,
        e = a;
      let r = xq + o,
        wr = w + o;
      for (let kh = 0; kh < nkh; kh++) {
        const w0 = v128.load(wr),
          w1 = v128.load(wr + cs),
          w2 = v128.load(wr + cs2);
        const v0 = v128.load(r),
          v1 = v128.load(r + cs),
          v2 = v128.load(r + cs2),
          v3 = v128.load(r + cs3);
        a = f32x4.add(a, f32x4.mul(v0, w0));
        c = f32x4.add(c, f32x4.mul(v1, w0));
        d = f32x4.add(d, f32x4.mul(v2, w0));
        e = f32x4.add(e, f32x4.mul(v3, w0));
        const v4 = v128.load(r + cs4);
        a = f32x4.add(a, f32x4.mul(v1, w1));
        c = f32x4.add(c, f32x4.mul(v2, w1));
        d = f32x4.add(d, f32x4.mul(v3, w1));
        e = f32x4.add(e, f32x4.mul(v4, w1));
        const v5 = v128.load(r + cs5);
        a = f32x4.add(a, f32x4.mul(v2, w2));
        c = f32x4.add(c, f32x4.mul(v3, w2));
        d = f32x4.add(d, f32x4.mul(v4, w2));
        e = f32x4.add(e, f32x4.mul(v5, w2));
        r += xRow;
        wr += cs3;
      }
      const yo = yq + o;
      v128.store(yo, activate4(a, act, vlo, vhi));
      v128.store(yo + cs, activate4(c, act, vlo, vhi));
      v128.store(yo + cs2, activate4(d, act, vlo, vhi));
      v128.store(yo + cs3, activate4(e, act, vlo, vhi));
      bj += bStep;
    }
  }
  if (q + 2 <= n) {
    const xq = x0 + <usize>q * cs,
      yq = y0 + <usize>q * cs;
    let bj = bp;
    for (let j = 0; j < C4; j += 4) {
      const o = (<usize>j) << 2;
      let a = v128.load(bj),
        c = a;
      let r = xq + o,
        wr = w + o;
      for (let kh = 0; kh < nkh; kh++) {
        const w0 = v128.load(wr),
          w1 = v128.load(wr + cs),
          w2 = v128.load(wr + cs2);
        const v0 = v128.load(r),
          v1 = v128.load(r + cs),
          v2 = v128.load(r + cs2),
          v3 = v128.load(r + cs3);
        a = f32x4.add(a, f32x4.mul(v0, w0));
        c = f32x4.add(c, f32x4.mul(v1, w0));
        a = f32x4.add(a, f32x4.mul(v1, w1));
        c = f32x4.add(c, f32x4.mul(v2, w1));
        a = f32x4.add(a, f32x4.mul(v2, w2));
        c = f32x4.add(c, f32x4.mul(v3, w2));
        r += xRow;
        wr += cs3;
      }
      const yo = yq + o;
      v128.store(yo, activate4(a, act, vlo, vhi));
      v128.store(yo + cs, activate4(c, act, vlo, vhi));
      bj += bStep;
    }
    q += 2;
  }
  if (q < n) pixel(x0 + <usize>q * cs, w, b, y0 + <usize>q * cs, cs, xRow, nkh, 3, C4, act, lo, hi);
  return n;
}

/** Stride 2: as tiles1 (neighbouring windows share one input column). */
function tiles2(
  x0: usize,
  w: usize,
  b: usize,
  y0: usize,
  cs: usize,
  xRow: usize,
  nkh: i32,
  n: i32,
  C4: i32,
  act: i32,
  lo: f32,
  hi: f32,
): i32 {
  const vlo = f32x4.splat(lo),
    vhi = f32x4.splat(hi);
  const bp = b == 0 ? ZERO4 : b,
    bStep: usize = b == 0 ? 0 : 16;
  const cs2 = cs << 1,
    cs3 = cs2 + cs,
    cs4 = cs2 << 1;
  let q = 0;
  for (; q + 4 <= n; q += 4) {
    const xq = x0 + <usize>q * cs2,
      yq = y0 + <usize>q * cs;
    let bj = bp;
    for (let j = 0; j < C4; j += 4) {
      const o = (<usize>j) << 2;
      let a = v128.load(bj),
        c = a,
        d = a,
        e = a;
      let r = xq + o,
        wr = w + o;
      for (let kh = 0; kh < nkh; kh++) {
        const w0 = v128.load(wr);
        const v2 = v128.load(r + cs2),
          v4 = v128.load(r + cs4),
          r6 = r + cs4 + cs2,
          v6 = v128.load(r6);
        a = f32x4.add(a, f32x4.mul(v128.load(r), w0));
        c = f32x4.add(c, f32x4.mul(v2, w0));
        d = f32x4.add(d, f32x4.mul(v4, w0));
        e = f32x4.add(e, f32x4.mul(v6, w0));
        const w1 = v128.load(wr + cs);
        a = f32x4.add(a, f32x4.mul(v128.load(r + cs), w1));
        c = f32x4.add(c, f32x4.mul(v128.load(r + cs3), w1));
        d = f32x4.add(d, f32x4.mul(v128.load(r + cs4 + cs), w1));
        e = f32x4.add(e, f32x4.mul(v128.load(r6 + cs), w1));
        const w2 = v128.load(wr + cs2);
        a = f32x4.add(a, f32x4.mul(v2, w2));
        c = f32x4.add(c, f32x4.mul(v4, w2));
        d = f32x4.add(d, f32x4.mul(v6, w2));
        e = f32x4.add(e, f32x4.mul(v128.load(r6 + cs2), w2));
        r += xRow;
        wr += cs3;
      }
      const yo = yq + o;
      v128.store(yo, activate4(a, act, vlo, vhi));
      v128.store(yo + cs, activate4(c, act, vlo, vhi));
      v128.store(yo + cs2, activate4(d, act, vlo, vhi));
      v128.store(yo + cs3, activate4(e, act, vlo, vhi));
      bj += bStep;
    }
  }
  for (; q + 2 <= n; q += 2) {
    const xq = x0 + <usize>q * cs2,
      yq = y0 + <usize>q * cs;
    let bj = bp;
    for (let j = 0; j < C4; j += 4) {
      const o = (<usize>j) << 2;
      let a = v128.load(bj),
        c = a;
      let r = xq + o,
        wr = w + o;
      for (let kh = 0; kh < nkh; kh++) {
        const w0 = v128.load(wr),
          w1 = v128.load(wr + cs),
          w2 = v128.load(wr + cs2);
        const v2 = v128.load(r + cs2);
        a = f32x4.add(a, f32x4.mul(v128.load(r), w0));
        c = f32x4.add(c, f32x4.mul(v2, w0));
        a = f32x4.add(a, f32x4.mul(v128.load(r + cs), w1));
        c = f32x4.add(c, f32x4.mul(v128.load(r + cs3), w1));
        a = f32x4.add(a, f32x4.mul(v2, w2));
        c = f32x4.add(c, f32x4.mul(v128.load(r + cs4), w2));
        r += xRow;
        wr += cs3;
      }
      const yo = yq + o;
      v128.store(yo, activate4(a, act, vlo, vhi));
      v128.store(yo + cs, activate4(c, act, vlo, vhi));
      bj += bStep;
    }
  }
  if (q < n) pixel(x0 + <usize>q * cs2, w, b, y0 + <usize>q * cs, cs, xRow, nkh, 3, C4, act, lo, hi);
  return n;
}
