// Depthwise conv, f32. x [N,H,W,C] NHWC, w [KH,KW,C·M], b [C·M] or none, y [N,OH,OW,C·M]; output
// channel oc = c·M + m reads input channel c. Per output: acc = b; kh, kw ascending (padded taps
// skipped); activation. SIMD, 3×3 undilated stride 1 or 2, M = 1: f32-dwconv2d-3x3-4x4-wasmsimd.ts
// (channels [0, C4)); other M = 1: 2 interior pixels x 16 channels (8 accumulators, no tap checks),
// tap-checked 1 x 16/4 elsewhere. M > 1, channel tails and the scalar build: 4 channels in local f32
// accumulators; the scalar build's 3×3 stride-1 ones: f32-dwconv2d-3x3-scalar.ts.
// Bit-identical to the reference in both builds.
import { StepParams } from '../../bundle/model';
import { activate, activate4, simdAct } from '../activation';
import { dw3x3Scalar, dwconv3x3F32Scalar } from './f32-dwconv2d-3x3-scalar';
import { dwconv3x3RowF32 } from './f32-dwconv2d-3x3-4x4-wasmsimd';

export function dwconv2dF32(
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
  p: StepParams,
): void {
  if (!ASC_FEATURE_SIMD) {
    if (dw3x3Scalar(p.kh, p.kw, p.sh, p.sw, p.dh, p.dw, p.mult)) {
      dwconv3x3F32Scalar(x, w, b, y, N, H, W, C, OH, OW, p.pt, p.pl, p.act, p.actMin, p.actMax);
      return;
    }
  }
  const M = p.mult,
    Co = C * M;
  // Interior columns (every kw tap in bounds), as in f32-conv2d.ts.
  let owLo = (p.pl + p.sw - 1) / p.sw;
  const lastStart = W - 1 + p.pl - (p.kw - 1) * p.dw;
  let owHi = lastStart >= 0 ? lastStart / p.sw + 1 : 0;
  if (owHi > OW) owHi = OW;
  if (owLo > owHi) owLo = owHi;
  const C16 = C & ~15,
    C4 = C & ~3;
  // 3×3, multiplier 1, no dilation, stride 1 or 2: f32-dwconv2d-3x3-4x4-wasmsimd.ts runs its rows (channels [0, C4))
  const k3 = M == 1 && p.kh == 3 && p.kw == 3 && p.dh == 1 && p.dw == 1 && (p.sw == 1 || p.sw == 2);
  const act = simdAct(p.act, p.actMin, p.actMax);
  for (let n = 0; n < N; n++) {
    const xn = x + ((<usize>(n * H * W * C)) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * p.sh - p.pt;
      let ow = 0;
      if (ASC_FEATURE_SIMD) {
        if (k3 && C4 > 0) {
          const yr = y + ((<usize>((n * OH + oh) * OW * C)) << 2);
          dwconv3x3RowF32(xn, w, b, yr, H, W, C, C4, ih0, p.pl, p.sw, OW, owLo, owHi, act, p.actMin, p.actMax);
          if (C4 < C)
            for (let q = 0; q < OW; q++) pixelScalar(xn, w, b, yr + ((<usize>(q * C)) << 2), H, W, C, oh, q, C4, p);
          continue;
        }
        if (M == 1 && C16 > 0 && ih0 >= 0 && ih0 + (p.kh - 1) * p.dh < H) {
          for (; ow < owLo; ow++) pixel(xn, w, b, y, H, W, C, OH, OW, n, oh, ow, p);
          for (; ow + 2 <= owHi; ow += 2) {
            const yp = y + ((<usize>(((n * OH + oh) * OW + ow) * Co)) << 2);
            tile2x16(xn, w, b, yp, W, C, ih0, ow * p.sw - p.pl, C16, p);
            for (let q = 0; q < 2; q++) {
              const j = pixelSimd(xn, w, b, yp + ((<usize>(q * Co)) << 2), H, W, C, oh, ow + q, C16, p);
              if (j < Co) pixelScalar(xn, w, b, yp + ((<usize>(q * Co)) << 2), H, W, C, oh, ow + q, j, p);
            }
          }
        }
      }
      for (; ow < OW; ow++) pixel(xn, w, b, y, H, W, C, OH, OW, n, oh, ow, p);
    }
  }
}

/** One output pixel, all channels: vector blocks where possible, then the scalar loop. */
function pixel(
  xn: usize,
  w: usize,
  b: usize,
  y: usize,
  H: i32,
  W: i32,
  C: i32,
  OH: i32,
  OW: i32,
  n: i32,
  oh: i32,
  ow: i32,
  p: StepParams,
): void {
  const Co = C * p.mult;
  const yp = y + ((<usize>(((n * OH + oh) * OW + ow) * Co)) << 2);
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    if (p.mult == 1) j = pixelSimd(xn, w, b, yp, H, W, C, oh, ow, 0, p);
  }
  if (j < Co) pixelScalar(xn, w, b, yp, H, W, C, oh, ow, j, p);
}

