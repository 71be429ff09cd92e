// Conv2D_F32_P8 in the scalar build (what wasm3 runs on microcontrollers): the panels of f32-conv2d-4x8-packed.ts,
// w [G, P = ceil(Cog/8), KH, KW, Cig, 8], x [N,H,W,Ci] / y [N,OH,OW,Co] NHWC, offsets in bytes, and its summation
// order per output (acc = b[co]; kh, kw, ci ascending, padded taps skipped; then activation).
// Register tiles of 4 output pixels × the 8 lanes of a panel in 32 local accumulators: each step loads 8 weights and
// 4 inputs for 32 products (wasm3 keeps locals in slots; every f32 value that passes its one float register costs a
// float↔double conversion on a Cortex-M4F, so loads are what a tile saves). Pointwise convs: 4 consecutive pixels of
// the N·H·W row, after 8 at a time (f32-conv2d-8x8-packed-scalar.ts). Other convs (ungrouped or not, any stride
// and dilation): 4 pixels down an output column, over the rows whose kernel rows are all in bounds; the column's
// kernel taps in the padding are one kw range skipped for all 4. The pixels left (top and bottom borders, short
// columns) run one at a time, 4 lanes per pass (pixelScalar).
// Bit-identical to refConv2dP8 (assembly/reference/conv.ts), to the simd build and to Conv2D_F32.
import { StepParams } from '../../bundle/model';
import { activate } from '../activation';
import { store8, tile8x8 } from './f32-conv2d-8x8-packed-scalar';

/** The scalar build's Conv2D_F32_P8; `pointwise` (1×1, stride 1, unpadded): the caller has made the N·H·W pixels one
 *  row (N = H = OH = 1, W = OW = N·H·W). */
