// MaxPool, AvgPool and GlobalAvgPool, f32, x [N,H,W,C] NHWC -> y [N,OH,OW,C]. Max: acc = -inf,
// max over in-bounds taps. Avg: acc = 0, sum in-bounds taps kh, kw ascending, / count (count =
// taps inside the padded window if count_include_pad, else in-bounds taps). Global: acc = 0, sum
// h, w ascending, / (H·W). SIMD vectorises over channels only; bit-identical to the reference.
import { StepParams } from '../../bundle/model';

export function poolF32(
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
  for (let n = 0; n < N; n++) {
    const xn = x + ((<usize>(n * H * W * C)) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * p.sh - p.pt;
      const hs = max(h0, 0),
        he = min(h0 + p.kh, H);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * p.sw - p.pl;
        const ws = max(w0, 0),
          we = min(w0 + p.kw, W);
        let count = (he - hs) * (we - ws);
        if (p.countIncludePad) {
          // Taps in the padded area count, taps beyond it (past H + pad_bottom) never do.
          count = (min(h0 + p.kh, H + p.pb) - h0) * (min(w0 + p.kw, W + p.pr) - w0);
        }
        const div = <f32>count;
        const yp = y + ((<usize>(((n * OH + oh) * OW + ow) * C)) << 2);
        let c = 0;
        if (ASC_FEATURE_SIMD) {
          const dv = f32x4.splat(div);
          for (; c + 4 <= C; c += 4) {
            let acc = isMax ? f32x4.splat(-Infinity) : f32x4.splat(0);
            for (let ih = hs; ih < he; ih++) {
              for (let iw = ws; iw < we; iw++) {
                const v = v128.load(xn + ((<usize>((ih * W + iw) * C + c)) << 2));
                acc = isMax ? f32x4.max(acc, v) : f32x4.add(acc, v);
              }
            }
            v128.store(yp + ((<usize>c) << 2), isMax ? acc : f32x4.div(acc, dv));
          }
        }
        for (; c < C; c++) {
          let acc: f32 = isMax ? -Infinity : 0;
          for (let ih = hs; ih < he; ih++) {
            for (let iw = ws; iw < we; iw++) {
              const v = load<f32>(xn + ((<usize>((ih * W + iw) * C + c)) << 2));
              acc = isMax ? max<f32>(acc, v) : acc + v;
            }
          }
          store<f32>(yp + ((<usize>c) << 2), isMax ? acc : acc / div);
        }
      }
    }
  }
}

export function globalAvgPoolF32(x: usize, y: usize, N: i32, H: i32, W: i32, C: i32): void {
  const div = <f32>(H * W);
  for (let n = 0; n < N; n++) {
    const xn = x + ((<usize>(n * H * W * C)) << 2);
    const yn = y + ((<usize>(n * C)) << 2);
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      const dv = f32x4.splat(div);
      for (; c + 4 <= C; c += 4) {
        let acc = f32x4.splat(0);
        for (let i = 0; i < H * W; i++) acc = f32x4.add(acc, v128.load(xn + ((<usize>(i * C + c)) << 2)));
        v128.store(yn + ((<usize>c) << 2), f32x4.div(acc, dv));
      }
    }
    for (; c < C; c++) {
      let acc: f32 = 0;
      for (let i = 0; i < H * W; i++) acc += load<f32>(xn + ((<usize>(i * C + c)) << 2));
      store<f32>(yn + ((<usize>c) << 2), acc / div);
    }
  }
}
