// DepthwiseConv2D_QS8: x i8 [N,H,W,C], w i8 [KH,KW,C·M], qc i32 [3, C·M] (bias NOT folded, multiplier,
// shift) → y i8 [N,OH,OW,C·M]; acc = bias + Σ in-bounds taps (x − zp_in)·w, any KH×KW (no tap waste for
// 1×7 / 7×1). SIMD (M = 1): 8 channels per step, i16 (x − zp_in) · w widened to i32 with extmul. Integer-exact.
// SIMD 3×3 (dilation 1, any stride, M = 1, C ≤ DW_MAX_C): interior pixels of a full-tap row run channel-group
// outer, pixel inner, with the 9 weight vectors, the bias and the requantisation constants held in registers;
// zp_in is folded into the bias once per call (bias − zp_in·Σ_taps w, exact mod 2^32 like the i32 sum itself),
// so taps 0+1, 2+3, 4+5, 6+7 (stride 1: 0+3, 1+4, 2+5, 6+7) are one exact i32x4.dot_i16x8_s each (the two taps' x
// interleaved per channel, against interleaved weights) and tap 8 one exact i16 product x·w (|x·w| ≤ 2^14; RQ_E40: a
// dot of an (x, ·) interleave against (w·2^e, 0); the two- and three-pixel loops take a pixel's tap 8 from a
// neighbour's row-2 pair against (0, w8) or (w8, 0)). Border pixels run the same code over 3 copied rows whose
// out-of-bounds taps hold zp_in ((zp_in − zp_in)·w = 0, as the skipped tap); small images (stride 1 up to 128 wide,
// stride 2 up to 16) copy the whole padded image once and run as one block. The requantisation is picked per 8-channel
// group once per call (DW_MODE; strides 1 and 2 with one shift 32..40 and a folded bias ≤ ~2^(31−(40−s)) scale the
// weights and bias by 2^(40−s) so the requantisation shifts by the constant 40, RQ_E40: 0.89× the depthwise time on
// MobileNetV2, whose shifts are 36..38, with the copy limits; stride 1 with one shift 33..54 adds its rounding and zp
// on the products' high halves in i32, and skips the clamp when it is the whole int8 range; stride 2 with one shift
// 32..54 runs two pixels per step; RQ_E40 and RQ_FP32 three at both strides, qs8-dwconv2d-3x3-run3.ts), so the pixel loops carry
// no branches (qs8-dwconv2d-requant.ts holds the modes and their 8-lane requantisations). C mod 8 channels per
// channel. R picks the requantisation at compile time (gemm/qs8-requant.ts requantAt): i64 fixed point (qc [3, C·M]), f32 XNNPACK's
// (qc [2, C·M]: bias, scale; SIMD: requantFp32m, q_max applied as i8x16.min_s after the saturating narrowings).
// Scalar build, M = 1, fixed point: the padded-plane kernel of qs8-dwconv2d-scalar.ts runs first (qs8-steps.ts); this
// file's per-pixel loop is its fallback.
import { StepParams } from '../../bundle/model';
import { requant4, requantAt, requantFp32m, fp32mMin, fp32mZp, qcAt, FP32N_LIMIT } from '../gemm/qs8-requant';
import { RQ_FOLD, RQ_HIGH, RQ_LANE, RQ_FP32, RQ_FP32N, RQ_E40, RqFold, RqHigh32, RqHigh32C, RqFp32, RqFp32U, RqFp32N, RqE40, RqE40C, rqOf,
         rq8, hiClamp8, tap8lo, tap8hi, ilo, ihi, requantFold8, requantUni8 } from './qs8-dwconv2d-requant';
import { dwconv2dQs8Relaxed3x3 } from './qs8-dwconv2d-3x3-wasmrelaxed';
import { dw3x3Run3, dw3x3Run3s2, dwPixel1 } from './qs8-dwconv2d-3x3-run3';

const DW_MAX_C = 4096;
/** Folded biases bias[c] − zp_in·Σ_taps w[c] of the 3×3 SIMD path (i32 × DW_MAX_C). DW_BIAS and DW_MODE are globals, not
 * constant addresses: a worker instance of the threads build takes its own (privatePad), or two threads starting slices
 * of one step would write the same lines at once (same values, but the lines bounced between the cores). */
let DW_BIAS: usize = ASC_FEATURE_SIMD ? memory.data(DW_MAX_C * 4, 16) : 0;
/** Per 8-channel group of the 3×3 SIMD path (u8 × DW_MAX_C/8, set once per call by dwModes): RQ_* requantisation. */
let DW_MODE: usize = ASC_FEATURE_SIMD ? memory.data(DW_MAX_C >> 3, 16) : 0;
/** 9 taps of |x·w| ≤ 128·128: the most a folded bias moves before the requantisation. */
const DW_TAPS_MAX = 9 * 128 * 128;
/** Largest padded copy the SIMD 3×3 path takes (3·Wp·C bytes, or Hp·Wp·C for a whole small image). */
const DW_PAD_MAX = 1 << 20;
/** Stride-1 output rows up to this width take the whole-image copy: there the border pixels (and per-row group
 * setup) of the row-by-row walk cost more than copying the image once (stride 2 copies 4× the output: it does not).
 * 32 before RQ_E40; since then MobileNetV2's 56×56×144 and 112×112×32 steps measured 0.94× and 0.97× their row-by-row
 * time with the copy (bench/profile.ts steps; the copies, 484 and 416 KB, stay under DW_PAD_MAX). */
const DW_SMALL_OW = 128;
/** The same for stride 2 (the copy is ~4× the output there): MobileNetV2's 14 → 7 and 28 → 14 steps measured 0.78× and
 * 0.93× their row-by-row time with it, the 56 → 28 one 1.02× (bench/profile.ts steps). */
