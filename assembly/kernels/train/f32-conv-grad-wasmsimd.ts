// Conv2DGradFilter_F32 and Conv2DGradInput_F32, SIMD (simd build only: f32-conv-grad.ts calls these behind
// ASC_FEATURE_SIMD when the grouping fits and runs its scalar loops otherwise). x / dx, dy NHWC; w / dw OHWI
// [Co,KH,KW,Ci/G]; pointers in bytes. Lanes are different output elements, each summed in the contract's order
// (f32-conv-grad.ts header), no FMA: bit-identical to the scalar build and the twins (assembly/reference/train.ts).
//   GradFilter, groups 1: per image n (its x and dy stay in cache) and tap, tiles of 8 co (lanes, dy contiguous)
//     x 4 c (x broadcast), then 8x1, 4x1 and scalar tails; partial sums wait in dw between images (f32 stores
//     are exact, so each element still adds its (n, oy, ox) terms in ascending order from 0).
//   GradFilter, depthwise (Ci/G = Co/G = 1): per image and tap, 16 / 4 channels (dy and x both contiguous).
//   GradInput, groups 1: per input pixel, 16 / 4 ci (lanes, w contiguous) x every (tap, co) with dy broadcast.
//   GradInput, depthwise: per input pixel, 16 / 4 channels against w gathered per channel block into a static
//     [taps,16] buffer (KH·KW ≤ DW_MAX_TAPS; more taps run the scalar loops).
import { StepParams } from '../../bundle/model';

export const DW_MAX_TAPS: i32 = 64;
const DW_W: usize = ASC_FEATURE_SIMD ? memory.data(DW_MAX_TAPS * 16 * 4, 16) : 0;

/** First output index o ≥ 0 with o·s − a ≥ 0 (a = pad − k·dilation: the tap's input offset). */
// @ts-ignore: decorator
@inline function firstOut(a: i32, s: i32): i32 {
  return a <= 0 ? 0 : (a + s - 1) / s;
}
/** One past the last output index o < O with o·s − a ≤ I − 1. */
// @ts-ignore: decorator
@inline function endOut(a: i32, s: i32, I: i32, O: i32): i32 {
  const t = I - 1 + a;
  return t < 0 ? 0 : min(O, t / s + 1);
}

/** 4 floats at stride `st` bytes as one vector (and back): dw's lanes over co are KH·KW·Ci floats apart. */
// @ts-ignore: decorator
@inline function gather(p: usize, st: usize): v128 {
  let v = f32x4.splat(load<f32>(p));
  v = f32x4.replace_lane(v, 1, load<f32>(p + st));
  v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * st));
  return f32x4.replace_lane(v, 3, load<f32>(p + 3 * st));
}
// @ts-ignore: decorator
@inline function scatter(p: usize, st: usize, v: v128): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  store<f32>(p + st, f32x4.extract_lane(v, 1));
  store<f32>(p + 2 * st, f32x4.extract_lane(v, 2));
  store<f32>(p + 3 * st, f32x4.extract_lane(v, 3));
}

/** The pixels of one tap in one image: rows [oy0, oy1) and columns [ox0, ox1) of dy, and the x offsets they read. */
@final class Win {
  oy0: i32 = 0;
  oy1: i32 = 0;
  ox0: i32 = 0;
  ox1: i32 = 0;
  ay: i32 = 0;
  ax: i32 = 0;
  sh: i32 = 1;
  sw: i32 = 1;
  OW: i32 = 0;
  W: i32 = 0;
}
const win = new Win();