export function conv2dF32P8Scalar(
  x: usize,
  w: usize,
  b: usize,
  y: usize,
  N: i32,
  H: i32,
  W: i32,
  Ci: i32,
  OH: i32,
  OW: i32,
  Co: i32,
  G: i32,
  p: StepParams,
  pointwise: bool,
): void {
  const Cig = Ci / G,
    Cog = Co / G,
    KH = p.kh,
    KW = p.kw;
  const P = (Cog + 7) >> 3;
  const panelBytes = (<usize>(KH * KW * Cig)) << 5;
  const xPix = (<usize>Ci) << 2,
    yPix = (<usize>Co) << 2;
  for (let g = 0; g < G; g++) {
    const wg = w + <usize>g * <usize>P * panelBytes,
      bg: usize = b == 0 ? 0 : b + ((<usize>(g * Cog)) << 2);
    if (pointwise) {
      const xg = x + ((<usize>(g * Cig)) << 2),
        yg = y + ((<usize>(g * Cog)) << 2);
      let t = 0;
      for (; t + 8 <= OW; t += 8) {
        const x0 = xg + <usize>t * xPix,
          y0 = yg + <usize>t * yPix;
        for (let pi = 0; pi < P; pi++) {
          const jb = (<usize>pi) << 5;
          tile8x8(
            x0,
            xPix,
            wg + <usize>pi * panelBytes,
            bg == 0 ? 0 : bg + jb,
            y0 + jb,
            yPix,
            Cig,
            min(8, Cog - (pi << 3)),
            p.act,
            p.actMin,
            p.actMax,
          );
        }
      }
      for (; t + 4 <= OW; t += 4) {
        const x0 = xg + <usize>t * xPix,
          y0 = yg + <usize>t * yPix;
        tilePanels(
          x0,
          x0 + xPix,
          x0 + 2 * xPix,
          x0 + 3 * xPix,
          wg,
          bg,
          y0,
          y0 + yPix,
          y0 + 2 * yPix,
          y0 + 3 * yPix,
          1,
          1,
          Cig,
          0,
          0,
          0,
          P,
          panelBytes,
          Cog,
          p,
        );
      }
      for (; t < OW; t++) pixelScalar(x, wg, bg, yg + <usize>t * yPix, H, W, Ci, Cig, Cog, g, 0, t, p);
      continue;
    }
    for (let n = 0; n < N; n++) {
      const xn = x + <usize>n * <usize>(H * W) * xPix,
        yn = y + <usize>n * <usize>(OH * OW) * yPix;
      // output rows whose kernel rows are all in bounds: [ohLo, ohHi)
      const ohLo = p.pt > 0 ? (p.pt + p.sh - 1) / p.sh : 0;
      const lastH = H - 1 - (KH - 1) * p.dh + p.pt;
      const ohHi = lastH < 0 ? 0 : min(OH, lastH / p.sh + 1);
      for (let ow = 0; ow < OW; ow++) {
        const yc = yn + ((<usize>(ow * Co + g * Cog)) << 2),
          yStep = <usize>OW * yPix;
        // this column's kernel taps in bounds: [kw0, kw1)
        const iw0 = ow * p.sw - p.pl;
        const kw0 = iw0 < 0 ? (p.dw - 1 - iw0) / p.dw : 0;
        const kw1 = iw0 >= W ? 0 : min(KW, (W - 1 - iw0) / p.dw + 1);
        let oh = 0;
        if (kw0 < kw1 && ohHi - ohLo >= 4) {
          for (; oh < ohLo; oh++) pixelScalar(xn, wg, bg, yc + <usize>oh * yStep, H, W, Ci, Cig, Cog, g, oh, ow, p);
          // one tile step runs a kernel row's taps [kw0, kw1) × Cig: one loop when they are adjacent in x
          const merged = p.dw == 1 && Cig == Ci;
          const nkw = merged ? 1 : kw1 - kw0,
            run = merged ? (kw1 - kw0) * Ci : Cig;
          const xTap = (<usize>(p.dw * Ci)) << 2,
            wTap = (<usize>Cig) << 5;
          const xRow = <usize>(p.dh * W) * xPix,
            xStep = <usize>(p.sh * W) * xPix;
          const xc = xn + ((<usize>((iw0 + kw0 * p.dw) * Ci + g * Cig)) << 2),
            wc = wg + <usize>kw0 * wTap;
          for (; oh + 4 <= ohHi; oh += 4) {
            const x0 = xc + <usize>(oh * p.sh - p.pt) * <usize>W * xPix;
            const y0 = yc + <usize>oh * yStep;
            tilePanels(
              x0,
              x0 + xStep,
              x0 + 2 * xStep,
              x0 + 3 * xStep,
              wc,
              bg,
              y0,
              y0 + yStep,
              y0 + 2 * yStep,
              y0 + 3 * yStep,
              KH,
              nkw,
              run,
              xRow,
              xTap,
              wTap,
              P,
              panelBytes,
              Cog,
              p,
            );
          }
        }
        for (; oh < OH; oh++) pixelScalar(xn, wg, bg, yc + <usize>oh * yStep, H, W, Ci, Cig, Cog, g, oh, ow, p);
      }
    }
  }
}

/** A tile of 4 pixels over every panel of the group. x0..x3: each pixel's first tap in bounds; w: the group's first
 *  panel at that tap; y0..y3: each pixel's output at channel 0 of the group. */
function tilePanels(
  x0: usize,
  x1: usize,
  x2: usize,
  x3: usize,
  w: usize,
  bg: usize,
  y0: usize,
  y1: usize,
  y2: usize,
  y3: usize,
  KH: i32,
  nkw: i32,
  run: i32,
  xRow: usize,
  xTap: usize,
  wTap: usize,
  P: i32,
  panelBytes: usize,
  Cog: i32,
  p: StepParams,
): void {
  const wRow = <usize>p.kw * wTap;
  for (let pi = 0; pi < P; pi++) {
    const jb = (<usize>pi) << 5;
    tile4x8(
      x0,
      x1,
      x2,
      x3,
      w + <usize>pi * panelBytes,
      bg == 0 ? 0 : bg + jb,
      y0 + jb,
      y1 + jb,
      y2 + jb,
      y3 + jb,
      KH,
      nkw,
      run,
      xRow,
      xTap,
      wRow,
      wTap,
      min(8, Cog - (pi << 3)),
      p.act,
      p.actMin,
      p.actMax,
    );
  }
}