const DW_SMALL_OW_S2 = 16;
/** Padded input rows (3 rows of a border run, or the whole image) with out-of-bounds taps set to zp_in (a zero
 * term once zp_in is folded): one heap block, taken on the first run that needs it (or a larger one), kept. */
let DW_PAD: usize = 0;
let dwPadBytes: i32 = 0;

/** Threaded build (assembly/threads.ts): a worker instance takes its largest padded block at once, so its heap
 * use is bounded (DW_PAD_MAX + 16 bytes) however the slices' sizes grow. */
export function privatePad(): void {
  DW_PAD = (heap.alloc(<usize>DW_PAD_MAX + 16) + 15) & ~<usize>15;
  dwPadBytes = DW_PAD_MAX;
  DW_BIAS = (heap.alloc(<usize>(DW_MAX_C * 4) + 16) + 15) & ~<usize>15;
  DW_MODE = (heap.alloc(<usize>(DW_MAX_C >> 3) + 16) + 15) & ~<usize>15;
}

export function dwconv2dQs8<R>(x: usize, w: usize, qc: usize, y: usize, N: i32, H: i32, W: i32, C: i32,
                            OH: i32, OW: i32, p: StepParams, zpIn: i32, zpOut: i32): void {
  if (ASC_FEATURE_RELAXED_SIMD && dwconv2dQs8Relaxed3x3<R>(x, w, qc, y, N, H, W, C, OH, OW, p, zpIn, zpOut)) return;
  const M = p.mult, Co = C * M;
  let fast = false, whole = false, C8 = 0, owLo = 0, owHi = 0;
  if (ASC_FEATURE_SIMD) {
    fast = M == 1 && p.kh == 3 && p.kw == 3 && p.dh == 1 && p.dw == 1 && C >= 8 && C <= DW_MAX_C && OW > 0 &&
           <i64>3 * <i64>((OW - 1) * p.sw + 3) * <i64>C <= DW_PAD_MAX;
    if (fast) {
      // Hp × Wp input pixels from (−pt, −pl) hold every tap of the OH × OW windows
      const Hp = (OH - 1) * p.sh + 3, Wp = (OW - 1) * p.sw + 3;
      whole = (p.sh == 1 && p.sw == 1 && OW <= DW_SMALL_OW || p.sh == 2 && p.sw == 2 && OW <= DW_SMALL_OW_S2) &&
              <i64>Hp * <i64>Wp * <i64>C <= DW_PAD_MAX;
      const need = (whole ? Hp : 3) * Wp * C;
      if (need > dwPadBytes) { DW_PAD = (heap.alloc(<usize>need + 16) + 15) & ~<usize>15; dwPadBytes = need; }
      C8 = C & ~7;
      dwModes<R>(w, qc, C, C8, zpIn, p.sw);
      // interior columns: iw0 = ow·sw − pl ≥ 0 and iw0 + 2 ≤ W − 1
      owLo = min(OW, (p.pl + p.sw - 1) / p.sw);
      const last = W - 3 + p.pl;
      owHi = last < 0 ? 0 : min(OW, last / p.sw + 1);
      if (owHi < owLo) owHi = owLo;
    }
  }
  for (let n = 0; n < N; n++) {
    if (ASC_FEATURE_SIMD) {
      if (fast) {
        const yn = y + <usize>(n * OH * OW * C);
        if (whole) {
          const Hp = (OH - 1) * p.sh + 3, Wp = (OW - 1) * p.sw + 3;
          dwPadRows(x, n, H, W, C, -p.pt, Hp, -p.pl, Wp, zpIn);
          dw3x3Rows(DW_PAD, w, qc, yn, Wp * C, p.sh * Wp * C, OW * C, OH, C, C8, OW, p.sw, zpOut, p.qMin, p.qMax);
        }
      }
    }
    for (let oh = 0; oh < OH; oh++) {
      // in-bounds tap rows [khLo, khHi) once per output row
      const ih0 = oh * p.sh - p.pt;
      const khLo = ih0 >= 0 ? 0 : (-ih0 + p.dh - 1) / p.dh;
      const khHi = min(p.kh, H - ih0 > 0 ? (H - ih0 + p.dh - 1) / p.dh : 0);
      // fast: channels [0, C8) of the whole row here; the loop below then does only C mod 8 channels per pixel
      let c8 = 0;
      if (ASC_FEATURE_SIMD) {
        if (fast) {
          c8 = C8;
          const yrow = y + <usize>((n * OH + oh) * OW * C), sw = p.sw;
          if (whole) {
            // done above
          } else if (khLo == 0 && khHi == 3 && owLo < owHi) {
            // row by row: the group-outer walk then re-reads 3 input rows (L1), not the whole image
            dw3x3Rows(x + <usize>(((n * H + ih0) * W + owLo * sw - p.pl) * C), w, qc, yrow + <usize>(owLo * C), W * C, 0, 0, 1, C, C8,
                      owHi - owLo, sw, zpOut, p.qMin, p.qMax);
            if (owLo > 0) dw3x3Padded(x, w, qc, yrow, n, H, W, C, C8, ih0, -p.pl, owLo, sw, zpIn, zpOut, p.qMin, p.qMax);
            if (owHi < OW) dw3x3Padded(x, w, qc, yrow + <usize>(owHi * C), n, H, W, C, C8, ih0, owHi * sw - p.pl, OW - owHi, sw, zpIn, zpOut, p.qMin, p.qMax);
          } else {
            dw3x3Padded(x, w, qc, yrow, n, H, W, C, C8, ih0, -p.pl, OW, sw, zpIn, zpOut, p.qMin, p.qMax);
          }
          if (C8 == C) continue;
        }
      }
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * p.sw - p.pl;
        const kwLo = iw0 >= 0 ? 0 : (-iw0 + p.dw - 1) / p.dw;
        const kwHi = min(p.kw, W - iw0 > 0 ? (W - iw0 + p.dw - 1) / p.dw : 0);
        const yp = y + <usize>(((n * OH + oh) * OW + ow) * Co);
        let c0 = c8;
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
                store<i64>(yp + <usize>c0, i64x2.extract_lane(requant8At<R>(lo, hi, qc, Co, c0, zpOut, p.qMin, p.qMax), 0));
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
              lo = i32x4.add(lo, v128.load(qc + (<usize>c0 << 2)));
              hi = i32x4.add(hi, v128.load(qc + (<usize>(c0 + 4) << 2)));
              store<i64>(yp + <usize>c0, i64x2.extract_lane(requant8At<R>(lo, hi, qc, Co, c0, zpOut, p.qMin, p.qMax), 0));
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
          store<i8>(yp + <usize>o, <i8>requantAt<R>(s, qc, Co, o, zpOut, p.qMin, p.qMax));
        }
      }
    }
  }
}