/** dw[co..co+7, tap, c..c+3] (at `o`, co rows `st` bytes apart) += Σ over the window of dy[co..co+7] · x[c..c+3]. */
function gf8x4(g: Win, dyb: usize, xb: usize, o: usize, st: usize, Co: i32, Ci: i32): void {
  const oy0 = g.oy0,
    oy1 = g.oy1,
    ox0 = g.ox0,
    ox1 = g.ox1,
    sh = g.sh,
    sw = g.sw,
    ay = g.ay,
    ax = g.ax,
    OW = g.OW,
    W = g.W;
  let a0 = gather(o, st),
    a1 = gather(o + 4, st),
    a2 = gather(o + 8, st),
    a3 = gather(o + 12, st);
  const o4 = o + 4 * st;
  let b0 = gather(o4, st),
    b1 = gather(o4 + 4, st),
    b2 = gather(o4 + 8, st),
    b3 = gather(o4 + 12, st);
  const dStep = (<usize>Co) << 2,
    sStep = (<usize>(sw * Ci)) << 2;
  for (let oy = oy0; oy < oy1; oy++) {
    let d = dyb + ((<usize>((oy * OW + ox0) * Co)) << 2);
    let s = xb + ((<usize>(((oy * sh - ay) * W + ox0 * sw - ax) * Ci)) << 2);
    for (let ox = ox0; ox < ox1; ox++) {
      const d0 = v128.load(d),
        d1 = v128.load(d, 16);
      const s0 = v128.load32_splat(s),
        s1 = v128.load32_splat(s, 4),
        s2 = v128.load32_splat(s, 8),
        s3 = v128.load32_splat(s, 12);
      a0 = f32x4.add(a0, f32x4.mul(d0, s0));
      b0 = f32x4.add(b0, f32x4.mul(d1, s0));
      a1 = f32x4.add(a1, f32x4.mul(d0, s1));
      b1 = f32x4.add(b1, f32x4.mul(d1, s1));
      a2 = f32x4.add(a2, f32x4.mul(d0, s2));
      b2 = f32x4.add(b2, f32x4.mul(d1, s2));
      a3 = f32x4.add(a3, f32x4.mul(d0, s3));
      b3 = f32x4.add(b3, f32x4.mul(d1, s3));
      d += dStep;
      s += sStep;
    }
  }
  scatter(o, st, a0);
  scatter(o + 4, st, a1);
  scatter(o + 8, st, a2);
  scatter(o + 12, st, a3);
  scatter(o4, st, b0);
  scatter(o4 + 4, st, b1);
  scatter(o4 + 8, st, b2);
  scatter(o4 + 12, st, b3);
}

/** As gf8x4 for 4·`blocks` co (blocks 1 or 2) x one c. */
function gfCoX1(g: Win, dyb: usize, xb: usize, o: usize, st: usize, Co: i32, Ci: i32, blocks: i32): void {
  const oy0 = g.oy0,
    oy1 = g.oy1,
    ox0 = g.ox0,
    ox1 = g.ox1,
    sh = g.sh,
    sw = g.sw,
    ay = g.ay,
    ax = g.ax,
    OW = g.OW,
    W = g.W;
  const two = blocks == 2;
  let a = gather(o, st),
    b = two ? gather(o + 4 * st, st) : f32x4.splat(0);
  const dStep = (<usize>Co) << 2,
    sStep = (<usize>(sw * Ci)) << 2;
  for (let oy = oy0; oy < oy1; oy++) {
    let d = dyb + ((<usize>((oy * OW + ox0) * Co)) << 2);
    let s = xb + ((<usize>(((oy * sh - ay) * W + ox0 * sw - ax) * Ci)) << 2);
    if (two) {
      for (let ox = ox0; ox < ox1; ox++) {
        const sv = v128.load32_splat(s);
        a = f32x4.add(a, f32x4.mul(v128.load(d), sv));
        b = f32x4.add(b, f32x4.mul(v128.load(d, 16), sv));
        d += dStep;
        s += sStep;
      }
    } else {
      for (let ox = ox0; ox < ox1; ox++) {
        a = f32x4.add(a, f32x4.mul(v128.load(d), v128.load32_splat(s)));
        d += dStep;
        s += sStep;
      }
    }
  }
  scatter(o, st, a);
  if (two) scatter(o + 4 * st, st, b);
}

/** One dw element (co, tap, c) at `o`: scalar, same order. */
function gf1x1(g: Win, dyb: usize, xb: usize, o: usize, Co: i32, Ci: i32): void {
  const oy0 = g.oy0,
    oy1 = g.oy1,
    ox0 = g.ox0,
    ox1 = g.ox1,
    sh = g.sh,
    sw = g.sw,
    ay = g.ay,
    ax = g.ax,
    OW = g.OW,
    W = g.W;
  let a = load<f32>(o);
  const dStep = (<usize>Co) << 2,
    sStep = (<usize>(sw * Ci)) << 2;
  for (let oy = oy0; oy < oy1; oy++) {
    let d = dyb + ((<usize>((oy * OW + ox0) * Co)) << 2);
    let s = xb + ((<usize>(((oy * sh - ay) * W + ox0 * sw - ax) * Ci)) << 2);
    for (let ox = ox0; ox < ox1; ox++) {
      a += load<f32>(d) * load<f32>(s);
      d += dStep;
      s += sStep;
    }
  }
  store<f32>(o, a);
}