/** Two interior pixels (every tap in bounds, M = 1) x channels [0, C16) in 16-channel blocks. */
function tile2x16(
  xn: usize,
  w: usize,
  b: usize,
  yp: usize,
  W: i32,
  C: i32,
  ih0: i32,
  iw0: i32,
  C16: i32,
  p: StepParams,
): void {
  const KH = p.kh,
    KW = p.kw;
  const rowStep = (<usize>(p.dh * W * C)) << 2,
    tapStep = (<usize>(p.dw * C)) << 2,
    pixStep = (<usize>(p.sw * C)) << 2;
  const act = simdAct(p.act, p.actMin, p.actMax),
    lo = f32x4.splat(p.actMin),
    hi = f32x4.splat(p.actMax);
  for (let j = 0; j < C16; j += 16) {
    const bj = b + ((<usize>j) << 2);
    let a0 = b == 0 ? f32x4.splat(0) : v128.load(bj),
      a1 = b == 0 ? f32x4.splat(0) : v128.load(bj, 16);
    let a2 = b == 0 ? f32x4.splat(0) : v128.load(bj, 32),
      a3 = b == 0 ? f32x4.splat(0) : v128.load(bj, 48);
    let c0 = a0,
      c1 = a1,
      c2 = a2,
      c3 = a3;
    let xr = xn + ((<usize>((ih0 * W + iw0) * C + j)) << 2);
    let wp = w + ((<usize>j) << 2);
    const wStep = (<usize>C) << 2;
    for (let kh = 0; kh < KH; kh++) {
      let xp = xr;
      for (let kw = 0; kw < KW; kw++) {
        const w0 = v128.load(wp),
          w1 = v128.load(wp, 16),
          w2 = v128.load(wp, 32),
          w3 = v128.load(wp, 48);
        a0 = f32x4.add(a0, f32x4.mul(v128.load(xp), w0));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(xp, 16), w1));
        a2 = f32x4.add(a2, f32x4.mul(v128.load(xp, 32), w2));
        a3 = f32x4.add(a3, f32x4.mul(v128.load(xp, 48), w3));
        const xq = xp + pixStep;
        c0 = f32x4.add(c0, f32x4.mul(v128.load(xq), w0));
        c1 = f32x4.add(c1, f32x4.mul(v128.load(xq, 16), w1));
        c2 = f32x4.add(c2, f32x4.mul(v128.load(xq, 32), w2));
        c3 = f32x4.add(c3, f32x4.mul(v128.load(xq, 48), w3));
        xp += tapStep;
        wp += wStep;
      }
      xr += rowStep;
    }
    const o = yp + ((<usize>j) << 2),
      o2 = o + ((<usize>C) << 2);
    v128.store(o, activate4(a0, act, lo, hi));
    v128.store(o, activate4(a1, act, lo, hi), 16);
    v128.store(o, activate4(a2, act, lo, hi), 32);
    v128.store(o, activate4(a3, act, lo, hi), 48);
    v128.store(o2, activate4(c0, act, lo, hi));
    v128.store(o2, activate4(c1, act, lo, hi), 16);
    v128.store(o2, activate4(c2, act, lo, hi), 32);
    v128.store(o2, activate4(c3, act, lo, hi), 48);
  }
}