/** Channels c0..c0 + 7 (accumulators lo, hi) requantised as requantAt<R> to i8 lanes 0–7: f32 (XNNPACK's) with
 * requantFp32m and q_max applied after the saturating narrowings, fixed point with requant4. */
// @ts-ignore: decorator
@inline function requant8At<R>(lo: v128, hi: v128, qc: usize, Co: i32, c0: i32, zp: i32, qMin: i32, qMax: i32): v128 {
  if (isFloat<R>()) {
    const sp = qc + (<usize>(Co + c0) << 2), vmin = fp32mMin(zp, qMin), vzp = fp32mZp(zp);
    const h = i16x8.narrow_i32x4_s(requantFp32m(lo, v128.load(sp), vmin, vzp), requantFp32m(hi, v128.load(sp, 16), vmin, vzp));
    return i8x16.min_s(i8x16.narrow_i16x8_s(h, h), i8x16.splat(<i8>qMax));
  }
  const h = i16x8.narrow_i32x4_s(requant4(lo, qc, Co, c0, zp, qMin, qMax), requant4(hi, qc, Co, c0 + 4, zp, qMin, qMax));
  return i8x16.narrow_i16x8_s(h, h);
}

/** DW_BIAS and DW_MODE of every 8-channel group [0, C8) (stride sw). */
function dwModes<R>(w: usize, qc: usize, C: i32, C8: i32, zpIn: i32, sw: i32): void {
  const zv = i32x4.splat(zpIn);
  for (let c0 = 0; c0 < C8; c0 += 8) {
    // folded biases: Σ_taps w in i16 (|Σ| ≤ 9·128), bias − zp_in·Σ in i32 (wrapping, as the scalar sum)
    const wc = w + <usize>c0, cs = <usize>C;
    let sum = v128.load8x8_s(wc);
    for (let t = 1; t < 9; t++) sum = i16x8.add(sum, v128.load8x8_s(wc + <usize>t * cs));
    const bp = qc + (<usize>c0 << 2), dst = DW_BIAS + (<usize>c0 << 2);
    let blo = i32x4.sub(v128.load(bp), i32x4.mul(i32x4.extend_low_i16x8_s(sum), zv));
    let bhi = i32x4.sub(v128.load(bp, 16), i32x4.mul(i32x4.extend_high_i16x8_s(sum), zv));
    let rq = RQ_FP32;
    if (isFloat<R>()) {
      // RQ_FP32N: (|bias_f| + DW_TAPS_MAX)·scale ≤ 2^23 in f32 (each step rounded up by at most 2^-24 relative, far
      // inside the 1.5·2^23 requantFp32n needs) bounds every |acc|·scale of the group
      const sp = qc + (<usize>(C + c0) << 2), taps = f32x4.splat(<f32>DW_TAPS_MAX), lim = f32x4.splat(<f32>FP32N_LIMIT);
      const blof = f32x4.mul(f32x4.add(f32x4.abs(f32x4.convert_i32x4_s(blo)), taps), v128.load(sp));
      const bhif = f32x4.mul(f32x4.add(f32x4.abs(f32x4.convert_i32x4_s(bhi)), taps), v128.load(sp, 16));
      if (i32x4.all_true(f32x4.le(blof, lim)) && i32x4.all_true(f32x4.le(bhif, lim))) rq = RQ_FP32N;
    } else {
      const s0 = qcAt(qc, C, 2, c0);
      const sp = qc + (<usize>(2 * C + c0) << 2), sv = i32x4.splat(s0);
      const uni = s0 >= 31 && i32x4.all_true(i32x4.eq(v128.load(sp), sv)) && i32x4.all_true(i32x4.eq(v128.load(sp, 16), sv));
      rq = !uni ? RQ_LANE : s0 >= 32 && s0 <= 54 ? RQ_FOLD : RQ_HIGH;
      if (rq == RQ_FOLD && s0 <= 40 && (sw == 1 || sw == 2)) {
        // RQ_E40: |bias_f| ≤ 2^(31−e) − 1 − DW_TAPS_MAX keeps every accumulator, and so the i32 sum (which then
        // never wraps), within ±(2^(31−e) − 1): times 2^e it is still an i32
        const e = 40 - s0, lim = i32x4.splat((<i32>1 << (31 - e)) - 1 - DW_TAPS_MAX), nlim = i32x4.neg(lim);
        const ok = i32x4.all_true(v128.and(i32x4.le_s(blo, lim), i32x4.ge_s(blo, nlim))) &&
                   i32x4.all_true(v128.and(i32x4.le_s(bhi, lim), i32x4.ge_s(bhi, nlim)));
        if (ok) { rq = RQ_E40; blo = i32x4.shl(blo, e); bhi = i32x4.shl(bhi, e); }
      }
    }
    v128.store(dst, blo);
    v128.store(dst, bhi, 16);
    store<u8>(DW_MODE + <usize>(c0 >> 3), <u8>rq);
  }
}