/** 4 pixels × one panel's 8 lanes (the first `cols` stored). Per kernel row (KH of them, x rows xRow bytes apart,
 *  weight rows wRow), nkw taps (xTap / wTap apart) of `run` contiguous floats each. */
function tile4x8(
  x0: usize,
  x1: usize,
  x2: usize,
  x3: usize,
  w: usize,
  b: usize,
  y0: usize,
  y1: usize,
  y2: usize,
  y3: usize,
  KH: i32,
  nkw: i32,
  run: i32,
  xRow: usize,
  xTap: usize,
  wRow: usize,
  wTap: usize,
  cols: i32,
  act: i32,
  lo: f32,
  hi: f32,
): void {
  const c0: f32 = b == 0 ? 0 : load<f32>(b);
  const c1: f32 = b == 0 || cols < 2 ? 0 : load<f32>(b, 4);
  const c2: f32 = b == 0 || cols < 3 ? 0 : load<f32>(b, 8);
  const c3: f32 = b == 0 || cols < 4 ? 0 : load<f32>(b, 12);
  const c4: f32 = b == 0 || cols < 5 ? 0 : load<f32>(b, 16);
  const c5: f32 = b == 0 || cols < 6 ? 0 : load<f32>(b, 20);
  const c6: f32 = b == 0 || cols < 7 ? 0 : load<f32>(b, 24);
  const c7: f32 = b == 0 || cols < 8 ? 0 : load<f32>(b, 28);
  let a00 = c0,
    a01 = c1,
    a02 = c2,
    a03 = c3,
    a04 = c4,
    a05 = c5,
    a06 = c6,
    a07 = c7;
  let a10 = c0,
    a11 = c1,
    a12 = c2,
    a13 = c3,
    a14 = c4,
    a15 = c5,
    a16 = c6,
    a17 = c7;
  let a20 = c0,
    a21 = c1,
    a22 = c2,
    a23 = c3,
    a24 = c4,
    a25 = c5,
    a26 = c6,
    a27 = c7;
  let a30 = c0,
    a31 = c1,
    a32 = c2,
    a33 = c3,
    a34 = c4,
    a35 = c5,
    a36 = c6,
    a37 = c7;
  const xs1 = x1 - x0,
    xs2 = x2 - x0,
    xs3 = x3 - x0;
  for (let kh = 0; kh < KH; kh++) {
    const xr = x0 + <usize>kh * xRow,
      wr = w + <usize>kh * wRow;
    for (let t = 0; t < nkw; t++) {
      let xp = xr + <usize>t * xTap,
        wp = wr + <usize>t * wTap;
      const wEnd = wp + ((<usize>run) << 5);
      while (wp < wEnd) {
        const w0 = load<f32>(wp, 0),
          w1 = load<f32>(wp, 4),
          w2 = load<f32>(wp, 8),
          w3 = load<f32>(wp, 12),
          w4 = load<f32>(wp, 16),
          w5 = load<f32>(wp, 20),
          w6 = load<f32>(wp, 24),
          w7 = load<f32>(wp, 28);
        let v = load<f32>(xp);
        a00 += v * w0;
        a01 += v * w1;
        a02 += v * w2;
        a03 += v * w3;
        a04 += v * w4;
        a05 += v * w5;
        a06 += v * w6;
        a07 += v * w7;
        v = load<f32>(xp + xs1);
        a10 += v * w0;
        a11 += v * w1;
        a12 += v * w2;
        a13 += v * w3;
        a14 += v * w4;
        a15 += v * w5;
        a16 += v * w6;
        a17 += v * w7;
        v = load<f32>(xp + xs2);
        a20 += v * w0;
        a21 += v * w1;
        a22 += v * w2;
        a23 += v * w3;
        a24 += v * w4;
        a25 += v * w5;
        a26 += v * w6;
        a27 += v * w7;
        v = load<f32>(xp + xs3);
        a30 += v * w0;
        a31 += v * w1;
        a32 += v * w2;
        a33 += v * w3;
        a34 += v * w4;
        a35 += v * w5;
        a36 += v * w6;
        a37 += v * w7;
        xp += 4;
        wp += 32;
      }
    }
  }
  store8(y0, a00, a01, a02, a03, a04, a05, a06, a07, cols, act, lo, hi);
  store8(y1, a10, a11, a12, a13, a14, a15, a16, a17, cols, act, lo, hi);
  store8(y2, a20, a21, a22, a23, a24, a25, a26, a27, cols, act, lo, hi);
  store8(y3, a30, a31, a32, a33, a34, a35, a36, a37, cols, act, lo, hi);
}

