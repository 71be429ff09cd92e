// The non-conv steps threads split (assembly/threads.ts runs them by chunks; docs/threads.md): the residual Add_QS8 /
// Add_QS8_FP32 and Binary_F32 (both inputs row-major like the output) and the input's Quantize_QS8 / Quantize_QS8_RNE by
// element ranges (multiples of 16:
// every element is the same function of its own inputs, whichever SIMD lane or scalar tail computes it),
// Dense_QS8 / Dense_QS8_FP32 by 8-column blocks of the c2-packed weights (block b at w + b·Kp, compiler/kernels/pack.ts;
// each output is one column's sum, summed by one thread), and Transpose (any dtype) by rows of its first output dim
// larger than 1 (a copy: no arithmetic at all). Not the float Dense: a column slice of w [K,N] walks all K rows at
// stride N, and two such slices on one thread took 1.47× the unsplit step's streaming pass (docs/benchmarks.md).
// Each slice runs the one-thread kernel on a slice of the step's params: a 1-D shape for the Adds, the shape with one
// dim cut to the slice for the Transpose (this instance's preallocated arrays: a split step allocates nothing).
import {
  Model,
  StepInfo,
  StepParams,
  dtypeSize,
  K_ADD_QS8,
  K_ADD_QS8_FP32,
  K_QUANTIZE_QS8,
  K_QUANTIZE_QS8_RNE,
  K_DENSE_QS8,
  K_DENSE_QS8_FP32,
  K_TRANSPOSE,
  K_BINARY,
} from './bundle/model';
import { addQs8, addQs8Fp32, quantizeQs8Run, quantizeQs8RneRun } from './kernels/elementwise/qs8-elementwise';
import { gemmQs8 } from './kernels/gemm/qs8-gemm';
import { transposeAny, privateTransposeDims } from './kernels/data/data-move';
import { binaryF32, privateBinaryDims } from './kernels/elementwise/f32-binary';
import { sliceAt } from './threads-float';

/** Elementwise steps below this many elements run on the main thread alone (a split costs ~1 µs). From 16 384 down to
 *  this (MobileNetV2's 14²·64 and 7²·160 Adds split too, whose inputs are half in the other thread's cache): with the
 *  depthwise steps from 200 000 MACs, 2 threads ran 1.1–1.6 % faster (float), 0.8–1.1 % (int8), unloaded. */
const MIN_SPLIT_ELEMS: u64 = 4_096;
/** Dense steps below this many MACs (and below 16 columns) run on the main thread alone. */
const MIN_SPLIT_DENSE_MACS: u64 = 200_000;

/** This instance's slice shapes: ONE_SHAPE the Add's [n], ONE the unit strides, SHAPES[r] a rank-r Transpose's. */
let oneShape: StaticArray<i32> = changetype<StaticArray<i32>>(0);
let one: StaticArray<i32> = changetype<StaticArray<i32>>(0);
let shapes: StaticArray<i32>[] = changetype<StaticArray<i32>[]>(0);

/** Allocates this instance's slice shapes (in its own heap: a worker's region; threads.ts calls it once). */
export function privateSliceShapes(): void {
  oneShape = new StaticArray<i32>(1);
  one = new StaticArray<i32>(1);
  one[0] = 1;
  shapes = [];
  for (let r = 0; r <= 6; r++) shapes.push(new StaticArray<i32>(r));
  privateTransposeDims();
  privateBinaryDims();
}

/** A step kind this file splits (the caller checks threads and the split's size with stepSplittable). */
export function isStepSplit(k: i32): bool {
  const dense = k == K_DENSE_QS8 || k == K_DENSE_QS8_FP32;
  const add = k == K_ADD_QS8 || k == K_ADD_QS8_FP32 || k == K_BINARY;
  return dense || add || k == K_QUANTIZE_QS8 || k == K_QUANTIZE_QS8_RNE || k == K_TRANSPOSE;
}

/** The strides of dims `shape` are row-major (size-1 dims skipped). */
function rowMajor(shape: StaticArray<i32>, strides: StaticArray<i32>): bool {
  if (strides.length != shape.length) return false;
  let e = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    if (shape[k] != 1 && strides[k] != e) return false;
    e *= shape[k];
  }
  return true;
}

/** The first dim of a Transpose's output larger than 1 (its slices' dim), −1 if none. */
function transposeDim(p: StepParams): i32 {
  for (let k = 0; k < p.shape.length; k++) if (p.shape[k] > 1) return k;
  return -1;
}