/**
 * 3×3 run of `cnt` output pixels (yp) of one row whose input columns start at iwStart (may be < 0 or run past W):
 * the 3 input rows ih0.. are copied to DW_PAD with zp_in in every out-of-bounds tap, then run as an interior row.
 */
function dw3x3Padded(x: usize, w: usize, qc: usize, yp: usize, n: i32, H: i32, W: i32, C: i32, C8: i32, ih0: i32,
                     iwStart: i32, cnt: i32, sw: i32, zpIn: i32, zpOut: i32, qMin: i32, qMax: i32): void {
  const ncols = (cnt - 1) * sw + 3, rowBytes = ncols * C;
  dwPadRows(x, n, H, W, C, ih0, 3, iwStart, ncols, zpIn);
  dw3x3Rows(DW_PAD, w, qc, yp, rowBytes, 0, 0, 1, C, C8, cnt, sw, zpOut, qMin, qMax);
}

/** The padded block holding input rows [ih0, ih0 + nrows) × columns [iwStart, iwStart + ncols) of image n (ncols·C
 * bytes a row), zp outside the image, or 0 when it would pass DW_PAD_MAX. Shared with qs8-conv2d-im2col.ts: steps run
 * one at a time per instance and nothing is kept in the block between steps (a worker's block is its own). */
export function padWindow(x: usize, n: i32, H: i32, W: i32, C: i32, ih0: i32, nrows: i32, iwStart: i32, ncols: i32,
                          zp: i32): usize {
  const need = <i64>nrows * <i64>ncols * <i64>C;
  if (need > DW_PAD_MAX) return 0;
  if (<i32>need > dwPadBytes) { DW_PAD = (heap.alloc(<usize>need + 16) + 15) & ~<usize>15; dwPadBytes = <i32>need; }
  dwPadRows(x, n, H, W, C, ih0, nrows, iwStart, ncols, zp);
  return DW_PAD;
}

/** Input rows [ih0, ih0 + nrows) × columns [iwStart, iwStart + ncols) of image n to DW_PAD (ncols·C bytes a row),
 * zp_in outside the image. */
function dwPadRows(x: usize, n: i32, H: i32, W: i32, C: i32, ih0: i32, nrows: i32, iwStart: i32, ncols: i32, zpIn: i32): void {
  const rowBytes = ncols * C;
  const a = max(0, iwStart), b = min(W, iwStart + ncols);
  for (let kh = 0; kh < nrows; kh++) {
    const ih = ih0 + kh, dst = DW_PAD + <usize>(kh * rowBytes);
    if (ih < 0 || ih >= H || b <= a) {
      memory.fill(dst, <u8>zpIn, <usize>rowBytes);
    } else {
      const left = (a - iwStart) * C, mid = (b - a) * C;
      if (left > 0) memory.fill(dst, <u8>zpIn, <usize>left);
      memory.copy(dst + <usize>left, x + <usize>(((n * H + ih) * W + a) * C), <usize>mid);
      if (left + mid < rowBytes) memory.fill(dst + <usize>(left + mid), <u8>zpIn, <usize>(rowBytes - left - mid));
    }
  }
}

/**
 * 3×3 interior block of `nrows` output rows × `cnt` pixels: x0 is the input top-left tap of the first pixel (input
 * rows rowBytes apart, output row r starts at x0 + r·inStep, y0 + r·outStep), input pixel step `sw`; channels
 * [0, C8) in groups of 8, group outer. Biases from DW_BIAS (zp folded), per-group mode from DW_MODE (dwModes).
 */