/** One output pixel (row oh, column ow of the image whose x is at xn; its outputs of group g at yp), 4 lanes of a
 *  panel at a time in locals (a partial panel's zero lanes past Cog are summed too, never stored). */
function pixelScalar(
  xn: usize,
  wg: usize,
  bg: usize,
  yp: usize,
  H: i32,
  W: i32,
  Ci: i32,
  Cig: i32,
  Cog: i32,
  g: i32,
  oh: i32,
  ow: i32,
  p: StepParams,
): void {
  const KH = p.kh,
    KW = p.kw;
  const ih0 = oh * p.sh - p.pt,
    iw0 = ow * p.sw - p.pl;
  const xg = xn + ((<usize>(g * Cig)) << 2);
  const panelBytes = (<usize>(KH * KW * Cig)) << 5;
  const act = p.act,
    lo = p.actMin,
    hi = p.actMax;
  for (let j = 0; j < Cog; j += 4) {
    const bj = bg + ((<usize>j) << 2);
    let a0: f32 = bg == 0 ? 0 : load<f32>(bj),
      a1: f32 = bg == 0 || j + 1 >= Cog ? 0 : load<f32>(bj, 4);
    let a2: f32 = bg == 0 || j + 2 >= Cog ? 0 : load<f32>(bj, 8),
      a3: f32 = bg == 0 || j + 3 >= Cog ? 0 : load<f32>(bj, 12);
    const wj = wg + <usize>(j >> 3) * panelBytes + ((<usize>(j & 7)) << 2);
    for (let kh = 0; kh < KH; kh++) {
      const ih = ih0 + kh * p.dh;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = iw0 + kw * p.dw;
        if (iw < 0 || iw >= W) continue;
        let xp = xg + ((<usize>((ih * W + iw) * Ci)) << 2);
        let wp = wj + ((<usize>((kh * KW + kw) * Cig)) << 5);
        for (let ci = 0; ci < Cig; ci++) {
          const xv = load<f32>(xp);
          a0 += xv * load<f32>(wp);
          a1 += xv * load<f32>(wp, 4);
          a2 += xv * load<f32>(wp, 8);
          a3 += xv * load<f32>(wp, 12);
          xp += 4;
          wp += 32;
        }
      }
    }
    const o = yp + ((<usize>j) << 2);
    store<f32>(o, activate(a0, act, lo, hi));
    if (j + 1 < Cog) store<f32>(o, activate(a1, act, lo, hi), 4);
    if (j + 2 < Cog) store<f32>(o, activate(a2, act, lo, hi), 8);
    if (j + 3 < Cog) store<f32>(o, activate(a3, act, lo, hi), 12);
  }
}
