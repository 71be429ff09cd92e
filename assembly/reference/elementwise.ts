// Reference twins of Binary_F32, Unary_F32 and Softmax_F32: one flat index at a time, the
// multi-index recovered by division (rank ≤ 6), the op and activation applied per element.
import { StepParams } from '../bundle/model';
import { activate } from '../kernels/activation';
import { binaryOp } from '../kernels/elementwise/f32-binary';
import { unaryOp } from '../kernels/elementwise/f32-unary';

/** Elements of the BinaryParams output shape. */
export function broadcastCount(p: StepParams): i32 {
  let n = 1;
  for (let k = 0; k < p.shape.length; k++) n *= p.shape[k];
  return n;
}

/** Element offset in an operand with `strides` of flat output index i (the multi-index recovered by division). */
export function broadcastOffset(p: StepParams, strides: StaticArray<i32>, i: i32): i32 {
  let rest = i,
    o = 0;
  for (let k = p.shape.length - 1; k >= 0; k--) {
    o += (rest % p.shape[k]) * strides[k];
    rest /= p.shape[k];
  }
  return o;
}

export function refBinary(a: usize, b: usize, y: usize, p: StepParams): void {
  const n = broadcastCount(p);
  for (let i = 0; i < n; i++) {
    const ao = broadcastOffset(p, p.aStrides, i),
      bo = broadcastOffset(p, p.bStrides, i);
    const v = binaryOp(p.op, load<f32>(a + ((<usize>ao) << 2)), load<f32>(b + ((<usize>bo) << 2)));
    store<f32>(y + ((<usize>i) << 2), activate(v, p.act, p.actMin, p.actMax));
  }
}

export function refUnary(x: usize, y: usize, n: i32, p: StepParams): void {
  for (let i = 0; i < n; i++)
    store<f32>(y + ((<usize>i) << 2), unaryOp(p.op, load<f32>(x + ((<usize>i) << 2)), p.alpha, p.beta));
}

export function refSoftmax(x: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  for (let o = 0; o < outer; o++)
    for (let q = 0; q < inner; q++) {
      let m: f32 = -Infinity;
      for (let k = 0; k < axis; k++) m = max<f32>(m, load<f32>(x + ((<usize>((o * axis + k) * inner + q)) << 2)));
      let sum: f32 = 0;
      for (let k = 0; k < axis; k++) sum += Mathf.exp(load<f32>(x + ((<usize>((o * axis + k) * inner + q)) << 2)) - m);
      for (let k = 0; k < axis; k++) {
        const i = (o * axis + k) * inner + q;
        store<f32>(y + ((<usize>i) << 2), Mathf.exp(load<f32>(x + ((<usize>i) << 2)) - m) / sum);
      }
    }
}