function dw3x3Rows(x0: usize, w: usize, qc: usize, y0: usize, rowBytes: i32, inStep: i32, outStep: i32, nrows: i32,
                   C: i32, C8: i32, cnt: i32, sw: i32, zpOut: i32, qMin: i32, qMax: i32): void {
  const rs = <usize>rowBytes, cs = <usize>C, ps = <usize>(sw * C), is = <usize>inStep, os = <usize>outStep;
  const hlo = i16x8.splat(<i16>qMin), hhi = i16x8.splat(<i16>qMax);
  for (let c0 = 0; c0 < C8; c0 += 8) {
    const wc = w + <usize>c0;
    const w0 = v128.load8x8_s(wc), w1 = v128.load8x8_s(wc + cs), w2 = v128.load8x8_s(wc + 2 * cs);
    const w3 = v128.load8x8_s(wc + 3 * cs), w4 = v128.load8x8_s(wc + 4 * cs), w5 = v128.load8x8_s(wc + 5 * cs);
    const w6 = v128.load8x8_s(wc + 6 * cs), w7 = v128.load8x8_s(wc + 7 * cs), w8 = v128.load8x8_s(wc + 8 * cs);
    const blo = v128.load(DW_BIAS + (<usize>c0 << 2)), bhi = v128.load(DW_BIAS + (<usize>c0 << 2), 16);
    const mlo = v128.load(qc + (<usize>(C + c0) << 2)), mhi = v128.load(qc + (<usize>(C + c0) << 2), 16);
    const mode = <i32>load<u8>(DW_MODE + <usize>(c0 >> 3));
    // RQ_FP32: mlo / mhi are the scales, qc has no shift row
    const fp32 = mode == RQ_FP32 || mode == RQ_FP32N;
    const s0 = fp32 ? 0 : load<i32>(qc + (<usize>(2 * C + c0) << 2));
    const x = x0 + <usize>c0, y = y0 + <usize>c0;
    if (mode == RQ_E40) {
      // weights times 2^e (|w|·2^8 ≤ 2^15: still i16), the bias already scaled (dwModes); rz = 2^7 + zp·2^8
      const e = 40 - s0, rz = i32x4.splat(128 + zpOut * 256), clamp = qMin > -128 || qMax < 127;
      const v0 = i16x8.shl(w0, e), v1 = i16x8.shl(w1, e), v2 = i16x8.shl(w2, e), v3 = i16x8.shl(w3, e), v4 = i16x8.shl(w4, e);
      const v5 = i16x8.shl(w5, e), v6 = i16x8.shl(w6, e), v7 = i16x8.shl(w7, e), v8 = i16x8.shl(w8, e);
      if (sw == 1 && clamp)
        dw3x3Run3<RqE40C>(x, y, rs, cs, cnt, nrows, is, os, v0, v1, v2, v3, v4, v5, v6, v7, v8, blo, bhi, mlo, mhi, rz, hlo, hhi);
      else if (sw == 1)
        dw3x3Run3<RqE40>(x, y, rs, cs, cnt, nrows, is, os, v0, v1, v2, v3, v4, v5, v6, v7, v8, blo, bhi, mlo, mhi, rz, hlo, hhi);
      else if (clamp)
        dw3x3Run3s2<RqE40C>(x, y, rs, cs, cnt, nrows, is, os, v0, v1, v2, v3, v4, v5, v6, v7, v8, blo, bhi, mlo, mhi, rz, hlo, hhi);
      else
        dw3x3Run3s2<RqE40>(x, y, rs, cs, cnt, nrows, is, os, v0, v1, v2, v3, v4, v5, v6, v7, v8, blo, bhi, mlo, mhi, rz, hlo, hhi);
    } else if (mode == RQ_FOLD && s0 >= 33 && sw == 1) {
      // requantHigh8: rz = 2^(s−33) + zp·2^(s−32) added to the products' high halves as i32 (stride 1 only: the
      // stride-2 loop with it measured ~10 % slower per step, bench/profile.ts, so it keeps requantFold8)
      const rz = i32x4.splat((1 << (s0 - 33)) + zpOut * (1 << (s0 - 32))), t = s0 - 32;
      if (qMin > -128 || qMax < 127)
        dw3x3Run2<RqHigh32C>(x, y, rs, cs, cnt, nrows, is, os, w0, w1, w2, w3, w4, w5, w6, w7, w8, blo, bhi, mlo, mhi, rz, t,
                  hlo, hhi);
      else
        dw3x3Run2<RqHigh32>(x, y, rs, cs, cnt, nrows, is, os, w0, w1, w2, w3, w4, w5, w6, w7, w8, blo, bhi, mlo, mhi, rz, t,
                  hlo, hhi);
    } else if (mode == RQ_FOLD && sw == 1) {
      const k = i64x2.splat((<i64>1 << <i64>(s0 - 1)) + (<i64>zpOut << <i64>s0));
      dw3x3Run2<RqFold>(x, y, rs, cs, cnt, nrows, is, os, w0, w1, w2, w3, w4, w5, w6, w7, w8, blo, bhi, mlo, mhi, k, s0 - 32,
                hlo, hhi);
    } else if (fp32 && (sw == 1 || sw == 2)) {
      // weights as they are, the bias zp-folded (dwModes); requantFp32m's constants, q_max as i8 lanes for hiClamp8
      const vmin = fp32mMin(zpOut, qMin), vzp = fp32mZp(zpOut), hi8 = i8x16.splat(<i8>qMax);
      if (mode == RQ_FP32N && qMin == -128 && qMax == 127 && sw == 1)
        dw3x3Run3<RqFp32N>(x, y, rs, cs, cnt, nrows, is, os, w0, w1, w2, w3, w4, w5, w6, w7, w8, blo, bhi, mlo, mhi, vmin, vzp, hi8);
      else if (mode == RQ_FP32N && qMin == -128 && qMax == 127)
        dw3x3Run3s2<RqFp32N>(x, y, rs, cs, cnt, nrows, is, os, w0, w1, w2, w3, w4, w5, w6, w7, w8, blo, bhi, mlo, mhi, vmin, vzp, hi8);
      else if (sw == 1 && qMax < 127)
        dw3x3Run3<RqFp32>(x, y, rs, cs, cnt, nrows, is, os, w0, w1, w2, w3, w4, w5, w6, w7, w8, blo, bhi, mlo, mhi, vmin, vzp, hi8);
      else if (sw == 1)
        dw3x3Run3<RqFp32U>(x, y, rs, cs, cnt, nrows, is, os, w0, w1, w2, w3, w4, w5, w6, w7, w8, blo, bhi, mlo, mhi, vmin, vzp, hi8);
      else if (qMax < 127)
        dw3x3Run3s2<RqFp32>(x, y, rs, cs, cnt, nrows, is, os, w0, w1, w2, w3, w4, w5, w6, w7, w8, blo, bhi, mlo, mhi, vmin, vzp, hi8);
      else
        dw3x3Run3s2<RqFp32U>(x, y, rs, cs, cnt, nrows, is, os, w0, w1, w2, w3, w4, w5, w6, w7, w8, blo, bhi, mlo, mhi, vmin, vzp, hi8);
    } else if (mode == RQ_FOLD && sw == 2) {
      const k = i64x2.splat((<i64>1 << <i64>(s0 - 1)) + (<i64>zpOut << <i64>s0));
      dw3x3Run2s2<RqFold>(x, y, rs, cs, cnt, nrows, is, os, w0, w1, w2, w3, w4, w5, w6, w7, w8, blo, bhi, mlo, mhi, k, s0 - 32,
                  hlo, hhi);
    } else if (mode == RQ_FOLD) {
      const k = i64x2.splat((<i64>1 << <i64>(s0 - 1)) + (<i64>zpOut << <i64>s0));
      dw3x3Run(x, y, rs, cs, ps, cnt, nrows, is, os, w0, w1, w2, w3, w4, w5, w6, w7, w8, blo, bhi, RQ_FOLD,
          mlo, mhi, k, s0 - 32, i32x4.splat(0), hlo, hhi, qc, C, c0, zpOut, qMin, qMax);
    } else if (mode == RQ_HIGH) {
      const k = i64x2.splat((<i64>1 << <i64>(s0 - 1)) + (<i64>1 << 62));
      const zo = i32x4.splat(zpOut - <i32>(<i64>1 << <i64>(62 - s0)));
      dw3x3Run(x, y, rs, cs, ps, cnt, nrows, is, os, w0, w1, w2, w3, w4, w5, w6, w7, w8, blo, bhi, RQ_HIGH,
          mlo, mhi, k, s0, zo, hlo, hhi, qc, C, c0, zpOut, qMin, qMax);
    } else if (fp32) {
      dw3x3Run(x, y, rs, cs, ps, cnt, nrows, is, os, w0, w1, w2, w3, w4, w5, w6, w7, w8, blo, bhi, RQ_FP32,
          mlo, mhi, fp32mMin(zpOut, qMin), 0, fp32mZp(zpOut), hlo, i8x16.splat(<i8>qMax), qc, C, c0, zpOut, qMin, qMax);
    } else {
      dw3x3Run(x, y, rs, cs, ps, cnt, nrows, is, os, w0, w1, w2, w3, w4, w5, w6, w7, w8, blo, bhi, RQ_LANE,
          mlo, mhi, mlo, s0, mlo, hlo, hhi, qc, C, c0, zpOut, qMin, qMax);
    }
  }
}

