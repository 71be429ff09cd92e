// Backward kernels of Conv2D (groups incl. depthwise, strides, dilation, padding, 1×k / k×1) and pooling,
// f32, NHWC; weights and their gradient in the IR layout OHWI [Co,KH,KW,Ci/G] (docs/training.md).
// Per-element summation orders (the contract; the twins in assembly/reference/train.ts sum the same way):
//   Conv2DGradInput_F32   dx[n,iy,ix,ci] = 0 + Σ over ky, kx ascending (taps that hit an output:
//                         iy + pad_top − ky·dh = oy·sh, 0 ≤ oy < OH; same for x), then co of ci's group
//                         ascending, of dy[n,oy,ox,co]·w[co,ky,kx,ci mod Cig]
//   Conv2DGradFilter_F32  dw[co,ky,kx,c] = 0 + Σ over n, oy, ox ascending (in-bounds taps) of dy·x
//   MaxPoolGrad_F32       dx = 0; for n, oy, ox, c ascending: dy goes to the window's first in-bounds tap
//                         (ky, kx order) holding its maximum
//   AvgPoolGrad_F32       dx = 0; for n, oy, ox, c ascending: each counted in-bounds tap += dy / count
// The loops below reorder work across independent outputs only (each element's sequence is unchanged). The SIMD
// build runs groups 1 and depthwise (Ci/G = Co/G = 1) on f32-conv-grad-wasmsimd.ts, other groupings here.
import { StepParams } from '../../bundle/model';
import { conv2dGradFilterSimd, conv2dGradInputSimd, DW_MAX_TAPS } from './f32-conv-grad-wasmsimd';

/** Groupings the SIMD variant serves: groups 1, or depthwise with multiplier 1. */
// @ts-ignore: decorator
@inline function simdGrouping(Ci: i32, Co: i32, p: StepParams): bool {
  return p.groups == 1 || (p.groups == Ci && p.groups == Co && p.kh * p.kw <= DW_MAX_TAPS);
}

export function conv2dGradInputF32(
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
  if (ASC_FEATURE_SIMD && simdGrouping(Ci, Co, p)) {
    conv2dGradInputSimd(dy, w, dx, N, H, W, Ci, OH, OW, Co, p);
    return;
  }
  const G = p.groups,
    cig = Ci / G,
    cog = Co / G;
  memory.fill(dx, 0, <usize>N * H * W * Ci * 4);
  for (let n = 0; n < N; n++)
    for (let iy = 0; iy < H; iy++)
      for (let ix = 0; ix < W; ix++) {
        const dxp = dx + ((<usize>(((n * H + iy) * W + ix) * Ci)) << 2);
        for (let ky = 0; ky < p.kh; ky++) {
          const ty = iy + p.pt - ky * p.dh;
          if (ty < 0 || ty % p.sh != 0) continue;
          const oy = ty / p.sh;
          if (oy >= OH) continue;
          for (let kx = 0; kx < p.kw; kx++) {
            const tx = ix + p.pl - kx * p.dw;
            if (tx < 0 || tx % p.sw != 0) continue;
            const ox = tx / p.sw;
            if (ox >= OW) continue;
            const dyp = dy + ((<usize>(((n * OH + oy) * OW + ox) * Co)) << 2);
            for (let g = 0; g < G; g++) {
              const out = dxp + ((<usize>(g * cig)) << 2);
              for (let co = g * cog; co < (g + 1) * cog; co++) {
                const d = load<f32>(dyp + ((<usize>co) << 2));
                const wp = w + ((<usize>(((co * p.kh + ky) * p.kw + kx) * cig)) << 2);
                for (let c = 0; c < cig; c++) {
                  const o = out + ((<usize>c) << 2);
                  store<f32>(o, load<f32>(o) + d * load<f32>(wp + ((<usize>c) << 2)));
                }
              }
            }
          }
        }
      }
}

