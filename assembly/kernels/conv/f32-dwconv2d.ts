// Depthwise conv, f32. x [N,H,W,C] NHWC, w [KH,KW,C·M], b [C·M] or none, y [N,OH,OW,C·M]; output
// channel oc = c·M + m reads input channel c. Per output: acc = b; kh, kw ascending (padded taps
// skipped); activation. SIMD (M = 1): one pixel x 16/4 channels per register tile; M > 1,
// channel tails and the scalar build: 4 channels in local f32 accumulators. Bit-identical to the reference in both builds.
import { StepParams } from '../../bundle/model';
import { activate, activate4 } from '../activation';

export function dwconv2dF32(x: usize, w: usize, b: usize, y: usize, N: i32, H: i32, W: i32, C: i32,
                            OH: i32, OW: i32, p: StepParams): void {
  const M = p.mult, Co = C * M;
  for (let n = 0; n < N; n++) {
    const xn = x + (<usize>(n * H * W * C) << 2);
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const yp = y + (<usize>(((n * OH + oh) * OW + ow) * Co) << 2);
        let j = 0;
        if (ASC_FEATURE_SIMD) {
          if (M == 1) j = pixelSimd(xn, w, b, yp, H, W, C, oh, ow, p);
        }
        if (j < Co) pixelScalar(xn, w, b, yp, H, W, C, oh, ow, j, p);
      }
    }
  }
}

/** Channels [j0, C·M) of one pixel: 4 output channels in local accumulators, then single ones. */
function pixelScalar(xn: usize, w: usize, b: usize, yp: usize, H: i32, W: i32, C: i32, oh: i32, ow: i32,
                     j0: i32, p: StepParams): void {
  const M = p.mult, Co = C * M;
  const ih0 = oh * p.sh - p.pt, iw0 = ow * p.sw - p.pl;
  const KH = p.kh, KW = p.kw, DH = p.dh, DW = p.dw;
  let j = j0;
  for (; j + 4 <= Co; j += 4) {
    // Byte offsets of the input channel each of the 4 outputs reads (c = oc / M).
    const x0 = <usize>(j / M) << 2, x1 = <usize>((j + 1) / M) << 2, x2 = <usize>((j + 2) / M) << 2, x3 = <usize>((j + 3) / M) << 2;
    const bj = b + (<usize>j << 2);
    let a0: f32 = b == 0 ? 0 : load<f32>(bj), a1: f32 = b == 0 ? 0 : load<f32>(bj, 4);
    let a2: f32 = b == 0 ? 0 : load<f32>(bj, 8), a3: f32 = b == 0 ? 0 : load<f32>(bj, 12);
    for (let kh = 0; kh < KH; kh++) {
      const ih = ih0 + kh * DH;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = iw0 + kw * DW;
        if (iw < 0 || iw >= W) continue;
        const xp = xn + (<usize>((ih * W + iw) * C) << 2);
        const wp = w + (<usize>((kh * KW + kw) * Co + j) << 2);
        a0 += load<f32>(xp + x0) * load<f32>(wp);
        a1 += load<f32>(xp + x1) * load<f32>(wp, 4);
        a2 += load<f32>(xp + x2) * load<f32>(wp, 8);
        a3 += load<f32>(xp + x3) * load<f32>(wp, 12);
      }
    }
    const o = yp + (<usize>j << 2);
    store<f32>(o, activate(a0, p.act, p.actMin, p.actMax)); store<f32>(o, activate(a1, p.act, p.actMin, p.actMax), 4);
    store<f32>(o, activate(a2, p.act, p.actMin, p.actMax), 8); store<f32>(o, activate(a3, p.act, p.actMin, p.actMax), 12);
  }
  for (; j < Co; j++) {
    const xc = <usize>(j / M) << 2;
    let acc: f32 = b == 0 ? 0 : load<f32>(b + (<usize>j << 2));
    for (let kh = 0; kh < KH; kh++) {
      const ih = ih0 + kh * DH;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = iw0 + kw * DW;
        if (iw < 0 || iw >= W) continue;
        acc += load<f32>(xn + (<usize>((ih * W + iw) * C) << 2) + xc) * load<f32>(w + (<usize>((kh * KW + kw) * Co + j) << 2));
      }
    }
    store<f32>(yp + (<usize>j << 2), activate(acc, p.act, p.actMin, p.actMax));
  }
}

/** M = 1: 16- then 4-channel vector blocks of one pixel; returns the first channel not done. */
function pixelSimd(xn: usize, w: usize, b: usize, yp: usize, H: i32, W: i32, C: i32, oh: i32, ow: i32,
                   p: StepParams): i32 {
  const ih0 = oh * p.sh - p.pt, iw0 = ow * p.sw - p.pl;
  const KH = p.kh, KW = p.kw, DH = p.dh, DW = p.dw;
  const act = p.act, lo = f32x4.splat(p.actMin), hi = f32x4.splat(p.actMax);
  let j = 0;
  for (; j + 16 <= C; j += 16) {
    const bj = b + (<usize>j << 2);
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
        const xp = xn + (<usize>((ih * W + iw) * C + j) << 2);
        const wp = w + (<usize>((kh * KW + kw) * C + j) << 2);
        a0 = f32x4.add(a0, f32x4.mul(v128.load(xp), v128.load(wp)));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(xp, 16), v128.load(wp, 16)));
        a2 = f32x4.add(a2, f32x4.mul(v128.load(xp, 32), v128.load(wp, 32)));
        a3 = f32x4.add(a3, f32x4.mul(v128.load(xp, 48), v128.load(wp, 48)));
      }
    }
    const o = yp + (<usize>j << 2);
    v128.store(o, activate4(a0, act, lo, hi));
    v128.store(o, activate4(a1, act, lo, hi), 16);
    v128.store(o, activate4(a2, act, lo, hi), 32);
    v128.store(o, activate4(a3, act, lo, hi), 48);
  }
  for (; j + 4 <= C; j += 4) {
    let a0 = b == 0 ? f32x4.splat(0) : v128.load(b + (<usize>j << 2));
    for (let kh = 0; kh < KH; kh++) {
      const ih = ih0 + kh * DH;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = iw0 + kw * DW;
        if (iw < 0 || iw >= W) continue;
        a0 = f32x4.add(a0, f32x4.mul(v128.load(xn + (<usize>((ih * W + iw) * C + j) << 2)),
                                     v128.load(w + (<usize>((kh * KW + kw) * C + j) << 2))));
      }
    }
    v128.store(yp + (<usize>j << 2), activate4(a0, act, lo, hi));
  }
  return j;
}
