// DepthwiseConv2D_F32 in the scalar build (what wasm3 runs on microcontrollers) for 3×3 kernels, stride 1, no
// dilation, multiplier 1 (KWS, MobileNet's stride-1 blocks): x [N,H,W,C] / y [N,OH,OW,C] NHWC, w [3,3,C], b [C] or
// none; offsets in bytes. Summation order per output as f32-dwconv2d.ts: acc = b; kh, kw ascending, padded taps
// skipped; then activation. Channel outer: its 9 weights and bias stay in locals. Per output column, tiles of 4
// rows whose kernel rows are all in bounds read their 6×3 input window once into locals (12 loads for 36 products:
// the window's last 2 rows are the next tile's first; under wasm3 every f32 load costs a float→double conversion on
// a Cortex-M4F); the column's kernel columns in the padding are skipped for all 4 rows by one flag each. A last
// short run of rows takes the tile ending at the last row (its first rows computed twice, the same bits; it loads
// its whole window); border rows run one pixel at a time with a flag per tap.
// Bit-identical to refDwconv2d (assembly/reference/conv.ts) and to the simd build.
import { activate } from '../activation';

/** Whether the scalar 3×3 tiles run this depthwise conv. */
// @ts-ignore: decorator
@inline export function dw3x3Scalar(kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, mult: i32): bool {
  return kh == 3 && kw == 3 && sh == 1 && sw == 1 && dh == 1 && dw == 1 && mult == 1;
}

export function dwconv3x3F32Scalar(
  x: usize,
  w: usize,
  b: usize,
  y: usize,
  N: i32,
  H: i32,
  W: i32,
  C: i32,
  OH: i32,
  OW: i32,
  pt: i32,
  pl: i32,
  act: i32,
  lo: f32,
  hi: f32,
): void {
  // output rows whose 3 kernel rows are in bounds: [ohLo, ohHi)
  const ohLo = min(pt, OH),
    ohHi = max(ohLo, min(OH, H - 2 + pt));
  const pix = (<usize>C) << 2;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * <usize>(H * W) * pix,
      yn = y + <usize>n * <usize>(OH * OW) * pix;
    for (let c = 0; c < C; c++) {
      const cb = (<usize>c) << 2;
      channel(xn + cb, w + cb, b == 0 ? 0 : b + cb, yn + cb, H, W, C, OH, OW, pt, pl, ohLo, ohHi, act, lo, hi);
    }
  }
}