/** Depthwise: dw[c..c+4·blocks−1, tap] (lanes; `o` = &dw[c, tap], channels `st` bytes apart) over the window. */
function gfDepthwise(g: Win, dyb: usize, xb: usize, o: usize, st: usize, C: i32, blocks: i32): void {
  const oy0 = g.oy0,
    oy1 = g.oy1,
    ox0 = g.ox0,
    ox1 = g.ox1,
    sh = g.sh,
    sw = g.sw,
    ay = g.ay,
    ax = g.ax,
    OW = g.OW,
    W = g.W;
  const four = blocks == 4;
  let a0 = gather(o, st);
  let a1 = four ? gather(o + 4 * st, st) : a0,
    a2 = four ? gather(o + 8 * st, st) : a0,
    a3 = four ? gather(o + 12 * st, st) : a0;
  const dStep = (<usize>C) << 2,
    sStep = (<usize>(sw * C)) << 2;
  for (let oy = oy0; oy < oy1; oy++) {
    let d = dyb + ((<usize>((oy * OW + ox0) * C)) << 2);
    let s = xb + ((<usize>(((oy * sh - ay) * W + ox0 * sw - ax) * C)) << 2);
    if (four) {
      for (let ox = ox0; ox < ox1; ox++) {
        a0 = f32x4.add(a0, f32x4.mul(v128.load(d), v128.load(s)));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(d, 16), v128.load(s, 16)));
        a2 = f32x4.add(a2, f32x4.mul(v128.load(d, 32), v128.load(s, 32)));
        a3 = f32x4.add(a3, f32x4.mul(v128.load(d, 48), v128.load(s, 48)));
        d += dStep;
        s += sStep;
      }
    } else {
      for (let ox = ox0; ox < ox1; ox++) {
        a0 = f32x4.add(a0, f32x4.mul(v128.load(d), v128.load(s)));
        d += dStep;
        s += sStep;
      }
    }
  }
  scatter(o, st, a0);
  if (four) {
    scatter(o + 4 * st, st, a1);
    scatter(o + 8 * st, st, a2);
    scatter(o + 12 * st, st, a3);
  }
}

/** Conv2DGradFilter for groups 1 (depthwise: G = Ci = Co) on the SIMD build. */
export function conv2dGradFilterSimd(
  x: usize,
  dy: usize,
  dw: usize,
  N: i32,
  H: i32,
  W: i32,
  Ci: i32,
  OH: i32,
  OW: i32,
  Co: i32,
  p: StepParams,
): void {
  const depthwise = p.groups != 1;
  const cig = depthwise ? 1 : Ci,
    taps = p.kh * p.kw;
  memory.fill(dw, 0, <usize>Co * taps * cig * 4);
  const st = (<usize>(taps * cig)) << 2; // bytes between co rows of dw
  const g = win;
  g.sh = p.sh;
  g.sw = p.sw;
  g.OW = OW;
  g.W = W;
  for (let n = 0; n < N; n++) {
    const xn = x + ((<usize>n * H * W * Ci) << 2),
      dyn = dy + ((<usize>n * OH * OW * Co) << 2);
    for (let ky = 0; ky < p.kh; ky++) {
      g.ay = p.pt - ky * p.dh;
      g.oy0 = firstOut(g.ay, p.sh);
      g.oy1 = endOut(g.ay, p.sh, H, OH);
      if (g.oy0 >= g.oy1) continue;
      for (let kx = 0; kx < p.kw; kx++) {
        g.ax = p.pl - kx * p.dw;
        g.ox0 = firstOut(g.ax, p.sw);
        g.ox1 = endOut(g.ax, p.sw, W, OW);
        if (g.ox0 >= g.ox1) continue;
        const tap = dw + ((<usize>((ky * p.kw + kx) * cig)) << 2);
        if (depthwise) {
          let c = 0;
          for (; c + 16 <= Co; c += 16)
            gfDepthwise(g, dyn + ((<usize>c) << 2), xn + ((<usize>c) << 2), tap + <usize>c * st, st, Co, 4);
          for (; c + 4 <= Co; c += 4)
            gfDepthwise(g, dyn + ((<usize>c) << 2), xn + ((<usize>c) << 2), tap + <usize>c * st, st, Co, 1);
          for (; c < Co; c++) gf1x1(g, dyn + ((<usize>c) << 2), xn + ((<usize>c) << 2), tap + <usize>c * st, Co, Co);
          continue;
        }
        let co = 0;
        for (; co + 8 <= Co; co += 8) {
          const dyc = dyn + ((<usize>co) << 2),
            oc = tap + <usize>co * st;
          let c = 0;
          for (; c + 4 <= Ci; c += 4) gf8x4(g, dyc, xn + ((<usize>c) << 2), oc + ((<usize>c) << 2), st, Co, Ci);
          for (; c < Ci; c++) gfCoX1(g, dyc, xn + ((<usize>c) << 2), oc + ((<usize>c) << 2), st, Co, Ci, 2);
        }
        for (; co + 4 <= Co; co += 4) {
          for (let c = 0; c < Ci; c++)
            gfCoX1(
              g,
              dyn + ((<usize>co) << 2),
              xn + ((<usize>c) << 2),
              tap + <usize>co * st + ((<usize>c) << 2),
              st,
              Co,
              Ci,
              1,
            );
        }
        for (; co < Co; co++) {
          for (let c = 0; c < Ci; c++)
            gf1x1(
              g,
              dyn + ((<usize>co) << 2),
              xn + ((<usize>c) << 2),
              tap + <usize>co * st + ((<usize>c) << 2),
              Co,
              Ci,
            );
        }
      }
    }
  }
}

