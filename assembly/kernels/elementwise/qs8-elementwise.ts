// Add_QS8 (BinaryParams strides, rank ≤ 6, qc i32 [3]: mult_a, mult_b, shared shift):
// out = clamp(zp + (((a − zp_a)·mult_a + (b − zp_b)·mult_b + 2^(shift−1)) >> shift), q_min, q_max) in i64;
// Mul_QS8_FP32 (XNNPACK's qs8 multiply, TFLite's int8 MUL; same strides, qc [1]: f32 scale s_a·s_b / s_out):
// out = clamp(round_half_even(f32((a − zp_a)·(b − zp_b))·scale) + zp, q_min, q_max) (the product is exact in f32);
// Add_QS8_FP32 (onnxruntime's QLinearAdd; same strides, qc [4]: f32 s_a, s_b, s_out, i32 zr):
// v = clamp(f32(f32(s_a·(a − zp_a)) + f32(s_b·(b − zp_b))) / s_out, q_min − zp, q_max − zp),
// out = round_half_even(f32(v + zr)) − (zr − zp), zr the zero point onnxruntime rounds with (the uint8 one, zp + 128);
// Quantize_QS8 (f32 → i8, half away from zero), Quantize_QS8_RNE (half to even, ONNX QuantizeLinear),
// Dequantize_QS8 (i8 → f32), Requantize_QS8 (qc [2]: mult, shift). Exact, both builds.
import { StepParams } from '../../bundle/model';
import {
  requantQs8,
  quantizeQs8,
  quantizeQs8Rne,
  dequantizeQs8,
  requantFp32,
  requantFp32v,
  FP32_MAGIC_BITS,
} from '../gemm/qs8-requant';

export function addQs8(a: usize, b: usize, qc: usize, y: usize, p: StepParams, zpA: i32, zpB: i32, zpOut: i32): void {
  // shape padded on the left to rank 6 (strides 0); locals only: nothing allocates per run
  const r = p.shape.length, off = 6 - r;
  let d0 = dim(p.shape, 0, off, 1), d1 = dim(p.shape, 1, off, 1), d2 = dim(p.shape, 2, off, 1);
  let d3 = dim(p.shape, 3, off, 1), d4 = dim(p.shape, 4, off, 1), d5 = dim(p.shape, 5, off, 1);
  const a0 = dim(p.aStrides, 0, off, 0), a1 = dim(p.aStrides, 1, off, 0), a2 = dim(p.aStrides, 2, off, 0);
  const a3 = dim(p.aStrides, 3, off, 0), a4 = dim(p.aStrides, 4, off, 0);
  let a5 = dim(p.aStrides, 5, off, 0);
  const b0 = dim(p.bStrides, 0, off, 0), b1 = dim(p.bStrides, 1, off, 0), b2 = dim(p.bStrides, 2, off, 0);
  const b3 = dim(p.bStrides, 3, off, 0), b4 = dim(p.bStrides, 4, off, 0);
  let b5 = dim(p.bStrides, 5, off, 0);
  // both inputs row-major like the output (the residual adds): one row of every element, not one per inner row
  if (rowMajor(d0, d1, d2, d3, d4, d5, a0, a1, a2, a3, a4, a5) && rowMajor(d0, d1, d2, d3, d4, d5, b0, b1, b2, b3, b4, b5)) {
    d5 = d0 * d1 * d2 * d3 * d4 * d5; d0 = 1; d1 = 1; d2 = 1; d3 = 1; d4 = 1; a5 = 1; b5 = 1;
  }
  const ma = <i64>load<i32>(qc), mb = <i64>load<i32>(qc, 4), sh = load<i32>(qc, 8);
  const rnd = <i64>1 << <i64>(sh - 1);
  let o: usize = y;
  if (ASC_FEATURE_SIMD) {
    // one contiguous row (the residual adds): its 16-output blocks here, the rest below
    if (d0 * d1 * d2 * d3 * d4 == 1 && a5 == 1 && b5 == 1 && d5 >= 16 && addSplitOk(ma, mb, sh)) {
      const n16 = d5 & ~15;
      o = addFoldOk(ma, mb, sh, zpA, zpB, zpOut)
        ? addQs8RowFold16(a, b, o, n16, ma, mb, sh, zpA, zpB, zpOut, p.qMin, p.qMax)
        : addQs8RowSplit16(a, b, o, n16, <i32>ma, <i32>mb, sh, zpA, zpB, zpOut, p.qMin, p.qMax);
      a += <usize>n16; b += <usize>n16; d5 -= n16;
    }
  }
  for (let i0 = 0; i0 < d0; i0++)
  for (let i1 = 0; i1 < d1; i1++)
  for (let i2 = 0; i2 < d2; i2++)
  for (let i3 = 0; i3 < d3; i3++)
  for (let i4 = 0; i4 < d4; i4++) {
    let ao = i0 * a0 + i1 * a1 + i2 * a2 + i3 * a3 + i4 * a4;
    let bo = i0 * b0 + i1 * b1 + i2 * b2 + i3 * b3 + i4 * b4;
    const s5a = a5, s5b = b5;
    let i5 = 0;
    if (ASC_FEATURE_SIMD) {
      if (s5a == 1 && s5b == 1 && d5 >= 8) {
        if (addSplitOk(ma, mb, sh)) {
          const n16 = d5 & ~15;
          if (n16 > 0)
            o = addFoldOk(ma, mb, sh, zpA, zpB, zpOut)
              ? addQs8RowFold16(a + <usize>ao, b + <usize>bo, o, n16, ma, mb, sh, zpA, zpB, zpOut, p.qMin, p.qMax)
              : addQs8RowSplit16(a + <usize>ao, b + <usize>bo, o, n16, <i32>ma, <i32>mb, sh, zpA, zpB, zpOut, p.qMin, p.qMax);
          if (d5 & 8) o = addQs8RowSplit(a + <usize>(ao + n16), b + <usize>(bo + n16), o, 8, <i32>ma, <i32>mb, sh, zpA, zpB, zpOut, p.qMin, p.qMax);
        } else o = addQs8Row(a + <usize>ao, b + <usize>bo, o, d5 & ~7, ma, mb, sh, zpA, zpB, zpOut, p.qMin, p.qMax);
        i5 = d5 & ~7; ao += i5; bo += i5;
      }
    }
    for (; i5 < d5; i5++) {
      const va = <i64>(<i32>load<i8>(a + <usize>ao) - zpA), vb = <i64>(<i32>load<i8>(b + <usize>bo) - zpB);
      let v = ((va * ma + vb * mb + rnd) >> <i64>sh) + <i64>zpOut;
      if (v < <i64>p.qMin) v = <i64>p.qMin;
      if (v > <i64>p.qMax) v = <i64>p.qMax;
      store<i8>(o, <i8>v);
      o++; ao += s5a; bo += s5b;
    }
  }
}