export function conv2dGradFilterF32(
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
  if (ASC_FEATURE_SIMD && simdGrouping(Ci, Co, p)) {
    conv2dGradFilterSimd(x, dy, dw, N, H, W, Ci, OH, OW, Co, p);
    return;
  }
  const G = p.groups,
    cig = Ci / G,
    cog = Co / G;
  memory.fill(dw, 0, <usize>Co * p.kh * p.kw * cig * 4);
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const dyp = dy + ((<usize>(((n * OH + oy) * OW + ox) * Co)) << 2);
        for (let ky = 0; ky < p.kh; ky++) {
          const iy = oy * p.sh - p.pt + ky * p.dh;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < p.kw; kx++) {
            const ix = ox * p.sw - p.pl + kx * p.dw;
            if (ix < 0 || ix >= W) continue;
            const xp = x + ((<usize>(((n * H + iy) * W + ix) * Ci)) << 2);
            for (let co = 0; co < Co; co++) {
              const d = load<f32>(dyp + ((<usize>co) << 2));
              const xg = xp + ((<usize>((co / cog) * cig)) << 2);
              const wp = dw + ((<usize>(((co * p.kh + ky) * p.kw + kx) * cig)) << 2);
              for (let c = 0; c < cig; c++) {
                const o = wp + ((<usize>c) << 2);
                store<f32>(o, load<f32>(o) + d * load<f32>(xg + ((<usize>c) << 2)));
              }
            }
          }
        }
      }
}

export function maxPoolGradF32(
  x: usize,
  dy: usize,
  dx: usize,
  N: i32,
  H: i32,
  W: i32,
  C: i32,
  OH: i32,
  OW: i32,
  p: StepParams,
): void {
  memory.fill(dx, 0, <usize>N * H * W * C * 4);
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let c = 0; c < C; c++) {
          let best: f32 = -Infinity;
          let arg: i32 = -1;
          for (let ky = 0; ky < p.kh; ky++) {
            const iy = oy * p.sh - p.pt + ky;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < p.kw; kx++) {
              const ix = ox * p.sw - p.pl + kx;
              if (ix < 0 || ix >= W) continue;
              const i = ((n * H + iy) * W + ix) * C + c;
              const v = load<f32>(x + ((<usize>i) << 2));
              if (arg < 0 || v > best) {
                best = v;
                arg = i;
              }
            }
          }
          const o = dx + ((<usize>arg) << 2);
          store<f32>(o, load<f32>(o) + load<f32>(dy + ((<usize>(((n * OH + oy) * OW + ox) * C + c)) << 2)));
        }
}

export function avgPoolGradF32(
  dy: usize,
  dx: usize,
  N: i32,
  H: i32,
  W: i32,
  C: i32,
  OH: i32,
  OW: i32,
  p: StepParams,
): void {
  memory.fill(dx, 0, <usize>N * H * W * C * 4);
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let inBounds = 0,
          inPadded = 0;
        for (let ky = 0; ky < p.kh; ky++) {
          const iy = oy * p.sh - p.pt + ky;
          for (let kx = 0; kx < p.kw; kx++) {
            const ix = ox * p.sw - p.pl + kx;
            if (iy < H + p.pb && ix < W + p.pr) inPadded++;
            if (iy >= 0 && iy < H && ix >= 0 && ix < W) inBounds++;
          }
        }
        const count = <f32>(p.countIncludePad ? inPadded : inBounds);
        const dyp = dy + ((<usize>(((n * OH + oy) * OW + ox) * C)) << 2);
        for (let ky = 0; ky < p.kh; ky++) {
          const iy = oy * p.sh - p.pt + ky;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < p.kw; kx++) {
            const ix = ox * p.sw - p.pl + kx;
            if (ix < 0 || ix >= W) continue;
            const xp = dx + ((<usize>(((n * H + iy) * W + ix) * C)) << 2);
            for (let c = 0; c < C; c++) {
              const o = xp + ((<usize>c) << 2);
              store<f32>(o, load<f32>(o) + load<f32>(dyp + ((<usize>c) << 2)) / count);
            }
          }
        }
      }
}