/** isStepSplit(s.kernel): whether it is large enough to split over T threads, and of a form this file slices. */
export function stepSplittable(m: Model, s: StepInfo, T: i32): bool {
  const k = s.kernel;
  const y = m.tensors[s.outputs[0]];
  if (k == K_DENSE_QS8 || k == K_DENSE_QS8_FP32) return s.macs >= MIN_SPLIT_DENSE_MACS && y.shape[1] >= 16;
  if (y.elems < MIN_SPLIT_ELEMS) return false;
  if (k == K_QUANTIZE_QS8 || k == K_QUANTIZE_QS8_RNE) return true;
  const p = s.p;
  if (k == K_ADD_QS8 || k == K_ADD_QS8_FP32 || k == K_BINARY)
    return rowMajor(p.shape, p.aStrides) && rowMajor(p.shape, p.bStrides);
  // Transpose: a copy of whole elements; its sliced dim must have room for T slices
  const d = transposeDim(p);
  return d >= 0 && p.shape[d] >= T && p.shape.length <= 6;
}

/** Chunk t of T of step s (stepSplittable), with q this instance's params copy (s.p's values). */
export function runStepSlice(m: Model, s: StepInfo, t: i32, T: i32, q: StepParams): void {
  const k = s.kernel;
  const x = m.tensors[s.inputs[0]],
    y = m.tensors[s.outputs[0]];
  if (k == K_DENSE_QS8 || k == K_DENSE_QS8_FP32) {
    const M = x.shape[0],
      K = x.shape[1],
      N = y.shape[1];
    const n0 = sliceAt(N, t, T, 8),
      n1 = sliceAt(N, t + 1, T, 8);
    if (n1 <= n0) return;
    const Kp = (K + 1) & ~1;
    const w = s.inPtrs[1] + <usize>n0 * <usize>Kp,
      qc = s.inPtrs[2] + ((<usize>n0) << 2);
    const yp = y.ptr + <usize>n0,
      p = s.p;
    if (k == K_DENSE_QS8_FP32) gemmQs8<f32>(x.ptr, K, M, K, w, qc, N, n1 - n0, yp, N, y.zeroPoint, p.qMin, p.qMax);
    else gemmQs8<i64>(x.ptr, K, M, K, w, qc, N, n1 - n0, yp, N, y.zeroPoint, p.qMin, p.qMax);
    return;
  }
  if (k == K_TRANSPOSE) {
    const p = s.p;
    const d = transposeDim(p);
    const r0 = sliceAt(p.shape[d], t, T, 1),
      r1 = sliceAt(p.shape[d], t + 1, T, 1);
    if (r1 <= r0) return;
    const sh = shapes[p.shape.length];
    let inner = 1;
    for (let j = 0; j < p.shape.length; j++) {
      sh[j] = j == d ? r1 - r0 : p.shape[j];
      if (j > d) inner *= p.shape[j];
    }
    const es = <i32>dtypeSize(y.dtype);
    q.shape = sh;
    q.offset = p.offset + r0 * p.aStrides[d];
    transposeAny(x.ptr, y.ptr + <usize>r0 * <usize>inner * <usize>es, es, q);
    return;
  }
  const n = <i32>y.elems;
  const r0 = sliceAt(n, t, T, 16),
    r1 = sliceAt(n, t + 1, T, 16);
  if (r1 <= r0) return;
  if (k == K_QUANTIZE_QS8 || k == K_QUANTIZE_QS8_RNE) {
    const xs = x.ptr + ((<usize>r0) << 2),
      ys = y.ptr + <usize>r0;
    if (k == K_QUANTIZE_QS8_RNE) quantizeQs8RneRun(xs, ys, r1 - r0, y.scale, y.zeroPoint);
    else quantizeQs8Run(xs, ys, r1 - r0, y.scale, y.zeroPoint);
    return;
  }
  // Add_QS8 / Add_QS8_FP32 / Binary_F32, both inputs row-major like the output: one row of r1 − r0 elements
  const b = m.tensors[s.inputs[1]];
  oneShape[0] = r1 - r0;
  q.shape = oneShape;
  q.aStrides = one;
  q.bStrides = one;
  if (k == K_BINARY) {
    const at = (<usize>r0) << 2;
    binaryF32(x.ptr + at, b.ptr + at, y.ptr + at, q);
    return;
  }
  const at = <usize>r0,
    qc = m.tensors[s.inputs[2]].ptr;
  if (k == K_ADD_QS8_FP32) addQs8Fp32(x.ptr + at, b.ptr + at, qc, y.ptr + at, q, x.zeroPoint, b.zeroPoint, y.zeroPoint);
  else addQs8(x.ptr + at, b.ptr + at, qc, y.ptr + at, q, x.zeroPoint, b.zeroPoint, y.zeroPoint);
}