/** dw3x3Row's pixel loop for one 8-channel group (taps paired as dw3x3Run2's); `rq` is a constant at every call, so
 * each call inlines to a loop without per-pixel branches. */
// @ts-ignore: decorator
@inline function dw3x3Run(x: usize, y: usize, rs: usize, cs: usize, ps: usize, cnt: i32, nrows: i32, is: usize, os: usize,
                          w0: v128, w1: v128, w2: v128, w3: v128, w4: v128, w5: v128, w6: v128, w7: v128, w8: v128,
                          blo: v128, bhi: v128, rq: i32, mlo: v128, mhi: v128, k: v128, s: i32, zo: v128,
                          hlo: v128, hhi: v128, qc: usize, C: i32, c0: i32, zpOut: i32, qMin: i32, qMax: i32): void {
  const v01l = ilo(w0, w1), v01h = ihi(w0, w1), v23l = ilo(w2, w3), v23h = ihi(w2, w3);
  const v45l = ilo(w4, w5), v45h = ihi(w4, w5), v67l = ilo(w6, w7), v67h = ihi(w6, w7);
  for (let r = 0; r < nrows; r++) {
  let r0 = x + <usize>r * is, yp = y + <usize>r * os;
  for (let i = 0; i < cnt; i++) {
    const r1 = r0 + rs, r2 = r1 + rs;
    const a = v128.load8x8_s(r0), b = v128.load8x8_s(r0 + cs), c = v128.load8x8_s(r0 + 2 * cs);
    const e = v128.load8x8_s(r1), f = v128.load8x8_s(r1 + cs), g = v128.load8x8_s(r1 + 2 * cs);
    let lo = i32x4.add(blo, i32x4.dot_i16x8_s(ilo(a, b), v01l)), hi = i32x4.add(bhi, i32x4.dot_i16x8_s(ihi(a, b), v01h));
    lo = i32x4.add(lo, i32x4.dot_i16x8_s(ilo(c, e), v23l)); hi = i32x4.add(hi, i32x4.dot_i16x8_s(ihi(c, e), v23h));
    lo = i32x4.add(lo, i32x4.dot_i16x8_s(ilo(f, g), v45l)); hi = i32x4.add(hi, i32x4.dot_i16x8_s(ihi(f, g), v45h));
    const p = v128.load8x8_s(r2), q = v128.load8x8_s(r2 + cs);
    lo = i32x4.add(lo, i32x4.dot_i16x8_s(ilo(p, q), v67l)); hi = i32x4.add(hi, i32x4.dot_i16x8_s(ihi(p, q), v67h));
    const t = i16x8.mul(v128.load8x8_s(r2 + 2 * cs), w8);
    lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(t)); hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(t));
    let h: v128;
    if (rq == RQ_FOLD) h = requantFold8(lo, hi, mlo, mhi, k, s, hlo, hhi);
    else if (rq == RQ_HIGH) h = requantUni8(lo, hi, mlo, mhi, k, s, zo, hlo, hhi);
    // RQ_FP32: k, zo = requantFp32m's vmin, vzp; hhi = q_max as i8 lanes
    else if (rq == RQ_FP32) h = i16x8.narrow_i32x4_s(requantFp32m(lo, mlo, k, zo), requantFp32m(hi, mhi, k, zo));
    else h = i16x8.narrow_i32x4_s(requant4(lo, qc, C, c0, zpOut, qMin, qMax), requant4(hi, qc, C, c0 + 4, zpOut, qMin, qMax));
    store<i64>(yp, i64x2.extract_lane(hiClamp8(rq, i8x16.narrow_i16x8_s(h, h), hhi), 0));
    r0 += ps; yp += cs;
  }
  }
}