/** One channel of one image: xc, yc its first value in x and y, wc its first weight, bc its bias (0: none). */
function channel(
  xc: usize,
  wc: usize,
  bc: usize,
  yc: usize,
  H: i32,
  W: i32,
  C: i32,
  OH: i32,
  OW: i32,
  pt: i32,
  pl: i32,
  ohLo: i32,
  ohHi: i32,
  act: i32,
  lo: f32,
  hi: f32,
): void {
  const pix = (<usize>C) << 2,
    xRow = <usize>W * pix,
    yRow = <usize>OW * pix;
  const w00 = load<f32>(wc),
    w01 = load<f32>(wc + pix),
    w02 = load<f32>(wc + 2 * pix),
    w10 = load<f32>(wc + 3 * pix),
    w11 = load<f32>(wc + 4 * pix),
    w12 = load<f32>(wc + 5 * pix),
    w20 = load<f32>(wc + 6 * pix),
    w21 = load<f32>(wc + 7 * pix),
    w22 = load<f32>(wc + 8 * pix);
  const bias: f32 = bc == 0 ? 0 : load<f32>(bc);
  const x2 = xRow << 1,
    x3 = xRow * 3,
    x4 = xRow << 2,
    x5 = xRow * 5;
  for (let ow = 0; ow < OW; ow++) {
    const iw0 = ow - pl;
    const k0 = iw0 >= 0 && iw0 < W,
      k1 = iw0 + 1 >= 0 && iw0 + 1 < W,
      k2 = iw0 + 2 >= 0 && iw0 + 2 < W;
    // each kernel column's input column (an invalid one reads nothing)
    const c0 = xc + <usize>iw0 * pix,
      c1 = c0 + pix,
      c2 = c1 + pix;
    const yo = yc + <usize>ow * pix;
    let oh = 0;
    if (ohHi - ohLo >= 4) {
      for (; oh < ohLo; oh++)
        pixel(
          c0,
          c1,
          c2,
          oh - pt,
          H,
          xRow,
          k0,
          k1,
          k2,
          w00,
          w01,
          w02,
          w10,
          w11,
          w12,
          w20,
          w21,
          w22,
          bias,
          yo + <usize>oh * yRow,
          act,
          lo,
          hi,
        );
      // the window's rows 4 and 5 are the next tile's rows 0 and 1 (kept in locals) unless the last tile overlaps
      let x00: f32 = 0,
        x10: f32 = 0,
        x20: f32 = 0,
        x30: f32 = 0,
        x40: f32 = 0,
        x50: f32 = 0;
      let x01: f32 = 0,
        x11: f32 = 0,
        x21: f32 = 0,
        x31: f32 = 0,
        x41: f32 = 0,
        x51: f32 = 0;
      let x02: f32 = 0,
        x12: f32 = 0,
        x22: f32 = 0,
        x32: f32 = 0,
        x42: f32 = 0,
        x52: f32 = 0;
      let next = -1;
      for (let t = ohLo; t < ohHi; t += 4) {
        const r = min(t, ohHi - 4);
        const ro = <usize>(r - pt) * xRow;
        if (r == next) {
          x00 = x40;
          x10 = x50;
          x01 = x41;
          x11 = x51;
          x02 = x42;
          x12 = x52;
        } else {
          if (k0) {
            x00 = load<f32>(c0 + ro);
            x10 = load<f32>(c0 + ro + xRow);
          }
          if (k1) {
            x01 = load<f32>(c1 + ro);
            x11 = load<f32>(c1 + ro + xRow);
          }
          if (k2) {
            x02 = load<f32>(c2 + ro);
            x12 = load<f32>(c2 + ro + xRow);
          }
        }
        next = r + 4;
        if (k0) {
          const q = c0 + ro;
          x20 = load<f32>(q + x2);
          x30 = load<f32>(q + x3);
          x40 = load<f32>(q + x4);
          x50 = load<f32>(q + x5);
        }
        if (k1) {
          const q = c1 + ro;
          x21 = load<f32>(q + x2);
          x31 = load<f32>(q + x3);
          x41 = load<f32>(q + x4);
          x51 = load<f32>(q + x5);
        }
        if (k2) {
          const q = c2 + ro;
          x22 = load<f32>(q + x2);
          x32 = load<f32>(q + x3);
          x42 = load<f32>(q + x4);
          x52 = load<f32>(q + x5);
        }
        let a0 = bias,
          a1 = bias,
          a2 = bias,
          a3 = bias;
        // kernel row 0, then 1, then 2; in each, columns 0, 1, 2 (the order of every output's sum)
        if (k0) {
          a0 += x00 * w00;
          a1 += x10 * w00;
          a2 += x20 * w00;
          a3 += x30 * w00;
        }
        if (k1) {
          a0 += x01 * w01;
          a1 += x11 * w01;
          a2 += x21 * w01;
          a3 += x31 * w01;
        }
        if (k2) {
          a0 += x02 * w02;
          a1 += x12 * w02;
          a2 += x22 * w02;
          a3 += x32 * w02;
        }
        if (k0) {
          a0 += x10 * w10;
          a1 += x20 * w10;
          a2 += x30 * w10;
          a3 += x40 * w10;
        }
        if (k1) {
          a0 += x11 * w11;
          a1 += x21 * w11;
          a2 += x31 * w11;
          a3 += x41 * w11;
        }
        if (k2) {
          a0 += x12 * w12;
          a1 += x22 * w12;
          a2 += x32 * w12;
          a3 += x42 * w12;
        }
        if (k0) {
          a0 += x20 * w20;
          a1 += x30 * w20;
          a2 += x40 * w20;
          a3 += x50 * w20;
        }
        if (k1) {
          a0 += x21 * w21;
          a1 += x31 * w21;
          a2 += x41 * w21;
          a3 += x51 * w21;
        }
        if (k2) {
          a0 += x22 * w22;
          a1 += x32 * w22;
          a2 += x42 * w22;
          a3 += x52 * w22;
        }
        const o = yo + <usize>r * yRow;
        store<f32>(o, activate(a0, act, lo, hi));
        store<f32>(o + yRow, activate(a1, act, lo, hi));
        store<f32>(o + 2 * yRow, activate(a2, act, lo, hi));
        store<f32>(o + 3 * yRow, activate(a3, act, lo, hi));
      }
      oh = ohHi;
    }
    for (; oh < OH; oh++)
      pixel(
        c0,
        c1,
        c2,
        oh - pt,
        H,
        xRow,
        k0,
        k1,
        k2,
        w00,
        w01,
        w02,
        w10,
        w11,
        w12,
        w20,
        w21,
        w22,
        bias,
        yo + <usize>oh * yRow,
        act,
        lo,
        hi,
      );
  }
}

/** One output: input row ih0 (kernel row 0; rows out of [0, H) skipped) of the columns c0..c2 (k0..k2: in bounds). */
function pixel(
  c0: usize,
  c1: usize,
  c2: usize,
  ih0: i32,
  H: i32,
  xRow: usize,
  k0: bool,
  k1: bool,
  k2: bool,
  w00: f32,
  w01: f32,
  w02: f32,
  w10: f32,
  w11: f32,
  w12: f32,
  w20: f32,
  w21: f32,
  w22: f32,
  bias: f32,
  o: usize,
  act: i32,
  lo: f32,
  hi: f32,
): void {
  let a = bias;
  if (ih0 >= 0 && ih0 < H) {
    const r = <usize>ih0 * xRow;
    if (k0) a += load<f32>(c0 + r) * w00;
    if (k1) a += load<f32>(c1 + r) * w01;
    if (k2) a += load<f32>(c2 + r) * w02;
  }
  if (ih0 + 1 >= 0 && ih0 + 1 < H) {
    const r = <usize>(ih0 + 1) * xRow;
    if (k0) a += load<f32>(c0 + r) * w10;
    if (k1) a += load<f32>(c1 + r) * w11;
    if (k2) a += load<f32>(c2 + r) * w12;
  }
  if (ih0 + 2 >= 0 && ih0 + 2 < H) {
    const r = <usize>(ih0 + 2) * xRow;
    if (k0) a += load<f32>(c0 + r) * w20;
    if (k1) a += load<f32>(c1 + r) * w21;
    if (k2) a += load<f32>(c2 + r) * w22;
  }
  store<f32>(o, activate(a, act, lo, hi));
}