export function mulQs8(a: usize, b: usize, qc: usize, y: usize, p: StepParams, zpA: i32, zpB: i32, zpOut: i32): void {
  // the loop nest of addQs8 (shape padded on the left to rank 6, contiguous operands as one row)
  const r = p.shape.length, off = 6 - r;
  let d0 = dim(p.shape, 0, off, 1), d1 = dim(p.shape, 1, off, 1), d2 = dim(p.shape, 2, off, 1);
  let d3 = dim(p.shape, 3, off, 1), d4 = dim(p.shape, 4, off, 1), d5 = dim(p.shape, 5, off, 1);
  const a0 = dim(p.aStrides, 0, off, 0), a1 = dim(p.aStrides, 1, off, 0), a2 = dim(p.aStrides, 2, off, 0);
  const a3 = dim(p.aStrides, 3, off, 0), a4 = dim(p.aStrides, 4, off, 0);
  let a5 = dim(p.aStrides, 5, off, 0);
  const b0 = dim(p.bStrides, 0, off, 0), b1 = dim(p.bStrides, 1, off, 0), b2 = dim(p.bStrides, 2, off, 0);
  const b3 = dim(p.bStrides, 3, off, 0), b4 = dim(p.bStrides, 4, off, 0);
  let b5 = dim(p.bStrides, 5, off, 0);
  if (rowMajor(d0, d1, d2, d3, d4, d5, a0, a1, a2, a3, a4, a5) && rowMajor(d0, d1, d2, d3, d4, d5, b0, b1, b2, b3, b4, b5)) {
    d5 = d0 * d1 * d2 * d3 * d4 * d5; d0 = 1; d1 = 1; d2 = 1; d3 = 1; d4 = 1; a5 = 1; b5 = 1;
  }
  const scale = load<f32>(qc);
  let o: usize = y;
  for (let i0 = 0; i0 < d0; i0++)
  for (let i1 = 0; i1 < d1; i1++)
  for (let i2 = 0; i2 < d2; i2++)
  for (let i3 = 0; i3 < d3; i3++)
  for (let i4 = 0; i4 < d4; i4++) {
    let ao = i0 * a0 + i1 * a1 + i2 * a2 + i3 * a3 + i4 * a4;
    let bo = i0 * b0 + i1 * b1 + i2 * b2 + i3 * b3 + i4 * b4;
    const s5a = a5, s5b = b5;
    let i5 = 0;
    if (ASC_FEATURE_SIMD) {
      if (s5a == 1 && s5b == 1 && d5 >= 8) {
        o = mulQs8Row(a + <usize>ao, b + <usize>bo, o, d5 & ~7, scale, zpA, zpB, zpOut, p.qMin, p.qMax);
        i5 = d5 & ~7; ao += i5; bo += i5;
      }
    }
    for (; i5 < d5; i5++) {
      const acc = (<i32>load<i8>(a + <usize>ao) - zpA) * (<i32>load<i8>(b + <usize>bo) - zpB);
      store<i8>(o, <i8>requantFp32(acc, scale, zpOut, p.qMin, p.qMax));
      o++; ao += s5a; bo += s5b;
    }
  }
}

/** n (multiple of 8) contiguous Mul_QS8_FP32 outputs, 8 per step: i16 differences, i32 products, requantFp32 per lane. */
function mulQs8Row(a: usize, b: usize, o: usize, n: i32, scale: f32, zpA: i32, zpB: i32, zpOut: i32, qMin: i32, qMax: i32): usize {
  const za = i16x8.splat(<i16>zpA), zb = i16x8.splat(<i16>zpB), sv = f32x4.splat(scale);
  const fmin = f32x4.splat(<f32>(qMin - zpOut)), fmax = f32x4.splat(<f32>(qMax - zpOut)), zv = i32x4.splat(zpOut);
  for (let i = 0; i < n; i += 8) {
    const av = i16x8.sub(v128.load8x8_s(a + <usize>i), za), bv = i16x8.sub(v128.load8x8_s(b + <usize>i), zb);
    const q0 = requantFp32v(i32x4.extmul_low_i16x8_s(av, bv), sv, fmin, fmax, zv);
    const q1 = requantFp32v(i32x4.extmul_high_i16x8_s(av, bv), sv, fmin, fmax, zv);
    const h = i16x8.narrow_i32x4_s(q0, q1);
    store<i64>(o + <usize>i, i64x2.extract_lane(i8x16.narrow_i16x8_s(h, h), 0));
  }
  return o + <usize>n;
}

