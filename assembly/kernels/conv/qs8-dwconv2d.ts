// DepthwiseConv2D_QS8: x i8 [N,H,W,C], w i8 [KH,KW,C·M], qc i32 [3, C·M] (bias NOT folded, multiplier,
// shift) → y i8 [N,OH,OW,C·M]; acc = bias + Σ in-bounds taps (x − zp_in)·w, any KH×KW (no tap waste for
// 1×7 / 7×1). SIMD (M = 1): 8 channels per step, i16 (x − zp_in) · w widened to i32 with extmul. Integer-exact.
import { StepParams } from '../../bundle/model';
import { requantQs8, requant4, qcAt } from '../gemm/qs8-requant';

export function dwconv2dQs8(x: usize, w: usize, qc: usize, y: usize, N: i32, H: i32, W: i32, C: i32,
                            OH: i32, OW: i32, p: StepParams, zpIn: i32, zpOut: i32): void {
  const M = p.mult, Co = C * M;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      // in-bounds tap rows [khLo, khHi) once per output row
      const ih0 = oh * p.sh - p.pt;
      const khLo = ih0 >= 0 ? 0 : (-ih0 + p.dh - 1) / p.dh;
      const khHi = min(p.kh, H - ih0 > 0 ? (H - ih0 + p.dh - 1) / p.dh : 0);
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * p.sw - p.pl;
        const kwLo = iw0 >= 0 ? 0 : (-iw0 + p.dw - 1) / p.dw;
        const kwHi = min(p.kw, W - iw0 > 0 ? (W - iw0 + p.dw - 1) / p.dw : 0);
        const yp = y + <usize>(((n * OH + oh) * OW + ow) * Co);
        let c0 = 0;
        if (ASC_FEATURE_SIMD) {
          if (M == 1) {
            const zv = i16x8.splat(<i16>zpIn);
            const xs = <usize>(p.dw * C), xbase = x + <usize>(((n * H + ih0) * W + iw0) * C);
            if (p.kh == 3 && p.kw == 3 && p.dh == 1 && p.dw == 1 && khLo == 0 && khHi == 3 && kwLo == 0 && kwHi == 3) {
              // fast 3x3 interior pixel: 9 taps unrolled; (x − zp)·w fits i16 exactly (|x − zp| ≤ 255, |w| ≤ 128)
              const rs = <usize>(W * C), cs = <usize>C, ws = <usize>Co;
              for (; c0 + 8 <= C; c0 += 8) {
                const r0 = xbase + <usize>c0, r1 = r0 + rs, r2 = r1 + rs, wc = w + <usize>c0;
                let lo = v128.load(qc + (<usize>c0 << 2)), hi = v128.load(qc + (<usize>(c0 + 4) << 2));
                let t = tap(r0, wc, zv); lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(t)); hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(t));
                t = tap(r0 + cs, wc + ws, zv); lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(t)); hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(t));
                t = tap(r0 + 2 * cs, wc + 2 * ws, zv); lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(t)); hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(t));
                t = tap(r1, wc + 3 * ws, zv); lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(t)); hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(t));
                t = tap(r1 + cs, wc + 4 * ws, zv); lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(t)); hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(t));
                t = tap(r1 + 2 * cs, wc + 5 * ws, zv); lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(t)); hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(t));
                t = tap(r2, wc + 6 * ws, zv); lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(t)); hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(t));
                t = tap(r2 + cs, wc + 7 * ws, zv); lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(t)); hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(t));
                t = tap(r2 + 2 * cs, wc + 8 * ws, zv); lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(t)); hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(t));
                const ql = requant4(lo, qc, Co, c0, zpOut, p.qMin, p.qMax);
                const qh = requant4(hi, qc, Co, c0 + 4, zpOut, p.qMin, p.qMax);
                const b = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(ql, qh), i16x8.splat(0));
                store<i64>(yp + <usize>c0, i64x2.extract_lane(b, 0));
              }
            }
            for (; c0 + 8 <= C; c0 += 8) {
              let lo = i32x4.splat(0), hi = i32x4.splat(0);
              for (let kh = khLo; kh < khHi; kh++) {
                let xp = xbase + <usize>((kh * p.dh * W + kwLo * p.dw) * C + c0);
                let wp = w + <usize>((kh * p.kw + kwLo) * Co + c0);
                for (let kw = kwLo; kw < kwHi; kw++) {
                  const xv = i16x8.sub(v128.load8x8_s(xp), zv);
                  const wv = v128.load8x8_s(wp);
                  lo = i32x4.add(lo, i32x4.extmul_low_i16x8_s(xv, wv));
                  hi = i32x4.add(hi, i32x4.extmul_high_i16x8_s(xv, wv));
                  xp += xs; wp += <usize>Co;
                }
              }
              const ql = requant4(i32x4.add(lo, v128.load(qc + (<usize>c0 << 2))), qc, Co, c0, zpOut, p.qMin, p.qMax);
              const qh = requant4(i32x4.add(hi, v128.load(qc + (<usize>(c0 + 4) << 2))), qc, Co, c0 + 4, zpOut, p.qMin, p.qMax);
              const b = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(ql, qh), i16x8.splat(0));
              store<i64>(yp + <usize>c0, i64x2.extract_lane(b, 0));
            }
          }
        }
        for (let o = c0 * M; o < Co; o++) {
          const c = o / M;
          let s = qcAt(qc, Co, 0, o);
          for (let kh = khLo; kh < khHi; kh++) {
            const ih = ih0 + kh * p.dh;
            for (let kw = kwLo; kw < kwHi; kw++) {
              const iw = iw0 + kw * p.dw;
              s += (<i32>load<i8>(x + <usize>(((n * H + ih) * W + iw) * C + c)) - zpIn) * <i32>load<i8>(w + <usize>((kh * p.kw + kw) * Co + o));
            }
          }
          store<i8>(yp + <usize>o, <i8>requantQs8(<i64>s, qcAt(qc, Co, 1, o), qcAt(qc, Co, 2, o), zpOut, p.qMin, p.qMax));
        }
      }
    }
  }
}

/** One tap of 8 channels: (x − zp)·w as exact i16 products. */
// @ts-ignore: decorator
@inline function tap(xp: usize, wp: usize, zv: v128): v128 {
  return i16x8.mul(i16x8.sub(v128.load8x8_s(xp), zv), v128.load8x8_s(wp));
}