/** The tap (ky, kx) reaches an output from input (iy, ix): its dy pixel offset in floats, else −1. */
// @ts-ignore: decorator
@inline function tapOut(iy: i32, ix: i32, ky: i32, kx: i32, OH: i32, OW: i32, p: StepParams): i32 {
  const ty = iy + p.pt - ky * p.dh,
    tx = ix + p.pl - kx * p.dw;
  if (ty < 0 || tx < 0 || ty % p.sh != 0 || tx % p.sw != 0) return -1;
  const oy = ty / p.sh,
    ox = tx / p.sw;
  return oy < OH && ox < OW ? oy * OW + ox : -1;
}

/** dx[pixel, ci..ci+4·blocks−1] (blocks 4 or 1) = Σ over taps, then co, of dy · w[co, tap, ci..] (groups 1). */
function giBlock(
  dyn: usize,
  w: usize,
  out: usize,
  iy: i32,
  ix: i32,
  OH: i32,
  OW: i32,
  Co: i32,
  Ci: i32,
  p: StepParams,
  blocks: i32,
): void {
  const four = blocks == 4;
  let a0 = f32x4.splat(0),
    a1 = a0,
    a2 = a0,
    a3 = a0;
  const wCo = (<usize>(p.kh * p.kw * Ci)) << 2;
  for (let ky = 0; ky < p.kh; ky++) {
    for (let kx = 0; kx < p.kw; kx++) {
      const o = tapOut(iy, ix, ky, kx, OH, OW, p);
      if (o < 0) continue;
      let d = dyn + ((<usize>(o * Co)) << 2);
      let wp = w + ((<usize>((ky * p.kw + kx) * Ci)) << 2);
      if (four) {
        for (let co = 0; co < Co; co++) {
          const dv = v128.load32_splat(d);
          a0 = f32x4.add(a0, f32x4.mul(dv, v128.load(wp)));
          a1 = f32x4.add(a1, f32x4.mul(dv, v128.load(wp, 16)));
          a2 = f32x4.add(a2, f32x4.mul(dv, v128.load(wp, 32)));
          a3 = f32x4.add(a3, f32x4.mul(dv, v128.load(wp, 48)));
          d += 4;
          wp += wCo;
        }
      } else {
        for (let co = 0; co < Co; co++) {
          a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(d), v128.load(wp)));
          d += 4;
          wp += wCo;
        }
      }
    }
  }
  v128.store(out, a0);
  if (four) {
    v128.store(out, a1, 16);
    v128.store(out, a2, 32);
    v128.store(out, a3, 48);
  }
}

/** Depthwise dx[pixel, c..c+4·blocks−1] = Σ over taps of dy · w, w from the gathered DW_W [taps,16] block. */
function giDepthwise(
  dyn: usize,
  out: usize,
  iy: i32,
  ix: i32,
  OH: i32,
  OW: i32,
  C: i32,
  p: StepParams,
  blocks: i32,
): void {
  const four = blocks == 4;
  let a0 = f32x4.splat(0),
    a1 = a0,
    a2 = a0,
    a3 = a0;
  for (let ky = 0; ky < p.kh; ky++) {
    for (let kx = 0; kx < p.kw; kx++) {
      const o = tapOut(iy, ix, ky, kx, OH, OW, p);
      if (o < 0) continue;
      const d = dyn + ((<usize>(o * C)) << 2),
        wp = DW_W + ((<usize>(ky * p.kw + kx)) << 6);
      a0 = f32x4.add(a0, f32x4.mul(v128.load(d), v128.load(wp)));
      if (four) {
        a1 = f32x4.add(a1, f32x4.mul(v128.load(d, 16), v128.load(wp, 16)));
        a2 = f32x4.add(a2, f32x4.mul(v128.load(d, 32), v128.load(wp, 32)));
        a3 = f32x4.add(a3, f32x4.mul(v128.load(d, 48), v128.load(wp, 48)));
      }
    }
  }
  v128.store(out, a0);
  if (four) {
    v128.store(out, a1, 16);
    v128.store(out, a2, 32);
    v128.store(out, a3, 48);
  }
}

