// The float and data-movement steps (KernelIds 1..K_PAD), one small function per kernel behind a function table:
// a switch over every kernel in runModel (or one function binaryen inlines them all into) nests the reference twins'
// op switches deeper than the 15 blocks wasm3 0.9.0 validates per function at the embedded ports' stack height 128.
// The call_indirect costs one table lookup per step; binaryen cannot inline through it.
import {
  Model,
  StepInfo,
  TensorInfo,
  dtypeSize,
  K_CONV2D,
  K_DWCONV2D,
  K_DENSE,
  K_MAXPOOL,
  K_AVGPOOL,
  K_GAP,
  K_BINARY,
  K_UNARY,
  K_SOFTMAX,
  K_TRANSPOSE,
  K_CONCAT,
  K_COPY,
  K_PAD,
  K_CONV2D_P8,
} from './bundle/model';
import { conv2dF32 } from './kernels/conv/f32-conv2d';
import { conv2dF32P8 } from './kernels/conv/f32-conv2d-4x8-packed';
import { gemmF32 } from './kernels/gemm/f32-gemm';
import { dwconv2dF32 } from './kernels/conv/f32-dwconv2d';
import { poolF32, globalAvgPoolF32 } from './kernels/pool/f32-pool';
import { binaryF32 } from './kernels/elementwise/f32-binary';
import { unaryF32, softmaxF32 } from './kernels/elementwise/f32-unary';
import { transposeAny, concatAny, padAny } from './kernels/data/data-move';
import { refConv2d, refConv2dP8, refDwconv2d, refDense } from './reference/conv';
import { refPool, refGlobalAvgPool } from './reference/pool';
import { refBinary, refUnary, refSoftmax } from './reference/elementwise';
import { refTranspose, refConcat, refCopy, refPad } from './reference/data';

type StepRunner = (m: Model, s: StepInfo, ref: bool) => void;

/** The KernelIds runFloatStep runs (1..K_PAD and K_CONV2D_P8). */
export function isFloatStep(k: i32): bool {
  return (k >= K_CONV2D && k <= K_PAD) || k == K_CONV2D_P8;
}

/** Runs float/data step `s` (isFloatStep(s.kernel), checked by the caller and by validation). */
export function runFloatStep(m: Model, s: StepInfo, ref: bool): void {
  STEP_RUNNERS[s.kernel](m, s, ref);
}

/** The step's first input (an in-place step names only its output) and its first output. */
function xOf(m: Model, s: StepInfo): TensorInfo {
  return m.tensors[s.inputs.length > 0 ? s.inputs[0] : s.outputs[0]];
}
function yOf(m: Model, s: StepInfo): TensorInfo {
  return m.tensors[s.outputs[0]];
}

function ptrOf(m: Model, s: StepInfo, input: bool, i: i32): usize {
  const ids = input ? s.inputs : s.outputs;
  if (i >= ids.length || ids[i] < 0) return 0;
  return m.tensors[ids[i]].ptr;
}