export function addQs8Fp32(a: usize, b: usize, qc: usize, y: usize, p: StepParams, zpA: i32, zpB: i32, zpOut: i32): void {
  // the loop nest of addQs8 (shape padded on the left to rank 6, contiguous operands as one row)
  const r = p.shape.length, off = 6 - r;
  let d0 = dim(p.shape, 0, off, 1), d1 = dim(p.shape, 1, off, 1), d2 = dim(p.shape, 2, off, 1);
  let d3 = dim(p.shape, 3, off, 1), d4 = dim(p.shape, 4, off, 1), d5 = dim(p.shape, 5, off, 1);
  const a0 = dim(p.aStrides, 0, off, 0), a1 = dim(p.aStrides, 1, off, 0), a2 = dim(p.aStrides, 2, off, 0);
  const a3 = dim(p.aStrides, 3, off, 0), a4 = dim(p.aStrides, 4, off, 0);
  let a5 = dim(p.aStrides, 5, off, 0);
  const b0 = dim(p.bStrides, 0, off, 0), b1 = dim(p.bStrides, 1, off, 0), b2 = dim(p.bStrides, 2, off, 0);
  const b3 = dim(p.bStrides, 3, off, 0), b4 = dim(p.bStrides, 4, off, 0);
  let b5 = dim(p.bStrides, 5, off, 0);
  if (rowMajor(d0, d1, d2, d3, d4, d5, a0, a1, a2, a3, a4, a5) && rowMajor(d0, d1, d2, d3, d4, d5, b0, b1, b2, b3, b4, b5)) {
    d5 = d0 * d1 * d2 * d3 * d4 * d5; d0 = 1; d1 = 1; d2 = 1; d3 = 1; d4 = 1; a5 = 1; b5 = 1;
  }
  const sa = load<f32>(qc), sb = load<f32>(qc, 4), so = load<f32>(qc, 8), zr = load<i32>(qc, 12);
  const lo = <f32>(p.qMin - zpOut), hi = <f32>(p.qMax - zpOut);
  let o: usize = y;
  if (ASC_FEATURE_SIMD) {
    // one contiguous row (the residual adds): its 16-output blocks here, the rest below
    if (d0 * d1 * d2 * d3 * d4 == 1 && a5 == 1 && b5 == 1 && d5 >= 16) {
      const n16 = d5 & ~15;
      o = addFp32Row(a, b, o, n16, sa, sb, so, zr, zpA, zpB, zpOut, p.qMin, p.qMax);
      a += <usize>n16; b += <usize>n16; d5 -= n16;
    }
  }
  for (let i0 = 0; i0 < d0; i0++)
  for (let i1 = 0; i1 < d1; i1++)
  for (let i2 = 0; i2 < d2; i2++)
  for (let i3 = 0; i3 < d3; i3++)
  for (let i4 = 0; i4 < d4; i4++) {
    let ao = i0 * a0 + i1 * a1 + i2 * a2 + i3 * a3 + i4 * a4;
    let bo = i0 * b0 + i1 * b1 + i2 * b2 + i3 * b3 + i4 * b4;
    const s5a = a5, s5b = b5;
    let i5 = 0;
    if (ASC_FEATURE_SIMD) {
      if (s5a == 1 && s5b == 1 && d5 >= 16) {
        i5 = d5 & ~15;
        o = addFp32Row(a + <usize>ao, b + <usize>bo, o, i5, sa, sb, so, zr, zpA, zpB, zpOut, p.qMin, p.qMax);
        ao += i5; bo += i5;
      }
    }
    for (; i5 < d5; i5++) {
      const va = <i32>load<i8>(a + <usize>ao) - zpA, vb = <i32>load<i8>(b + <usize>bo) - zpB;
      store<i8>(o, <i8>addFp32At(va, vb, sa, sb, so, lo, hi, zr, zpOut));
      o++; ao += s5a; bo += s5b;
    }
  }
}

/**
 * One Add_QS8_FP32 output from a − zp_a, b − zp_b: onnxruntime's float32 operations in its order (each exactly rounded:
 * wasm has no contraction), then its f32(v + zr) before the rounding, which can tie where v alone would not.
 */
// @ts-ignore: decorator
@inline function addFp32At(va: i32, vb: i32, sa: f32, sb: f32, so: f32, lo: f32, hi: f32, zr: i32, zp: i32): i32 {
  const v = min<f32>(max<f32>((sa * <f32>va + sb * <f32>vb) / so, lo), hi);
  return <i32>nearest<f32>(v + <f32>zr) - (zr - zp);
}

/**
 * n (multiple of 16) contiguous Add_QS8_FP32 outputs, 16 per step; the loops take their constants as arguments
 * (TurboFan keeps them in registers; built in the loop's function they were spilled and reloaded every step) and are
 * called from addQs8Fp32's two places (binaryen inlines a function with one caller). Per 4 lanes addFp32At's
 * operations, the rounding as the magic add: for |f32(v + zr)| ≤ 2^22, + 1.5·2^23 rounds it half to even exactly and
 * its bits less sub = bits(1.5·2^23) + zr − zp are the output. When |v| ≤ 255·(s_a + s_b) / s_out (·1.001, a bound
 * on f32 rounding) keeps |v| + 255 ≤ 2^22 (every real scale), the clamp moves after the rounding (monotone, with
 * integer bounds: the same bytes) into the saturating narrowings and an i8 max / min with q_min, q_max; otherwise v is
 * clamped to [q_min − zp, q_max − zp] first (pmax / pmin: the load check makes the scales positive and finite, so v is
 * never NaN).
 */
// @ts-ignore: decorator
@inline function addFp32Row(a: usize, b: usize, o: usize, n: i32, sa: f32, sb: f32, so: f32, zr: i32, zpA: i32, zpB: i32,
                            zp: i32, qMin: i32, qMax: i32): usize {
  const za = i16x8.splat(<i16>zpA), zb = i16x8.splat(<i16>zpB), sav = f32x4.splat(sa), sbv = f32x4.splat(sb);
  const sov = f32x4.splat(so), zrv = f32x4.splat(<f32>zr), sub = i32x4.splat(FP32_MAGIC_BITS + zr - zp);
  // 1.5·2^23 from memory: as a v128 constant V8 rebuilt it from an immediate in every step (3 instructions)
  const magic = v128.load32_splat(memory.data<u32>([FP32_MAGIC_BITS]));
  if ((255.0 * (<f64>sa + <f64>sb) / <f64>so) * 1.001 + 256 <= 4194304)
    return addFp32Loop(a, b, o, n, za, zb, sav, sbv, sov, zrv, sub, magic, i8x16.splat(<i8>qMin), i8x16.splat(<i8>qMax));
  return addFp32LoopClamped(a, b, o, n, za, zb, sav, sbv, sov, zrv, sub, magic, f32x4.splat(<f32>(qMin - zp)),
                            f32x4.splat(<f32>(qMax - zp)));
}

