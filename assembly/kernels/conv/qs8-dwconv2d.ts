// DepthwiseConv2D_QS8: x i8 [N,H,W,C], w i8 [KH,KW,C·M], qc i32 [3, C·M] (bias NOT folded, multiplier,
// shift) → y i8 [N,OH,OW,C·M]; acc = bias + Σ in-bounds taps (x − zp_in)·w, any KH×KW (no tap waste for
// 1×7 / 7×1). SIMD (M = 1): 8 channels per step, i16 (x − zp_in) · w widened to i32 with extmul. Integer-exact.
import { StepParams } from '../../bundle/model';
import { requantQs8, qcAt } from '../gemm/qs8-requant';

export function dwconv2dQs8(x: usize, w: usize, qc: usize, y: usize, N: i32, H: i32, W: i32, C: i32,
                            OH: i32, OW: i32, p: StepParams, zpIn: i32, zpOut: i32): void {
  const M = p.mult, Co = C * M;
  let c0 = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const yp = y + <usize>(((n * OH + oh) * OW + ow) * Co);
        c0 = 0;
        if (ASC_FEATURE_SIMD) {
          if (M == 1) {
            const zv = i16x8.splat(<i16>zpIn);
            for (; c0 + 8 <= C; c0 += 8) {
              let lo = i32x4.splat(0), hi = i32x4.splat(0);
              for (let kh = 0; kh < p.kh; kh++) {
                const ih = oh * p.sh - p.pt + kh * p.dh;
                if (ih < 0 || ih >= H) continue;
                for (let kw = 0; kw < p.kw; kw++) {
                  const iw = ow * p.sw - p.pl + kw * p.dw;
                  if (iw < 0 || iw >= W) continue;
                  const xv = i16x8.sub(v128.load8x8_s(x + <usize>(((n * H + ih) * W + iw) * C + c0)), zv);
                  const wv = v128.load8x8_s(w + <usize>((kh * p.kw + kw) * Co + c0));
                  lo = i32x4.add(lo, i32x4.extmul_low_i16x8_s(xv, wv));
                  hi = i32x4.add(hi, i32x4.extmul_high_i16x8_s(xv, wv));
                }
              }
              for (let l = 0; l < 8; l++) {
                const s = l < 4 ? lane(lo, l) : lane(hi, l - 4);
                const c = c0 + l;
                store<i8>(yp + <usize>c, <i8>requantQs8(<i64>(qcAt(qc, Co, 0, c) + s), qcAt(qc, Co, 1, c), qcAt(qc, Co, 2, c), zpOut, p.qMin, p.qMax));
              }
            }
          }
        }
        for (let o = c0 * M; o < Co; o++) {
          const c = o / M;
          let s = qcAt(qc, Co, 0, o);
          for (let kh = 0; kh < p.kh; kh++) {
            const ih = oh * p.sh - p.pt + kh * p.dh;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < p.kw; kw++) {
              const iw = ow * p.sw - p.pl + kw * p.dw;
              if (iw < 0 || iw >= W) continue;
              s += (<i32>load<i8>(x + <usize>(((n * H + ih) * W + iw) * C + c)) - zpIn) * <i32>load<i8>(w + <usize>((kh * p.kw + kw) * Co + o));
            }
          }
          store<i8>(yp + <usize>o, <i8>requantQs8(<i64>s, qcAt(qc, Co, 1, o), qcAt(qc, Co, 2, o), zpOut, p.qMin, p.qMax));
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline function lane(v: v128, l: i32): i32 {
  switch (l) {
    case 0: return i32x4.extract_lane(v, 0);
    case 1: return i32x4.extract_lane(v, 1);
    case 2: return i32x4.extract_lane(v, 2);
    default: return i32x4.extract_lane(v, 3);
  }
}