/** Channels [j0, C·M) of one pixel: 4 output channels in local accumulators, then single ones. */
function pixelScalar(
  xn: usize,
  w: usize,
  b: usize,
  yp: usize,
  H: i32,
  W: i32,
  C: i32,
  oh: i32,
  ow: i32,
  j0: i32,
  p: StepParams,
): void {
  const M = p.mult,
    Co = C * M;
  const ih0 = oh * p.sh - p.pt,
    iw0 = ow * p.sw - p.pl;
  const KH = p.kh,
    KW = p.kw,
    DH = p.dh,
    DW = p.dw;
  let j = j0;
  for (; j + 4 <= Co; j += 4) {
    // Byte offsets of the input channel each of the 4 outputs reads (c = oc / M).
    const x0 = (<usize>(j / M)) << 2,
      x1 = (<usize>((j + 1) / M)) << 2,
      x2 = (<usize>((j + 2) / M)) << 2,
      x3 = (<usize>((j + 3) / M)) << 2;
    const bj = b + ((<usize>j) << 2);
    let a0: f32 = b == 0 ? 0 : load<f32>(bj),
      a1: f32 = b == 0 ? 0 : load<f32>(bj, 4);
    let a2: f32 = b == 0 ? 0 : load<f32>(bj, 8),
      a3: f32 = b == 0 ? 0 : load<f32>(bj, 12);
    for (let kh = 0; kh < KH; kh++) {
      const ih = ih0 + kh * DH;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = iw0 + kw * DW;
        if (iw < 0 || iw >= W) continue;
        const xp = xn + ((<usize>((ih * W + iw) * C)) << 2);
        const wp = w + ((<usize>((kh * KW + kw) * Co + j)) << 2);
        a0 += load<f32>(xp + x0) * load<f32>(wp);
        a1 += load<f32>(xp + x1) * load<f32>(wp, 4);
        a2 += load<f32>(xp + x2) * load<f32>(wp, 8);
        a3 += load<f32>(xp + x3) * load<f32>(wp, 12);
      }
    }
    const o = yp + ((<usize>j) << 2);
    store<f32>(o, activate(a0, p.act, p.actMin, p.actMax));
    store<f32>(o, activate(a1, p.act, p.actMin, p.actMax), 4);
    store<f32>(o, activate(a2, p.act, p.actMin, p.actMax), 8);
    store<f32>(o, activate(a3, p.act, p.actMin, p.actMax), 12);
  }
  for (; j < Co; j++) {
    const xc = (<usize>(j / M)) << 2;
    let acc: f32 = b == 0 ? 0 : load<f32>(b + ((<usize>j) << 2));
    for (let kh = 0; kh < KH; kh++) {
      const ih = ih0 + kh * DH;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = iw0 + kw * DW;
        if (iw < 0 || iw >= W) continue;
        acc +=
          load<f32>(xn + ((<usize>((ih * W + iw) * C)) << 2) + xc) *
          load<f32>(w + ((<usize>((kh * KW + kw) * Co + j)) << 2));
      }
    }
    store<f32>(yp + ((<usize>j) << 2), activate(acc, p.act, p.actMin, p.actMax));
  }
}

/** M = 1: 16- then 4-channel vector blocks of one pixel from channel j0 (tap-checked); returns
 *  the first channel not done. */
function pixelSimd(
  xn: usize,
  w: usize,
  b: usize,
  yp: usize,
  H: i32,
  W: i32,
  C: i32,
  oh: i32,
  ow: i32,
  j0: i32,
  p: StepParams,
): i32 {
  const ih0 = oh * p.sh - p.pt,
    iw0 = ow * p.sw - p.pl;
  const KH = p.kh,
    KW = p.kw,
    DH = p.dh,
    DW = p.dw;
  const act = simdAct(p.act, p.actMin, p.actMax),
    lo = f32x4.splat(p.actMin),
    hi = f32x4.splat(p.actMax);
  let j = j0;
  for (; j + 16 <= C; j += 16) {
    const bj = b + ((<usize>j) << 2);
    let a0 = b == 0 ? f32x4.splat(0) : v128.load(bj);
    let a1 = b == 0 ? f32x4.splat(0) : v128.load(bj, 16);
    let a2 = b == 0 ? f32x4.splat(0) : v128.load(bj, 32);
    let a3 = b == 0 ? f32x4.splat(0) : v128.load(bj, 48);
    for (let kh = 0; kh < KH; kh++) {
      const ih = ih0 + kh * DH;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = iw0 + kw * DW;
        if (iw < 0 || iw >= W) continue;
        const xp = xn + ((<usize>((ih * W + iw) * C + j)) << 2);
        const wp = w + ((<usize>((kh * KW + kw) * C + j)) << 2);
        a0 = f32x4.add(a0, f32x4.mul(v128.load(xp), v128.load(wp)));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(xp, 16), v128.load(wp, 16)));
        a2 = f32x4.add(a2, f32x4.mul(v128.load(xp, 32), v128.load(wp, 32)));
        a3 = f32x4.add(a3, f32x4.mul(v128.load(xp, 48), v128.load(wp, 48)));
      }
    }
    const o = yp + ((<usize>j) << 2);
    v128.store(o, activate4(a0, act, lo, hi));
    v128.store(o, activate4(a1, act, lo, hi), 16);
    v128.store(o, activate4(a2, act, lo, hi), 32);
    v128.store(o, activate4(a3, act, lo, hi), 48);
  }
  for (; j + 4 <= C; j += 4) {
    let a0 = b == 0 ? f32x4.splat(0) : v128.load(b + ((<usize>j) << 2));
    for (let kh = 0; kh < KH; kh++) {
      const ih = ih0 + kh * DH;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = iw0 + kw * DW;
        if (iw < 0 || iw >= W) continue;
        a0 = f32x4.add(
          a0,
          f32x4.mul(
            v128.load(xn + ((<usize>((ih * W + iw) * C + j)) << 2)),
            v128.load(w + ((<usize>((kh * KW + kw) * C + j)) << 2)),
          ),
        );
      }
    }
    v128.store(yp + ((<usize>j) << 2), activate4(a0, act, lo, hi));
  }
  return j;
}