/** One runner per KernelId (scripts/check-dispatch.ts reads this switch against the registry). */
function runnerOf(k: i32): StepRunner {
  switch (k) {
    case K_CONV2D:
      return (m: Model, s: StepInfo, ref: bool): void => {
        const p = s.p;
        const x = xOf(m, s);
        const y = yOf(m, s);
        const xp = x.ptr,
          yp = y.ptr;
        const w = ptrOf(m, s, true, 1),
          b = ptrOf(m, s, true, 2);
        const sh = x.shape,
          os = y.shape;
        // (the compiler lowers a pointwise conv to Dense_F32: the variant is chosen once, at compile time)
        if (ref) refConv2d(xp, w, b, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], p.groups, p);
        else conv2dF32(xp, w, b, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], p.groups, p);
      };
    case K_CONV2D_P8:
      return (m: Model, s: StepInfo, ref: bool): void => {
        const p = s.p;
        const x = xOf(m, s);
        const y = yOf(m, s);
        const xp = x.ptr,
          yp = y.ptr;
        const w = ptrOf(m, s, true, 1),
          b = ptrOf(m, s, true, 2);
        const sh = x.shape,
          os = y.shape;
        if (ref) refConv2dP8(xp, w, b, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], p.groups, p);
        else conv2dF32P8(xp, w, b, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], p.groups, p);
      };
    case K_DWCONV2D:
      return (m: Model, s: StepInfo, ref: bool): void => {
        const p = s.p;
        const x = xOf(m, s);
        const y = yOf(m, s);
        const xp = x.ptr,
          yp = y.ptr;
        const w = ptrOf(m, s, true, 1),
          b = ptrOf(m, s, true, 2);
        const sh = x.shape,
          os = y.shape;
        if (ref) refDwconv2d(xp, w, b, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p);
        else dwconv2dF32(xp, w, b, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p);
      };
    case K_DENSE:
      return (m: Model, s: StepInfo, ref: bool): void => {
        const p = s.p;
        const x = xOf(m, s);
        const y = yOf(m, s);
        const xp = x.ptr,
          yp = y.ptr;
        const w = ptrOf(m, s, true, 1),
          b = ptrOf(m, s, true, 2);
        const M = x.shape[0],
          K = x.shape[1],
          N = y.shape[1];
        if (ref) refDense(xp, w, b, yp, M, K, N, p);
        else gemmF32(xp, w, b, yp, M, K, N, p.act, p.actMin, p.actMax);
      };
    case K_MAXPOOL:
    case K_AVGPOOL:
      return (m: Model, s: StepInfo, ref: bool): void => {
        const p = s.p;
        const x = xOf(m, s);
        const y = yOf(m, s);
        const xp = x.ptr,
          yp = y.ptr;
        const sh = x.shape,
          os = y.shape,
          isMax = s.kernel == K_MAXPOOL;
        if (ref) refPool(isMax, xp, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p);
        else poolF32(isMax, xp, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p);
      };
    case K_GAP:
      return (m: Model, s: StepInfo, ref: bool): void => {
        const p = s.p;
        const x = xOf(m, s);
        const y = yOf(m, s);
        const xp = x.ptr,
          yp = y.ptr;
        const sh = x.shape;
        if (ref) refGlobalAvgPool(xp, yp, sh[0], sh[1], sh[2], sh[3]);
        else globalAvgPoolF32(xp, yp, sh[0], sh[1], sh[2], sh[3]);
      };
    case K_BINARY:
      return (m: Model, s: StepInfo, ref: bool): void => {
        const p = s.p;
        const x = xOf(m, s);
        const y = yOf(m, s);
        const xp = x.ptr,
          yp = y.ptr;
        const b = ptrOf(m, s, true, 1);
        if (ref) refBinary(xp, b, yp, p);
        else binaryF32(xp, b, yp, p);
      };
    case K_UNARY:
      return (m: Model, s: StepInfo, ref: bool): void => {
        const p = s.p;
        const x = xOf(m, s);
        const y = yOf(m, s);
        const xp = x.ptr,
          yp = y.ptr;
        if (ref) refUnary(xp, yp, <i32>y.elems, p);
        else unaryF32(xp, yp, <i32>y.elems, p);
      };
    case K_SOFTMAX:
      return (m: Model, s: StepInfo, ref: bool): void => {
        const p = s.p;
        const x = xOf(m, s);
        const y = yOf(m, s);
        const xp = x.ptr,
          yp = y.ptr;
        if (ref) refSoftmax(xp, yp, p.outer, p.axis, p.inner);
        else softmaxF32(xp, yp, p.outer, p.axis, p.inner);
      };
    default:
      return (m: Model, s: StepInfo, ref: bool): void => {
        unreachable();
      };
  }
}

/** The data movers' runners (a second switch keeps each under wasm3's nesting limit). */
function runnerOfAny(k: i32): StepRunner {
  switch (k) {
    case K_TRANSPOSE:
      return (m: Model, s: StepInfo, ref: bool): void => {
        const p = s.p;
        const x = xOf(m, s);
        const y = yOf(m, s);
        const xp = x.ptr,
          yp = y.ptr;
        const es = <i32>dtypeSize(y.dtype);
        if (ref) refTranspose(xp, yp, es, p);
        else transposeAny(xp, yp, es, p);
      };
    case K_CONCAT:
      return (m: Model, s: StepInfo, ref: bool): void => {
        const p = s.p;
        const x = xOf(m, s);
        const y = yOf(m, s);
        const xp = x.ptr,
          yp = y.ptr;
        const xs = s.inPtrs;
        const es = <i32>dtypeSize(y.dtype);
        if (ref) refConcat(xs, yp, es, p);
        else concatAny(xs, yp, es, p);
      };
    case K_COPY:
      return (m: Model, s: StepInfo, ref: bool): void => {
        const p = s.p;
        const x = xOf(m, s);
        const y = yOf(m, s);
        const xp = x.ptr,
          yp = y.ptr;
        if (ref) refCopy(xp, yp, y.size);
        else memory.copy(yp, xp, <usize>y.size);
      };
    case K_PAD:
      return (m: Model, s: StepInfo, ref: bool): void => {
        const p = s.p;
        const x = xOf(m, s);
        const y = yOf(m, s);
        const xp = x.ptr,
          yp = y.ptr;
        const es = <i32>dtypeSize(y.dtype);
        if (ref) refPad(xp, yp, es, y.dtype, y.zeroPoint, p);
        else padAny(xp, yp, es, y.dtype, y.zeroPoint, p);
      };
    default:
      return (m: Model, s: StepInfo, ref: bool): void => {
        unreachable();
      };
  }
}

const STEP_RUNNERS = runnerTable();

function runnerTable(): StaticArray<StepRunner> {
  const t = new StaticArray<StepRunner>(K_CONV2D_P8 + 1);
  for (let k = 0; k <= K_CONV2D_P8; k++) t[k] = k < K_TRANSPOSE || k > K_PAD ? runnerOf(k) : runnerOfAny(k);
  return t;
}