/** dw3x3Run for stride 1, RQ_FOLD or RQ_HIGH32(C) (rqOf<M>(); RQ_E40(C) and RQ_FP32 run dw3x3Run3): two output pixels
 * per step, so each
 * input row's 4 column loads serve both (12 loads, not 18); taps paired 0+3, 1+4, 2+5 (rows 0 and 1 of one column, so
 * the middle two columns' interleaved pairs serve both pixels: 12 interleaves per 2 pixels, not 16; 0.93× the time of
 * the 0+1, 2+3, 4+5 pairing on MobileNetV2's stride-1 layers, bench/profile.ts), 6+7, then 8, by interleaving the two
 * taps' i16 values per channel and one `i32x4.dot_i16x8_s` against the interleaved weights per 4 channels:
 * x_a·w_a + x_b·w_b exact in i32 for any weights (no −128 restriction), the same sum mod 2^32 as tap by tap.
 * Requantisation per pixel as rq8. */
// @ts-ignore: decorator
@inline function dw3x3Run2<M>(x: usize, y: usize, rs: usize, cs: usize, cnt: i32, nrows: i32, is: usize, os: usize,
                              w0: v128, w1: v128, w2: v128, w3: v128, w4: v128, w5: v128, w6: v128, w7: v128, w8: v128,
                              blo: v128, bhi: v128, mlo: v128, mhi: v128, k: v128, sh: i32, hlo: v128, hhi: v128): void {
  const rq = rqOf<M>();
  // rows 0 and 1 paired vertically (taps 0+3, 1+4, 2+5): each input column's pair serves both pixels
  const v03l = ilo(w0, w3), v03h = ihi(w0, w3), v14l = ilo(w1, w4), v14h = ihi(w1, w4);
  const v25l = ilo(w2, w5), v25h = ihi(w2, w5), v67l = ilo(w6, w7), v67h = ihi(w6, w7);
  const v8l = ilo(w8, i16x8.splat(0)), v8h = ihi(w8, i16x8.splat(0)), v08l = ilo(i16x8.splat(0), w8), v08h = ihi(i16x8.splat(0), w8);
  for (let r = 0; r < nrows; r++) {
    let r0 = x + <usize>r * is, yp = y + <usize>r * os;
    let i = 0;
    for (; i + 2 <= cnt; i += 2) {
      const r1 = r0 + rs, r2 = r1 + rs;
      const a = v128.load8x8_s(r0), e = v128.load8x8_s(r1);
      const c0l = ilo(a, e), c0h = ihi(a, e);
      const b = v128.load8x8_s(r0 + cs), f = v128.load8x8_s(r1 + cs);
      const c1l = ilo(b, f), c1h = ihi(b, f);
      let lo0 = i32x4.add(blo, i32x4.dot_i16x8_s(c0l, v03l)), hi0 = i32x4.add(bhi, i32x4.dot_i16x8_s(c0h, v03h));
      let lo1 = i32x4.add(blo, i32x4.dot_i16x8_s(c1l, v03l)), hi1 = i32x4.add(bhi, i32x4.dot_i16x8_s(c1h, v03h));
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(c1l, v14l)); hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(c1h, v14h));
      const c = v128.load8x8_s(r0 + 2 * cs), g = v128.load8x8_s(r1 + 2 * cs);
      const c2l = ilo(c, g), c2h = ihi(c, g);
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(c2l, v25l)); hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(c2h, v25h));
      lo1 = i32x4.add(lo1, i32x4.dot_i16x8_s(c2l, v14l)); hi1 = i32x4.add(hi1, i32x4.dot_i16x8_s(c2h, v14h));
      const d = v128.load8x8_s(r0 + 3 * cs), h = v128.load8x8_s(r1 + 3 * cs);
      lo1 = i32x4.add(lo1, i32x4.dot_i16x8_s(ilo(d, h), v25l)); hi1 = i32x4.add(hi1, i32x4.dot_i16x8_s(ihi(d, h), v25h));
      const p = v128.load8x8_s(r2), q = v128.load8x8_s(r2 + cs), u = v128.load8x8_s(r2 + 2 * cs), v = v128.load8x8_s(r2 + 3 * cs);
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(ilo(p, q), v67l)); hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(ihi(p, q), v67h));
      const qul = ilo(q, u), quh = ihi(q, u);
      lo1 = i32x4.add(lo1, i32x4.dot_i16x8_s(qul, v67l)); hi1 = i32x4.add(hi1, i32x4.dot_i16x8_s(quh, v67h));
      // pixel 0's tap 8 (u) from pixel 1's (q, u) pairs against (0, w8): no interleave (or i16 product) of its own
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(qul, v08l)); hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(quh, v08h));
      lo1 = i32x4.add(lo1, tap8lo(rq, v, w8, v8l)); hi1 = i32x4.add(hi1, tap8hi(rq, v, w8, v8h));
      const h0 = rq8(rq, lo0, hi0, mlo, mhi, k, sh, k, hlo, hhi), h1 = rq8(rq, lo1, hi1, mlo, mhi, k, sh, k, hlo, hhi);
      const o = i8x16.narrow_i16x8_s(h0, h1);
      v128.store64_lane(yp, o, 0); v128.store64_lane(yp + cs, o, 1);
      r0 += 2 * cs; yp += 2 * cs;
    }
    if (i < cnt)
      dwPixel1(rq, r0, rs, cs, yp, v03l, v03h, v14l, v14h, v25l, v25h, v67l, v67h, w8, v8l, v8h, blo, bhi,
               mlo, mhi, k, sh, k, hlo, hhi);
  }
}

/** dw3x3Run2 for stride 2, RQ_FOLD (rqOf<M>(); RQ_E40(C) and RQ_FP32 run dw3x3Run3s2): two output pixels per step over
 * input columns 0..4 (pixel 1 starts at column 2),
 * rows 0 and 1 paired per column (taps 0+3, 1+4, 2+5) so column 2's pair serves both pixels: 15 loads and 14
 * interleaving shuffles per two pixels instead of 18 and 16. */