/** One dx element, scalar, same order (taps, then co of the group). */
function giScalar(
  dyn: usize,
  w: usize,
  out: usize,
  iy: i32,
  ix: i32,
  OH: i32,
  OW: i32,
  Co: i32,
  cog: i32,
  c: i32,
  cig: i32,
  p: StepParams,
): void {
  const g = c / cig;
  let a: f32 = 0;
  for (let ky = 0; ky < p.kh; ky++) {
    for (let kx = 0; kx < p.kw; kx++) {
      const o = tapOut(iy, ix, ky, kx, OH, OW, p);
      if (o < 0) continue;
      for (let co = g * cog; co < (g + 1) * cog; co++) {
        a +=
          load<f32>(dyn + ((<usize>(o * Co + co)) << 2)) *
          load<f32>(w + ((<usize>(((co * p.kh + ky) * p.kw + kx) * cig + c - g * cig)) << 2));
      }
    }
  }
  store<f32>(out, a);
}

/** Conv2DGradInput for groups 1 and depthwise (G = Ci = Co, KH·KW ≤ DW_MAX_TAPS) on the SIMD build. */
export function conv2dGradInputSimd(
  dy: usize,
  w: usize,
  dx: usize,
  N: i32,
  H: i32,
  W: i32,
  Ci: i32,
  OH: i32,
  OW: i32,
  Co: i32,
  p: StepParams,
): void {
  const depthwise = p.groups != 1,
    taps = p.kh * p.kw;
  const cig = depthwise ? 1 : Ci,
    cog = depthwise ? 1 : Co;
  for (let c0 = 0; c0 < Ci; c0 += 16) {
    const width = min(16, Ci - c0);
    if (depthwise) {
      // this block's w, tap-major: DW_W[tap, j] = w[c0 + j, tap]
      for (let t = 0; t < taps; t++) {
        for (let j = 0; j < width; j++)
          store<f32>(DW_W + ((<usize>(t * 16 + j)) << 2), load<f32>(w + ((<usize>((c0 + j) * taps + t)) << 2)));
      }
    }
    for (let n = 0; n < N; n++) {
      const dyn = dy + ((<usize>n * OH * OW * Co) << 2);
      for (let iy = 0; iy < H; iy++) {
        for (let ix = 0; ix < W; ix++) {
          const out = dx + ((<usize>(((n * H + iy) * W + ix) * Ci + c0)) << 2);
          let j = 0;
          if (depthwise) {
            const dyc = dyn + ((<usize>c0) << 2);
            if (width == 16) {
              giDepthwise(dyc, out, iy, ix, OH, OW, Co, p, 4);
              j = 16;
            }
            for (; j + 4 <= width; j += 4) {
              // the 4-channel tail reads DW_W at column j: shift both dy and the buffer by j
              giDepthwiseAt(dyc + ((<usize>j) << 2), out + ((<usize>j) << 2), iy, ix, OH, OW, Co, p, j);
            }
          } else {
            if (width == 16) {
              giBlock(dyn, w + ((<usize>c0) << 2), out, iy, ix, OH, OW, Co, Ci, p, 4);
              j = 16;
            }
            for (; j + 4 <= width; j += 4)
              giBlock(dyn, w + ((<usize>(c0 + j)) << 2), out + ((<usize>j) << 2), iy, ix, OH, OW, Co, Ci, p, 1);
          }
          for (; j < width; j++) giScalar(dyn, w, out + ((<usize>j) << 2), iy, ix, OH, OW, Co, cog, c0 + j, cig, p);
        }
      }
    }
  }
}

/** giDepthwise for 4 channels at column j of the DW_W block. */
function giDepthwiseAt(d0: usize, out: usize, iy: i32, ix: i32, OH: i32, OW: i32, C: i32, p: StepParams, j: i32): void {
  let a = f32x4.splat(0);
  for (let ky = 0; ky < p.kh; ky++) {
    for (let kx = 0; kx < p.kw; kx++) {
      const o = tapOut(iy, ix, ky, kx, OH, OW, p);
      if (o < 0) continue;
      a = f32x4.add(
        a,
        f32x4.mul(
          v128.load(d0 + ((<usize>(o * C)) << 2)),
          v128.load(DW_W + ((<usize>((ky * p.kw + kx) * 16 + j)) << 2)),
        ),
      );
    }
  }
  v128.store(out, a);
}