function addFp32Loop(a: usize, b: usize, o: usize, n: i32, za: v128, zb: v128, sa: v128, sb: v128, so: v128, zr: v128,
                     sub: v128, magic: v128, lo8: v128, hi8: v128): usize {
  for (let i = 0; i < n; i += 16) {
    const va = v128.load(a + <usize>i), vb = v128.load(b + <usize>i);
    const a0 = i16x8.sub(i16x8.extend_low_i8x16_s(va), za), a1 = i16x8.sub(i16x8.extend_high_i8x16_s(va), za);
    const b0 = i16x8.sub(i16x8.extend_low_i8x16_s(vb), zb), b1 = i16x8.sub(i16x8.extend_high_i8x16_s(vb), zb);
    const q0 = addFp32x4(i32x4.extend_low_i16x8_s(a0), i32x4.extend_low_i16x8_s(b0), sa, sb, so, zr, sub, magic);
    const q1 = addFp32x4(i32x4.extend_high_i16x8_s(a0), i32x4.extend_high_i16x8_s(b0), sa, sb, so, zr, sub, magic);
    const q2 = addFp32x4(i32x4.extend_low_i16x8_s(a1), i32x4.extend_low_i16x8_s(b1), sa, sb, so, zr, sub, magic);
    const q3 = addFp32x4(i32x4.extend_high_i16x8_s(a1), i32x4.extend_high_i16x8_s(b1), sa, sb, so, zr, sub, magic);
    const q = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3));
    v128.store(o + <usize>i, i8x16.min_s(i8x16.max_s(q, lo8), hi8));
  }
  return o + <usize>n;
}

