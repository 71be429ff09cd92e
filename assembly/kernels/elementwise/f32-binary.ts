// Binary_F32: y[i] = act(op(a[Σ ik·as_k], b[Σ ik·bs_k])) over `shape` (rank ≤ 6, strides in
// elements, 0 = broadcast); y is written contiguously and may alias a or b (in place). SIMD runs
// the innermost axis 4 at a time when both inner strides are 0 or 1. Exact: one IEEE op per output.
import { StepParams } from '../../bundle/model';
import { activate, activate4, simdAct } from '../activation';

export const OP_ADD = 0;
export const OP_SUB = 1;
export const OP_MUL = 2;
export const OP_DIV = 3;
export const OP_MAX = 4;
export const OP_MIN = 5;
export const OP_PRELU = 6;

// @ts-ignore: decorator
@inline export function binaryOp(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case OP_ADD:
      return a + b;
    case OP_SUB:
      return a - b;
    case OP_MUL:
      return a * b;
    case OP_DIV:
      return a / b;
    case OP_MAX:
      return max<f32>(a, b);
    case OP_MIN:
      return min<f32>(a, b);
    default:
      return a < 0 ? a * b : a;
  }
}

// @ts-ignore: decorator
@inline function binaryOp4(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case OP_ADD:
      return f32x4.add(a, b);
    case OP_SUB:
      return f32x4.sub(a, b);
    case OP_MUL:
      return f32x4.mul(a, b);
    case OP_DIV:
      return f32x4.div(a, b);
    case OP_MAX:
      return f32x4.max(a, b);
    case OP_MIN:
      return f32x4.min(a, b);
    default:
      return v128.bitselect(f32x4.mul(a, b), a, f32x4.lt(a, f32x4.splat(0)));
  }
}

/** Dims and strides padded to rank 6 on the left (size 1, stride 0). */
let dims = new StaticArray<i32>(6);
let sa = new StaticArray<i32>(6);
let sb = new StaticArray<i32>(6);

/** Threaded build (assembly/threads.ts): this instance's own dims and strides (the start code's arrays sit at the same
 *  addresses in every instance: two threads slicing one Binary_F32 would overwrite each other's). */
export function privateBinaryDims(): void {
  dims = new StaticArray<i32>(6);
  sa = new StaticArray<i32>(6);
  sb = new StaticArray<i32>(6);
}

export function padTo6(shape: StaticArray<i32>, as: StaticArray<i32>, bs: StaticArray<i32>): void {
  const off = 6 - shape.length;
  for (let k = 0; k < 6; k++) {
    const s = k - off;
    dims[k] = s >= 0 ? shape[s] : 1;
    sa[k] = s >= 0 ? as[s] : 0;
    sb[k] = s >= 0 ? bs[s] : 0;
  }
}

export function binaryF32(a: usize, b: usize, y: usize, p: StepParams): void {
  padTo6(p.shape, p.aStrides, p.bStrides);
  const op = p.op,
    act = simdAct(p.act, p.actMin, p.actMax),
    lo = p.actMin,
    hi = p.actMax;
  const n5 = dims[5],
    as5 = sa[5],
    bs5 = sb[5];
  let yp = y;
  // the five outer axes as one loop over an odometer (i0..i4): nested `for`s cost two control frames each, and
  // wasm3 0.9.0 validates a function with at most 16 at stack height 128 (test/assembly/build.test.ts)
  const outer = dims[0] * dims[1] * dims[2] * dims[3] * dims[4];
  let i0 = 0,
    i1 = 0,
    i2 = 0,
    i3 = 0,
    i4 = 0;
  for (let o = 0; o < outer; o++) {
    const ao = i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3] + i4 * sa[4];
    const bo = i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3] + i4 * sb[4];
    let ap = a + ((<usize>ao) << 2),
      bp = b + ((<usize>bo) << 2);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      if ((as5 == 0 || as5 == 1) && (bs5 == 0 || bs5 == 1)) {
        const vlo = f32x4.splat(lo),
          vhi = f32x4.splat(hi);
        const aStep = (<usize>as5) << 4,
          bStep = (<usize>bs5) << 4;
        for (; i + 4 <= n5; i += 4) {
          const av = as5 == 0 ? v128.load32_splat(ap) : v128.load(ap);
          const bv = bs5 == 0 ? v128.load32_splat(bp) : v128.load(bp);
          v128.store(yp, activate4(binaryOp4(op, av, bv), act, vlo, vhi));
          ap += aStep;
          bp += bStep;
          yp += 16;
        }
      }
    }
    const aStep = (<usize>as5) << 2,
      bStep = (<usize>bs5) << 2;
    for (; i < n5; i++) {
      store<f32>(yp, activate(binaryOp(op, load<f32>(ap), load<f32>(bp)), act, lo, hi));
      ap += aStep;
      bp += bStep;
      yp += 4;
    }
    if (++i4 < dims[4]) continue;
    i4 = 0;
    if (++i3 < dims[3]) continue;
    i3 = 0;
    if (++i2 < dims[2]) continue;
    i2 = 0;
    if (++i1 < dims[1]) continue;
    i1 = 0;
    i0++;
  }
}
