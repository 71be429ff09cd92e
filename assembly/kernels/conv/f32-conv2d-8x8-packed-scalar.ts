// Conv2D_F32_P8 in the scalar build, pointwise convs: 8 consecutive pixels of the N·H·W row × the 8 lanes of a panel
// in 64 local accumulators, 16 loads per 64 products (f32-conv2d-4x8-packed-scalar.ts, which calls it, has 12 per
// 32; under wasm3 on a Cortex-M4F a load and the local it fills cost ≈ 90 instructions, a product ≈ 115). Panels
// w [G, P, 1, 1, Cig, 8]; x, y NHWC; offsets in bytes. Summation order per output as every Conv2D_F32_P8 variant:
// acc = b[co]; ci ascending; then activation. Bit-identical to refConv2dP8 and to the simd build.
import { activate } from '../activation';

/** Pointwise convs: 8 consecutive pixels (x0, x rows xs bytes apart; y0, ys) × one panel's 8 lanes (the first
 *  `cols` stored), over `run` input channels: 16 loads per 64 products, 64 accumulators in locals. */
export function tile8x8(
  x0: usize,
  xs: usize,
  w: usize,
  b: usize,
  y0: usize,
  ys: usize,
  run: i32,
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
  let a40 = c0,
    a41 = c1,
    a42 = c2,
    a43 = c3,
    a44 = c4,
    a45 = c5,
    a46 = c6,
    a47 = c7;
  let a50 = c0,
    a51 = c1,
    a52 = c2,
    a53 = c3,
    a54 = c4,
    a55 = c5,
    a56 = c6,
    a57 = c7;
  let a60 = c0,
    a61 = c1,
    a62 = c2,
    a63 = c3,
    a64 = c4,
    a65 = c5,
    a66 = c6,
    a67 = c7;
  let a70 = c0,
    a71 = c1,
    a72 = c2,
    a73 = c3,
    a74 = c4,
    a75 = c5,
    a76 = c6,
    a77 = c7;
  const xs2 = xs << 1,
    xs3 = xs * 3,
    xs4 = xs << 2,
    xs5 = xs * 5,
    xs6 = xs * 6,
    xs7 = xs * 7;
  let xp = x0,
    wp = w;
  const wEnd = w + ((<usize>run) << 5);
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
    v = load<f32>(xp + xs);
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
    v = load<f32>(xp + xs4);
    a40 += v * w0;
    a41 += v * w1;
    a42 += v * w2;
    a43 += v * w3;
    a44 += v * w4;
    a45 += v * w5;
    a46 += v * w6;
    a47 += v * w7;
    v = load<f32>(xp + xs5);
    a50 += v * w0;
    a51 += v * w1;
    a52 += v * w2;
    a53 += v * w3;
    a54 += v * w4;
    a55 += v * w5;
    a56 += v * w6;
    a57 += v * w7;
    v = load<f32>(xp + xs6);
    a60 += v * w0;
    a61 += v * w1;
    a62 += v * w2;
    a63 += v * w3;
    a64 += v * w4;
    a65 += v * w5;
    a66 += v * w6;
    a67 += v * w7;
    v = load<f32>(xp + xs7);
    a70 += v * w0;
    a71 += v * w1;
    a72 += v * w2;
    a73 += v * w3;
    a74 += v * w4;
    a75 += v * w5;
    a76 += v * w6;
    a77 += v * w7;
    xp += 4;
    wp += 32;
  }
  store8(y0, a00, a01, a02, a03, a04, a05, a06, a07, cols, act, lo, hi);
  store8(y0 + <usize>1 * ys, a10, a11, a12, a13, a14, a15, a16, a17, cols, act, lo, hi);
  store8(y0 + <usize>2 * ys, a20, a21, a22, a23, a24, a25, a26, a27, cols, act, lo, hi);
  store8(y0 + <usize>3 * ys, a30, a31, a32, a33, a34, a35, a36, a37, cols, act, lo, hi);
  store8(y0 + <usize>4 * ys, a40, a41, a42, a43, a44, a45, a46, a47, cols, act, lo, hi);
  store8(y0 + <usize>5 * ys, a50, a51, a52, a53, a54, a55, a56, a57, cols, act, lo, hi);
  store8(y0 + <usize>6 * ys, a60, a61, a62, a63, a64, a65, a66, a67, cols, act, lo, hi);
  store8(y0 + <usize>7 * ys, a70, a71, a72, a73, a74, a75, a76, a77, cols, act, lo, hi);
}

/** The first `cols` of 8 accumulators, activated, to o. */
export function store8(
  o: usize,
  v0: f32,
  v1: f32,
  v2: f32,
  v3: f32,
  v4: f32,
  v5: f32,
  v6: f32,
  v7: f32,
  cols: i32,
  act: i32,
  lo: f32,
  hi: f32,
): void {
  store<f32>(o, activate(v0, act, lo, hi));
  if (cols > 1) store<f32>(o, activate(v1, act, lo, hi), 4);
  if (cols > 2) store<f32>(o, activate(v2, act, lo, hi), 8);
  if (cols > 3) store<f32>(o, activate(v3, act, lo, hi), 12);
  if (cols > 4) store<f32>(o, activate(v4, act, lo, hi), 16);
  if (cols > 5) store<f32>(o, activate(v5, act, lo, hi), 20);
  if (cols > 6) store<f32>(o, activate(v6, act, lo, hi), 24);
  if (cols > 7) store<f32>(o, activate(v7, act, lo, hi), 28);
}
