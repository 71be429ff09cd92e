// Unary_F32 and Softmax_F32, elementwise over contiguous f32 (may run in place). Transcendentals
// use AssemblyScript's Mathf (pure wasm, no imports) in every build, so builds agree bit for bit.
// Softmax over [outer, axis, inner]: m = max (from -inf); e = exp(x - m); sum ascending; e / sum.
import { StepParams } from '../../bundle/model';

export const U_RELU = 0;
export const U_CLIP = 1;
export const U_SIGMOID = 2;
export const U_TANH = 3;
export const U_EXP = 4;
export const U_LEAKY = 5;
export const U_NEG = 6;
export const U_ABS = 7;
export const U_SQRT = 8;
/** x·min(max(x + 3, 0), 6)/6: PyTorch's x·relu6(x + 3)/6 in this order. */
export const U_HARDSWISH = 9;

// @ts-ignore: decorator
@inline export function unaryOp(op: i32, v: f32, alpha: f32, beta: f32): f32 {
  switch (op) {
    case U_RELU:
      return max<f32>(v, 0);
    case U_CLIP:
      return min<f32>(max<f32>(v, alpha), beta);
    case U_SIGMOID:
      return 1 / (1 + Mathf.exp(-v));
    case U_TANH:
      return Mathf.tanh(v);
    case U_EXP:
      return Mathf.exp(v);
    case U_LEAKY:
      return v < 0 ? v * alpha : v;
    case U_NEG:
      return -v;
    case U_ABS:
      return abs<f32>(v);
    case U_HARDSWISH:
      return (v * min<f32>(max<f32>(v + 3, 0), 6)) / 6;
    default:
      return sqrt<f32>(v);
  }
}

export function unaryF32(x: usize, y: usize, n: i32, p: StepParams): void {
  const op = p.op,
    alpha = p.alpha,
    beta = p.beta;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // The ops that are single IEEE instructions per lane; the rest stay scalar (Mathf).
    if (op == U_RELU || op == U_CLIP || op == U_NEG || op == U_ABS || op == U_SQRT || op == U_LEAKY) {
      const va = f32x4.splat(alpha),
        vb = f32x4.splat(beta),
        zero = f32x4.splat(0);
      for (; i + 4 <= n; i += 4) {
        const v = v128.load(x + ((<usize>i) << 2));
        let r: v128;
        if (op == U_RELU) r = f32x4.max(v, zero);
        else if (op == U_CLIP) r = f32x4.min(f32x4.max(v, va), vb);
        else if (op == U_NEG) r = f32x4.neg(v);
        else if (op == U_ABS) r = f32x4.abs(v);
        else if (op == U_SQRT) r = f32x4.sqrt(v);
        else r = v128.bitselect(f32x4.mul(v, va), v, f32x4.lt(v, zero));
        v128.store(y + ((<usize>i) << 2), r);
      }
    }
  }
  for (; i < n; i++) store<f32>(y + ((<usize>i) << 2), unaryOp(op, load<f32>(x + ((<usize>i) << 2)), alpha, beta));
}

export function softmaxF32(x: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  const step = (<usize>inner) << 2;
  for (let o = 0; o < outer; o++) {
    for (let q = 0; q < inner; q++) {
      const xb = x + ((<usize>(o * axis * inner + q)) << 2);
      const yb = y + ((<usize>(o * axis * inner + q)) << 2);
      let m: f32 = -Infinity;
      for (let k = 0; k < axis; k++) m = max<f32>(m, load<f32>(xb + <usize>k * step));
      let sum: f32 = 0;
      for (let k = 0; k < axis; k++) {
        const e = Mathf.exp(load<f32>(xb + <usize>k * step) - m);
        store<f32>(yb + <usize>k * step, e);
        sum += e;
      }
      for (let k = 0; k < axis; k++) store<f32>(yb + <usize>k * step, load<f32>(yb + <usize>k * step) / sum);
    }
  }
}