function addFp32LoopClamped(a: usize, b: usize, o: usize, n: i32, za: v128, zb: v128, sa: v128, sb: v128, so: v128,
                            zr: v128, sub: v128, magic: v128, lo: v128, hi: v128): usize {
  for (let i = 0; i < n; i += 16) {
    const va = v128.load(a + <usize>i), vb = v128.load(b + <usize>i);
    const a0 = i16x8.sub(i16x8.extend_low_i8x16_s(va), za), a1 = i16x8.sub(i16x8.extend_high_i8x16_s(va), za);
    const b0 = i16x8.sub(i16x8.extend_low_i8x16_s(vb), zb), b1 = i16x8.sub(i16x8.extend_high_i8x16_s(vb), zb);
    const q0 = addFp32x4c(i32x4.extend_low_i16x8_s(a0), i32x4.extend_low_i16x8_s(b0), sa, sb, so, zr, sub, magic, lo, hi);
    const q1 = addFp32x4c(i32x4.extend_high_i16x8_s(a0), i32x4.extend_high_i16x8_s(b0), sa, sb, so, zr, sub, magic, lo, hi);
    const q2 = addFp32x4c(i32x4.extend_low_i16x8_s(a1), i32x4.extend_low_i16x8_s(b1), sa, sb, so, zr, sub, magic, lo, hi);
    const q3 = addFp32x4c(i32x4.extend_high_i16x8_s(a1), i32x4.extend_high_i16x8_s(b1), sa, sb, so, zr, sub, magic, lo, hi);
    v128.store(o + <usize>i, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
  }
  return o + <usize>n;
}

/** v = f32(f32(s_a·a') + f32(s_b·b')) / s_out on 4 lanes. */
// @ts-ignore: decorator
@inline function addFp32v(va: v128, vb: v128, sa: v128, sb: v128, so: v128): v128 {
  return f32x4.div(f32x4.add(f32x4.mul(sa, f32x4.convert_i32x4_s(va)), f32x4.mul(sb, f32x4.convert_i32x4_s(vb))), so);
}

/** round_half_even(f32(v + zr)) − (zr − zp) on 4 lanes (|v + zr| ≤ 2^22), by the magic add. */
// @ts-ignore: decorator
@inline function addFp32x4(va: v128, vb: v128, sa: v128, sb: v128, so: v128, zr: v128, sub: v128, magic: v128): v128 {
  return i32x4.sub(f32x4.add(f32x4.add(addFp32v(va, vb, sa, sb, so), zr), magic), sub);
}

/** addFp32x4 with v clamped to [lo, hi] = [q_min − zp, q_max − zp] first. */
// @ts-ignore: decorator
@inline function addFp32x4c(va: v128, vb: v128, sa: v128, sb: v128, so: v128, zr: v128, sub: v128, magic: v128, lo: v128,
                            hi: v128): v128 {
  const v = f32x4.pmin(f32x4.pmax(addFp32v(va, vb, sa, sb, so), lo), hi);
  return i32x4.sub(f32x4.add(f32x4.add(v, zr), magic), sub);
}

/** Strides s0..s5 (elements) are the row-major strides of dims d0..d5 (size-1 dims skipped). */
function rowMajor(d0: i32, d1: i32, d2: i32, d3: i32, d4: i32, d5: i32, s0: i32, s1: i32, s2: i32, s3: i32, s4: i32, s5: i32): bool {
  let e = 1, ok = true;
  ok = ok && (d5 == 1 || s5 == e); e *= d5;
  ok = ok && (d4 == 1 || s4 == e); e *= d4;
  ok = ok && (d3 == 1 || s3 == e); e *= d3;
  ok = ok && (d2 == 1 || s2 == e); e *= d2;
  ok = ok && (d1 == 1 || s1 == e); e *= d1;
  return ok && (d0 == 1 || s0 == e);
}

/** High half of mult = mh·2^16 + ml (ml the signed low 16 bits; mult ∈ [0, 2^31) gives mh ∈ [0, 2^15]). */
// @ts-ignore: decorator
@inline function multHigh(m: i64): i32 { return <i32>((m - <i64><i16>m) >> 16); }

/** addQs8RowSplit's conditions: shift in [17, 46] and both high halves fit i16 (mult < 2^31 − 2^15 suffices). */
function addSplitOk(ma: i64, mb: i64, sh: i32): bool {
  return sh >= 17 && sh <= 46 && multHigh(ma) <= 32767 && multHigh(mb) <= 32767;
}

/**
 * addQs8Row in i32 (8 outputs per step): with a' = a − zp_a, b' = b − zp_b (|·| ≤ 255, i16) and mult = mh·2^16 + ml
 * (ml ∈ [−2^15, 2^15), 0 ≤ mh < 2^15), a'·mult_a + b'·mult_b = H·2^16 + L where H = a'·mh_a + b'·mh_b and
 * L = a'·ml_a + b'·ml_b are one `i32x4.dot_i16x8_s` each over (a', b') lane pairs (|H|, |L| < 2^24). For
 * shift ≥ 17, H·2^16 + 2^(shift−1) is a multiple of 2^16, so floor((H·2^16 + L + 2^(shift−1)) / 2^shift) =
 * (H + 2^(shift−17) + (L >> 16)) >> (shift − 16) (floors compose); for shift ≤ 46 that sum stays below 2^30.
 * Saturating to i16, clamping there, is the i64 clamp (the bounds lie in i16). Same bits as the i64 formula.
 */
function addQs8RowSplit(a: usize, b: usize, o: usize, n: i32, ma: i32, mb: i32, sh: i32, zpA: i32, zpB: i32, zpOut: i32,
                        qMin: i32, qMax: i32): usize {
  const mha = multHigh(ma), mhb = multHigh(mb), mla = <i32><i16>ma, mlb = <i32><i16>mb;
  const hv = i32x4.splat((mhb << 16) | (mha & 0xffff)), lv = i32x4.splat((mlb << 16) | (mla & 0xffff));
  const z = i32x4.splat(((zpB & 0xffff) << 16) | (zpA & 0xffff));
  const rnd = i32x4.splat(1 << (sh - 17)), zo = i32x4.splat(zpOut), s2 = sh - 16;
  const hlo = i16x8.splat(<i16>qMin), hhi = i16x8.splat(<i16>qMax);
  for (let i = 0; i < n; i += 8) {
    // bytes a0 b0 a1 b1 …, widened: lanes (a', b') per output
    const ab = i8x16.shuffle(v128.load64_zero(a + <usize>i), v128.load64_zero(b + <usize>i), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const p0 = i16x8.sub(i16x8.extend_low_i8x16_s(ab), z), p1 = i16x8.sub(i16x8.extend_high_i8x16_s(ab), z);
    const u0 = i32x4.shr_s(i32x4.add(i32x4.add(i32x4.dot_i16x8_s(p0, hv), rnd), i32x4.shr_s(i32x4.dot_i16x8_s(p0, lv), 16)), s2);
    const u1 = i32x4.shr_s(i32x4.add(i32x4.add(i32x4.dot_i16x8_s(p1, hv), rnd), i32x4.shr_s(i32x4.dot_i16x8_s(p1, lv), 16)), s2);
    const h = i16x8.min_s(i16x8.max_s(i16x8.narrow_i32x4_s(i32x4.add(u0, zo), i32x4.add(u1, zo)), hlo), hhi);
    store<i64>(o + <usize>i, i64x2.extract_lane(i8x16.narrow_i16x8_s(h, h), 0));
  }
  return o + <usize>n;
}

/**
 * addQs8RowSplit 16 outputs per step (n a multiple of 16): the same H, L and shift, then zp added after the saturating
 * narrowing to i16, with saturation: for |u| < 2^15 that is u + zp; a u beyond i16 saturates to ±32767 or −32768,
 * which ± zp (|zp| ≤ 128) stays beyond [q_min, q_max] ⊂ [−128, 127] on the same side, so the clamp gives the same byte.
 */
// @ts-ignore: decorator
@inline function addQs8RowSplit16(a: usize, b: usize, o: usize, n: i32, ma: i32, mb: i32, sh: i32, zpA: i32, zpB: i32, zpOut: i32,
                          qMin: i32, qMax: i32): usize {
  const mha = multHigh(ma), mhb = multHigh(mb), mla = <i32><i16>ma, mlb = <i32><i16>mb;
  return addQs8Split16Loop(a, b, o, n, i32x4.splat((mhb << 16) | (mha & 0xffff)), i32x4.splat((mlb << 16) | (mla & 0xffff)),
                           i32x4.splat(((zpB & 0xffff) << 16) | (zpA & 0xffff)), i32x4.splat(1 << (sh - 17)), sh - 16,
                           i16x8.splat(<i16>zpOut), i16x8.splat(<i16>qMin), i16x8.splat(<i16>qMax));
}

/**
 * addQs8RowSplit16's loop, its constants as arguments: computed in the function with the loop, TurboFan placed the
 * splats (and multHigh) inside the loop, redone every step. addQs8 calls it from two places (binaryen inlines a
 * function with one caller).
 */
function addQs8Split16Loop(a: usize, b: usize, o: usize, n: i32, hv: v128, lv: v128, z: v128, rnd: v128, s2: i32, zo: v128,
                           hlo: v128, hhi: v128): usize {
  for (let i = 0; i < n; i += 16) {
    const va = v128.load(a + <usize>i), vb = v128.load(b + <usize>i);
    // bytes a0 b0 a1 b1 … (one punpck each), widened: lanes (a', b') per output
    const lo = i8x16.shuffle(va, vb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const hi = i8x16.shuffle(va, vb, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const u0 = addSplit4(i16x8.sub(i16x8.extend_low_i8x16_s(lo), z), hv, lv, rnd, s2);
    const u1 = addSplit4(i16x8.sub(i16x8.extend_high_i8x16_s(lo), z), hv, lv, rnd, s2);
    const u2 = addSplit4(i16x8.sub(i16x8.extend_low_i8x16_s(hi), z), hv, lv, rnd, s2);
    const u3 = addSplit4(i16x8.sub(i16x8.extend_high_i8x16_s(hi), z), hv, lv, rnd, s2);
    const h0 = i16x8.min_s(i16x8.max_s(i16x8.add_sat_s(i16x8.narrow_i32x4_s(u0, u1), zo), hlo), hhi);
    const h1 = i16x8.min_s(i16x8.max_s(i16x8.add_sat_s(i16x8.narrow_i32x4_s(u2, u3), zo), hlo), hhi);
    v128.store(o + <usize>i, i8x16.narrow_i16x8_s(h0, h1));
  }
  return o + <usize>n;
}

/** 4 outputs of addQs8RowSplit before the zero point: (H + 2^(shift−17) + (L >> 16)) >> (shift − 16). */
// @ts-ignore: decorator
@inline function addSplit4(p: v128, hv: v128, lv: v128, rnd: v128, s2: i32): v128 {
  return i32x4.shr_s(i32x4.add(i32x4.add(i32x4.dot_i16x8_s(p, hv), rnd), i32x4.shr_s(i32x4.dot_i16x8_s(p, lv), 16)), s2);
}

/**
 * addQs8RowFold16's conditions, on the constants at shift 30 (mult·2^(30 − shift) for a shift below 30: the same
 * floor): multipliers ≥ 0 with high halves ≤ 2^15 − 1, not both low halves −2^15, the zero points and rounding
 * constant K = 2^29 − zp_a·mult_a − zp_b·mult_b a multiple of 2^8, and S = a'·mult_a + b'·mult_b + 2^29 + zp·2^30 in
 * [−2^39, 2^39) for every a' ∈ [−128 − zp_a, 127 − zp_a], b' likewise (S is monotone in both: the two corners).
 */
function addFoldOk(ma: i64, mb: i64, sh: i32, zpA: i32, zpB: i32, zp: i32): bool {
  if (sh < 1 || sh > 30 || ma < 0 || mb < 0 || ma >= <i64>1 << 31 || mb >= <i64>1 << 31) return false;
  const fa = ma << <i64>(30 - sh), fb = mb << <i64>(30 - sh);
  if (multHigh(fa) > 32767 || multHigh(fb) > 32767 || (<i16>fa == -32768 && <i16>fb == -32768)) return false;
  if ((((<i64>1 << 29) - <i64>zpA * fa - <i64>zpB * fb) & 255) != 0) return false;
  const lo = <i64>(-128 - zpA) * fa + <i64>(-128 - zpB) * fb + (<i64>1 << 29) + (<i64>zp << 30);
  const hi = <i64>(127 - zpA) * fa + <i64>(127 - zpB) * fb + (<i64>1 << 29) + (<i64>zp << 30);
  return lo >= -(<i64>1 << 39) && hi < <i64>1 << 39;
}

/**
 * addQs8RowSplit16 on the raw codes A, B and the constant shift 30 (addFoldOk's constants, mult = mh·2^16 + ml): the
 * lanes (256·A, 256·B) are byte interleaves with zero (no widening, no zero-point subtraction), so
 * dH = 256·(A·mh_a + B·mh_b) (exact: |·| < 2^31) and dL = 256·(A·ml_a + B·ml_b) (exact: |·| < 2^31 unless both
 * low halves are −2^15) are one `i32x4.dot_i16x8_s` each and 256·S = dH·2^16 + dL + 256·K' with
 * S = A·mult_a + B·mult_b + K', K' = K + zp·2^30 (the output zero point too). With K' a multiple of 2^8,
 * floor(S / 2^8) = dH + K'/2^8 + (dL >> 16) (mod 2^32; exact since |S| < 2^39), and floor(S / 2^30) = the output
 * before its clamp is that >> 22, a literal. Saturating to i16, then i8, then the clamp (skipped for [−128, 127]) is
 * the clamp: each step is monotone and [q_min, q_max] ⊆ [−128, 127].
 */
// @ts-ignore: decorator
@inline function addQs8RowFold16(a: usize, b: usize, o: usize, n: i32, ma: i64, mb: i64, sh: i32, zpA: i32, zpB: i32,
                                 zpOut: i32, qMin: i32, qMax: i32): usize {
  const fa = ma << <i64>(30 - sh), fb = mb << <i64>(30 - sh);
  const mha = multHigh(fa), mhb = multHigh(fb), mla = <i32><i16>fa, mlb = <i32><i16>fb;
  const kh = i32x4.splat(<i32>(((<i64>1 << 29) - <i64>zpA * fa - <i64>zpB * fb + (<i64>zpOut << 30)) >> 8));
  const hv = i32x4.splat((mhb << 16) | (mha & 0xffff)), lv = i32x4.splat((mlb << 16) | (mla & 0xffff));
  if (qMin == -128 && qMax == 127) return addQs8Fold16Loop<FoldNoClamp>(a, b, o, n, hv, lv, kh, hv, hv);
  return addQs8Fold16Loop<FoldClamp>(a, b, o, n, hv, lv, kh, i8x16.splat(<i8>qMin), i8x16.splat(<i8>qMax));
}

class FoldClamp {}
class FoldNoClamp {}

/** addQs8RowFold16's loop, its constants as arguments (two callers each: binaryen keeps them functions of their own);
 *  C: FoldClamp clamps to [lo8, hi8], FoldNoClamp (the bounds −128, 127) does not. */
function addQs8Fold16Loop<C>(a: usize, b: usize, o: usize, n: i32, hv: v128, lv: v128, kh: v128, lo8: v128,
                             hi8: v128): usize {
  const zero = i8x16.splat(0);
  for (let i = 0; i < n; i += 16) {
    const va = v128.load(a + <usize>i), vb = v128.load(b + <usize>i);
    // bytes a0 b0 a1 b1 … (one punpck each), then each byte the high half of a 16-bit lane: lanes (256·A, 256·B)
    const lo = i8x16.shuffle(va, vb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const hi = i8x16.shuffle(va, vb, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const u0 = addFold4(i8x16.shuffle(zero, lo, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), hv, lv, kh);
    const u1 = addFold4(i8x16.shuffle(zero, lo, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), hv, lv, kh);
    const u2 = addFold4(i8x16.shuffle(zero, hi, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), hv, lv, kh);
    const u3 = addFold4(i8x16.shuffle(zero, hi, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), hv, lv, kh);
    let q = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(u0, u1), i16x8.narrow_i32x4_s(u2, u3));
    if (idof<C>() == idof<FoldClamp>()) q = i8x16.min_s(i8x16.max_s(q, lo8), hi8);
    v128.store(o + <usize>i, q);
  }
  return o + <usize>n;
}

/** 4 outputs of addQs8RowFold16 before the clamp: (dH + K'/2^8 + (dL >> 16)) >> 22. */
// @ts-ignore: decorator
@inline function addFold4(p: v128, hv: v128, lv: v128, kh: v128): v128 {
  return i32x4.shr_s(i32x4.add(i32x4.add(i32x4.dot_i16x8_s(p, hv), kh), i32x4.shr_s(i32x4.dot_i16x8_s(p, lv), 16)), 22);
}

/**
 * n (multiple of 8) contiguous Add_QS8 outputs, 8 per step; returns the next output pointer. The scalar i64 formula
 * per lane: |(a − zp_a)·mult_a + (b − zp_b)·mult_b| < 2^41, so adding 2^62 (a multiple of 2^shift) keeps the sum
 * positive and a logical shift equals the arithmetic one plus 2^(62 − shift); the clamp runs in i64 on that offset
 * value, after which the low 32 bits minus the offset plus zp are exact.
 */
function addQs8Row(a: usize, b: usize, o: usize, n: i32, ma: i64, mb: i64, sh: i32, zpA: i32, zpB: i32, zpOut: i32,
                   qMin: i32, qMax: i32): usize {
  const off = <i64>1 << <i64>(62 - sh);
  const mav = i32x4.splat(<i32>ma), mbv = i32x4.splat(<i32>mb), za = i16x8.splat(<i16>zpA), zb = i16x8.splat(<i16>zpB);
  const k = i64x2.splat((<i64>1 << <i64>(sh - 1)) + (<i64>1 << 62));
  const lo = i64x2.splat(<i64>(qMin - zpOut) + off), hi = i64x2.splat(<i64>(qMax - zpOut) + off);
  const zo = i32x4.splat(zpOut - <i32>off);
  for (let i = 0; i < n; i += 8) {
    const av = i16x8.sub(v128.load8x8_s(a + <usize>i), za), bv = i16x8.sub(v128.load8x8_s(b + <usize>i), zb);
    const a0 = i32x4.extend_low_i16x8_s(av), a1 = i32x4.extend_high_i16x8_s(av);
    const b0 = i32x4.extend_low_i16x8_s(bv), b1 = i32x4.extend_high_i16x8_s(bv);
    const q0 = addShift(i64x2.extmul_low_i32x4_s(a0, mav), i64x2.extmul_low_i32x4_s(b0, mbv),
        i64x2.extmul_high_i32x4_s(a0, mav), i64x2.extmul_high_i32x4_s(b0, mbv), k, sh, lo, hi, zo);
    const q1 = addShift(i64x2.extmul_low_i32x4_s(a1, mav), i64x2.extmul_low_i32x4_s(b1, mbv),
        i64x2.extmul_high_i32x4_s(a1, mav), i64x2.extmul_high_i32x4_s(b1, mbv), k, sh, lo, hi, zo);
    const r = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), q0);
    store<i64>(o + <usize>i, i64x2.extract_lane(r, 0));
  }
  return o + <usize>n;
}

// @ts-ignore: decorator
@inline function addShift(pa0: v128, pb0: v128, pa1: v128, pb1: v128, k: v128, sh: i32, lo: v128, hi: v128, zo: v128): v128 {
  let u = i64x2.shr_u(i64x2.add(i64x2.add(pa0, pb0), k), sh), v = i64x2.shr_u(i64x2.add(i64x2.add(pa1, pb1), k), sh);
  u = v128.bitselect(lo, u, i64x2.lt_s(u, lo)); u = v128.bitselect(hi, u, i64x2.gt_s(u, hi));
  v = v128.bitselect(lo, v, i64x2.lt_s(v, lo)); v = v128.bitselect(hi, v, i64x2.gt_s(v, hi));
  return i32x4.add(v128.shuffle<i32>(u, v, 0, 2, 4, 6), zo);
}

// @ts-ignore: decorator
@inline function dim(v: StaticArray<i32>, k: i32, off: i32, dflt: i32): i32 { return k < off ? dflt : unchecked(v[k - off]); }

export function quantizeQs8Run(x: usize, y: usize, n: i32, scale: f32, zp: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // quantizeQs8 on 4 lanes, same bits in fewer ops (16 values per step; the division is the same f32 one):
    // NaN lanes become +0 (then zp); t is clamped to [−256, 256] (rounding is monotone: a t beyond rounds to at least
    // 256 in size, and ± zp (|zp| ≤ 128) still saturates to the same end); rounding half away from zero is
    // trunc(t ± c) with c = 0.5 − 2^−25, the largest f32 below 0.5 (exact for |t| ≤ 256, checked on every f32 there
    // in JS with Math.fround; t ± 0.5 would round 0.5 − 2^−25 up to 1); the integer-valued result plus 1.5·2^23 has
    // it in its low mantissa bits, zp folded into the subtraction; round(t) + zp ∈ [−384, 384] narrows to i16 as is
    // and saturates to [−128, 127] in the narrowing to i8, the scalar formula's clamp.
    // The five bit patterns are loaded from memory: as v128 constants V8 built each from immediates in every step;
    // loaded before the loop they stay in registers. (The splats of scale and zp are still redone in the loop:
    // TurboFan schedules them there; as arguments of a function of its own they would stay out, but binaryen inlines
    // a function with one caller. The clamp bounds once depended on zp: 4 more instructions each, every step.)
    // sign, 0.5 − 2^−25, 1.5·2^23, −256, 256
    const kp = memory.data<u32>([0x80000000, 0x3effffff, 0x4b400000, 0xc3800000, 0x43800000]);
    const sign = v128.load32_splat(kp), half = v128.load32_splat(kp, 4), magic = v128.load32_splat(kp, 8);
    const lo = v128.load32_splat(kp, 12), hi = v128.load32_splat(kp, 16);
    const sv = f32x4.splat(scale), zb = i32x4.splat(FP32_MAGIC_BITS - zp);
    for (; i + 16 <= n; i += 16) {
      const xp = x + (<usize>i << 2);
      const q0 = quant4(v128.load(xp), sv, lo, hi, zb, sign, half, magic);
      const q1 = quant4(v128.load(xp, 16), sv, lo, hi, zb, sign, half, magic);
      const q2 = quant4(v128.load(xp, 32), sv, lo, hi, zb, sign, half, magic);
      const q3 = quant4(v128.load(xp, 48), sv, lo, hi, zb, sign, half, magic);
      v128.store(y + <usize>i, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
    }
  }
  for (; i < n; i++) store<i8>(y + <usize>i, <i8>quantizeQs8(load<f32>(x + (<usize>i << 2)), scale, zp));
}

// @ts-ignore: decorator
@inline function quant4(xv: v128, sv: v128, lo: v128, hi: v128, zb: v128, sign: v128, half: v128, magic: v128): v128 {
  let t = f32x4.div(xv, sv);
  t = f32x4.pmin(f32x4.pmax(v128.and(t, f32x4.eq(t, t)), lo), hi);
  const c = v128.or(v128.and(t, sign), half);
  return i32x4.sub(f32x4.add(f32x4.trunc(f32x4.add(t, c)), magic), zb);
}

/**
 * Quantize_QS8_RNE: quantizeQs8Rne, 16 values per step: t = x / scale (the same f32 division), NaN lanes → +0 (then
 * zp), t clamped to [−256, 256] (rounding is monotone and ±256 ± zp still saturates to the same end), which keeps
 * |t| ≤ 2^22, so t + 1.5·2^23 rounds t half to even by itself and its bits less bits(1.5·2^23) − zp are round(t) + zp
 * ∈ [−384, 384]: the narrowings to i16 (exact) and i8 (saturating) are the scalar clamp. 7 operations per 4 lanes.
 */
export function quantizeQs8RneRun(x: usize, y: usize, n: i32, scale: f32, zp: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // 1.5·2^23, −256, 256 from memory, as quantizeQs8Run's constants
    const kp = memory.data<u32>([0x4b400000, 0xc3800000, 0x43800000]);
    const magic = v128.load32_splat(kp), lo = v128.load32_splat(kp, 4), hi = v128.load32_splat(kp, 8);
    const sv = f32x4.splat(scale), zb = i32x4.splat(FP32_MAGIC_BITS - zp);
    for (; i + 16 <= n; i += 16) {
      const xp = x + (<usize>i << 2);
      const q0 = quantRne4(v128.load(xp), sv, lo, hi, zb, magic);
      const q1 = quantRne4(v128.load(xp, 16), sv, lo, hi, zb, magic);
      const q2 = quantRne4(v128.load(xp, 32), sv, lo, hi, zb, magic);
      const q3 = quantRne4(v128.load(xp, 48), sv, lo, hi, zb, magic);
      v128.store(y + <usize>i, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
    }
  }
  for (; i < n; i++) store<i8>(y + <usize>i, <i8>quantizeQs8Rne(load<f32>(x + (<usize>i << 2)), scale, zp));
}

// @ts-ignore: decorator
@inline function quantRne4(xv: v128, sv: v128, lo: v128, hi: v128, zb: v128, magic: v128): v128 {
  let t = f32x4.div(xv, sv);
  t = f32x4.pmin(f32x4.pmax(v128.and(t, f32x4.eq(t, t)), lo), hi);
  return i32x4.sub(f32x4.add(t, magic), zb);
}

export function dequantizeQs8Run(x: usize, y: usize, n: i32, scale: f32, zp: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // <f32>(q − zp) · scale on 4 lanes (small integers convert exactly; the f32 multiply is lane-wise identical)
    const sv = f32x4.splat(scale), zv = i32x4.splat(zp);
    for (; i + 8 <= n; i += 8) {
      const q = v128.load8x8_s(x + <usize>i), yp = y + (<usize>i << 2);
      v128.store(yp, f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(i32x4.extend_low_i16x8_s(q), zv)), sv));
      v128.store(yp, f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(i32x4.extend_high_i16x8_s(q), zv)), sv), 16);
    }
  }
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), dequantizeQs8(<i32>load<i8>(x + <usize>i), scale, zp));
}

export function requantizeQs8Run(x: usize, qc: usize, y: usize, n: i32, zpIn: i32, zpOut: i32): void {
  const mult = load<i32>(qc), shift = load<i32>(qc, 4);
  for (let i = 0; i < n; i++) store<i8>(y + <usize>i, <i8>requantQs8(<i64>(<i32>load<i8>(x + <usize>i) - zpIn), mult, shift, zpOut, -128, 127));
}
