// Reference twins of MaxPool, AvgPool and GlobalAvgPool (f32, NHWC): obvious loops in the
// contract's order (max from -inf; sums from 0, kh, kw / h, w ascending, then one division).
import { StepParams } from '../bundle/model';

// @ts-ignore: decorator
@inline function f(p: usize, i: i32): f32 {
  return load<f32>(p + ((<usize>i) << 2));
}

export function refPool(
  isMax: bool,
  x: usize,
  y: usize,
  N: i32,
  H: i32,
  W: i32,
  C: i32,
  OH: i32,
  OW: i32,
  p: StepParams,
): void {
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let c = 0; c < C; c++) {
          let acc: f32 = isMax ? -Infinity : 0;
          let inBounds = 0,
            inPadded = 0;
          for (let kh = 0; kh < p.kh; kh++) {
            const ih = oh * p.sh - p.pt + kh;
            for (let kw = 0; kw < p.kw; kw++) {
              const iw = ow * p.sw - p.pl + kw;
              if (ih < H + p.pb && iw < W + p.pr) inPadded++;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              inBounds++;
              const v = f(x, ((n * H + ih) * W + iw) * C + c);
              acc = isMax ? max<f32>(acc, v) : acc + v;
            }
          }
          const count = p.countIncludePad ? inPadded : inBounds;
          store<f32>(y + ((<usize>(((n * OH + oh) * OW + ow) * C + c)) << 2), isMax ? acc : acc / <f32>count);
        }
}

export function refGlobalAvgPool(x: usize, y: usize, N: i32, H: i32, W: i32, C: i32): void {
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      let acc: f32 = 0;
      for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) acc += f(x, ((n * H + h) * W + w) * C + c);
      store<f32>(y + ((<usize>(n * C + c)) << 2), acc / <f32>(H * W));
    }
}