// @ts-ignore: decorator
@inline function dw3x3Run2s2<M>(x: usize, y: usize, rs: usize, cs: usize, cnt: i32, nrows: i32, is: usize, os: usize,
                                w0: v128, w1: v128, w2: v128, w3: v128, w4: v128, w5: v128, w6: v128, w7: v128, w8: v128,
                                blo: v128, bhi: v128, mlo: v128, mhi: v128, k: v128, sh: i32, hlo: v128, hhi: v128): void {
  const rq = rqOf<M>();
  const v03l = ilo(w0, w3), v03h = ihi(w0, w3), v14l = ilo(w1, w4), v14h = ihi(w1, w4);
  const v25l = ilo(w2, w5), v25h = ihi(w2, w5), v67l = ilo(w6, w7), v67h = ihi(w6, w7);
  const v8l = ilo(w8, i16x8.splat(0)), v8h = ihi(w8, i16x8.splat(0));
  for (let r = 0; r < nrows; r++) {
    let r0 = x + <usize>r * is, yp = y + <usize>r * os;
    let i = 0;
    for (; i + 2 <= cnt; i += 2) {
      const r1 = r0 + rs, r2 = r1 + rs;
      let a = v128.load8x8_s(r0), e = v128.load8x8_s(r1);
      let lo0 = i32x4.add(blo, i32x4.dot_i16x8_s(ilo(a, e), v03l)), hi0 = i32x4.add(bhi, i32x4.dot_i16x8_s(ihi(a, e), v03h));
      a = v128.load8x8_s(r0 + cs); e = v128.load8x8_s(r1 + cs);
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(ilo(a, e), v14l)); hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(ihi(a, e), v14h));
      // Segment ends (cnt ≥ 2 here, so never taken): TurboFan puts every load of a loop body first and sinks the pure
      // arithmetic to its uses, so all 15 loaded vectors lived at once and spilled; a branch whose arm permutes the
      // sums (its store keeps binaryen from making selects of it) joins them in phis, which need each segment's sums
      // before the next segment's loads. 0.98× this loop's steps (bench/profile.ts); the stride-1 loop: 1.00×
      if (cnt < 0) { store<i32>(0, 0); const t = lo0; lo0 = hi0; hi0 = t; }
      a = v128.load8x8_s(r0 + 2 * cs); e = v128.load8x8_s(r1 + 2 * cs);
      const c2l = ilo(a, e), c2h = ihi(a, e);
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(c2l, v25l)); hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(c2h, v25h));
      let lo1 = i32x4.add(blo, i32x4.dot_i16x8_s(c2l, v03l)), hi1 = i32x4.add(bhi, i32x4.dot_i16x8_s(c2h, v03h));
      if (cnt < 0) { store<i32>(0, 0); const t = lo0; lo0 = hi0; hi0 = lo1; lo1 = hi1; hi1 = t; }
      a = v128.load8x8_s(r0 + 3 * cs); e = v128.load8x8_s(r1 + 3 * cs);
      lo1 = i32x4.add(lo1, i32x4.dot_i16x8_s(ilo(a, e), v14l)); hi1 = i32x4.add(hi1, i32x4.dot_i16x8_s(ihi(a, e), v14h));
      a = v128.load8x8_s(r0 + 4 * cs); e = v128.load8x8_s(r1 + 4 * cs);
      lo1 = i32x4.add(lo1, i32x4.dot_i16x8_s(ilo(a, e), v25l)); hi1 = i32x4.add(hi1, i32x4.dot_i16x8_s(ihi(a, e), v25h));
      if (cnt < 0) { store<i32>(0, 0); const t = lo0; lo0 = hi0; hi0 = lo1; lo1 = hi1; hi1 = t; }
      const p = v128.load8x8_s(r2), q = v128.load8x8_s(r2 + cs), u = v128.load8x8_s(r2 + 2 * cs);
      const v = v128.load8x8_s(r2 + 3 * cs), z = v128.load8x8_s(r2 + 4 * cs);
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(ilo(p, q), v67l)); hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(ihi(p, q), v67h));
      const uvl = ilo(u, v), uvh = ihi(u, v);
      lo1 = i32x4.add(lo1, i32x4.dot_i16x8_s(uvl, v67l)); hi1 = i32x4.add(hi1, i32x4.dot_i16x8_s(uvh, v67h));
      // pixel 0's tap 8 (u) from pixel 1's (u, v) pairs against (w8, 0)
      lo0 = i32x4.add(lo0, i32x4.dot_i16x8_s(uvl, v8l)); hi0 = i32x4.add(hi0, i32x4.dot_i16x8_s(uvh, v8h));
      lo1 = i32x4.add(lo1, tap8lo(rq, z, w8, v8l)); hi1 = i32x4.add(hi1, tap8hi(rq, z, w8, v8h));
      const h0 = rq8(rq, lo0, hi0, mlo, mhi, k, sh, k, hlo, hhi), h1 = rq8(rq, lo1, hi1, mlo, mhi, k, sh, k, hlo, hhi);
      const o = i8x16.narrow_i16x8_s(h0, h1);
      v128.store64_lane(yp, o, 0); v128.store64_lane(yp + cs, o, 1);
      r0 += 4 * cs; yp += 2 * cs;
    }
    if (i < cnt)
      dwPixel1(rq, r0, rs, cs, yp, v03l, v03h, v14l, v14h, v25l, v25h, v67l, v67h, w8, v8l, v8h, blo, bhi,
               mlo, mhi, k, sh, k, hlo, hhi);
  }
}

/** One tap of 8 channels: (x − zp)·w as exact i16 products. */
// @ts-ignore: decorator
@inline function tap(xp: usize, wp: usize, zv: v128): v128 {
  return i16x8.mul(i16x8.sub(v128.load8x8_s(xp), zv), v128.load8x8_s(wp));
}
