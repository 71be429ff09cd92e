// Reference twins of Conv2D, depthwise conv and Dense (f32): the obvious index-formula loops in
// the contract's summation order (acc = bias; kh, kw, ci / k ascending; padded taps skipped).
// Slow on purpose; the fast kernels must match them bit for bit.
import { StepParams } from '../bundle/model';
import { activate } from '../kernels/activation';

// @ts-ignore: decorator
@inline function f(p: usize, i: i32): f32 {
  return load<f32>(p + ((<usize>i) << 2));
}

export function refConv2d(
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
): void {
  refConv(x, w, b, y, N, H, W, Ci, OH, OW, Co, G, p, false);
}

/** Conv2D_F32_P8: refConv2d's sums over weights packed in 8-channel panels, w [G, ceil(Cog/8), KH, KW, Cig, 8]. */
export function refConv2dP8(
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
): void {
  refConv(x, w, b, y, N, H, W, Ci, OH, OW, Co, G, p, true);
}

/** Both layouts' conv: w [G, KH, KW, Cig, Cog], or packed [G, ceil(Cog/8), KH, KW, Cig, 8]; the same sums. */
function refConv(
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
  packed: bool,
): void {
  const Cig = Ci / G,
    Cog = Co / G,
    P = (Cog + 7) / 8;
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let co = 0; co < Co; co++) {
          const g = co / Cog,
            j = co % Cog;
          let acc: f32 = b == 0 ? 0 : f(b, co);
          for (let kh = 0; kh < p.kh; kh++) {
            const ih = oh * p.sh - p.pt + kh * p.dh;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < p.kw; kw++) {
              const iw = ow * p.sw - p.pl + kw * p.dw;
              if (iw < 0 || iw >= W) continue;
              for (let ci = 0; ci < Cig; ci++) {
                const xv = f(x, ((n * H + ih) * W + iw) * Ci + g * Cig + ci);
                const wv = packed
                  ? f(w, (((((g * P + j / 8) * p.kh + kh) * p.kw + kw) * Cig + ci) << 3) + (j % 8))
                  : f(w, (((g * p.kh + kh) * p.kw + kw) * Cig + ci) * Cog + j);
                acc += xv * wv;
              }
            }
          }
          store<f32>(
            y + ((<usize>(((n * OH + oh) * OW + ow) * Co + co)) << 2),
            activate(acc, p.act, p.actMin, p.actMax),
          );
        }
}

export function refDwconv2d(
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
  const M = p.mult,
    Co = C * M;
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let oc = 0; oc < Co; oc++) {
          const c = oc / M;
          let acc: f32 = b == 0 ? 0 : f(b, oc);
          for (let kh = 0; kh < p.kh; kh++) {
            const ih = oh * p.sh - p.pt + kh * p.dh;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < p.kw; kw++) {
              const iw = ow * p.sw - p.pl + kw * p.dw;
              if (iw < 0 || iw >= W) continue;
              acc += f(x, ((n * H + ih) * W + iw) * C + c) * f(w, (kh * p.kw + kw) * Co + oc);
            }
          }
          store<f32>(
            y + ((<usize>(((n * OH + oh) * OW + ow) * Co + oc)) << 2),
            activate(acc, p.act, p.actMin, p.actMax),
          );
        }
}

export function refDense(x: usize, w: usize, b: usize, y: usize, M: i32, K: i32, N: i32, p: StepParams): void {
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let acc: f32 = b == 0 ? 0 : f(b, n);
      for (let k = 0; k < K; k++) acc += f(x, m * K + k) * f(w, k * N + n);
      store<f32>(y + ((<usize>(m * N + n)) << 2), activate(acc, p.act, p.actMin, p.actMax));
    }
}
