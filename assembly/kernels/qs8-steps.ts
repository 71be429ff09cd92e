// The int8 steps (KernelId *_QS8, docs/quantization.md): their dispatch to the fast kernels or the reference twins,
// and to their load-time contract checks (qs8-checks.ts). Zero points and scales come from the tensors,
// per-channel constants from the I32 `qc` input. Hooked from executor.ts and bundle/validate.ts.
import {
  Model,
  StepInfo,
  DT_F32,
  DT_I8,
  K_CONV2D_QS8,
  K_DWCONV2D_QS8,
  K_DENSE_QS8,
  K_MAXPOOL_QS8,
  K_AVGPOOL_QS8,
  K_GAP_QS8,
  K_ADD_QS8,
  K_QUANTIZE_QS8,
  K_DEQUANTIZE_QS8,
  K_REQUANTIZE_QS8,
  K_CONV1XK_QS8,
  K_CONVKX1_QS8,
  K_SOFTMAX_QS8,
  K_LUT_QS8,
  K_CONV2D_QS8_FP32,
  K_DWCONV2D_QS8_FP32,
  K_DENSE_QS8_FP32,
  K_CONV1XK_QS8_FP32,
  K_CONVKX1_QS8_FP32,
  K_AVGPOOL_QS8_RAW,
  K_MUL_QS8_FP32,
  K_GAP_QS8_FP32,
  K_CONV2D_WINO_QS8,
  K_CONV2D_WINO_QS8_FP32,
  K_QUANTIZE_QS8_RNE,
  K_ADD_QS8_FP32,
} from '../bundle/model';
import { conv2dWinoQs8 } from './conv/qs8-conv2d-wino-wasmsimd';
import { conv2dWinoQs8Scalar } from './conv/qs8-conv2d-wino-scalar';
import { refConv2dWinoQs8 } from '../reference/qs8-wino';
import { conv2dQs8 } from './conv/qs8-conv2d-im2col';
import {
  checkConvLineQs8,
  checkConvQs8,
  checkDenseQs8,
  checkPoolQs8,
  checkGapQs8,
  checkSoftmaxQs8,
  checkLutQs8,
  checkAddQs8,
  checkConvWinoQs8,
  checkElementwise,
  Checker,
} from './qs8-checks';
import { conv1xkQs8, convKx1Qs8 } from './conv/qs8-conv2d-1xk';
import { dwconv2dQs8 } from './conv/qs8-dwconv2d';
import { dwconv2dQs8Plane } from './conv/qs8-dwconv2d-scalar';
import { gemmQs8 } from './gemm/qs8-gemm';
import { DOT_SPLIT, getDotMode } from './gemm/qs8-gemm-4x8c4-wasmrelaxed';
import {
  gemvQs8W16,
  qs8W16Bytes,
  widenQs8W16,
  QS8_W16_STEP_BYTES,
  QS8_W16_TOTAL_BYTES,
} from './gemm/qs8-gemm-1x16c2w16-wasmsimd';
import { poolQs8, globalAvgPoolQs8 } from './pool/qs8-pool';
import {
  addQs8,
  addQs8Fp32,
  mulQs8,
  quantizeQs8Run,
  quantizeQs8RneRun,
  dequantizeQs8Run,
  requantizeQs8Run,
} from './elementwise/qs8-elementwise';
import { softmaxQs8 } from './elementwise/qs8-softmax';
import { lutQs8 } from './elementwise/qs8-lut';
import {
  refConv2dQs8,
  refDwconv2dQs8,
  refGemmQs8,
  refPoolQs8,
  refGlobalAvgPoolQs8,
  refAddQs8,
  refAddQs8Fp32,
  refMulQs8,
  refQuantizeQs8,
  refQuantizeQs8Rne,
  refDequantizeQs8,
  refRequantizeQs8,
  refSoftmaxQs8,
  refLutQs8,
} from '../reference/qs8';

function ptrAt(m: Model, s: StepInfo, i: i32): usize {
  return i < s.inputs.length && s.inputs[i] >= 0 ? m.tensors[s.inputs[i]].ptr : 0;
}

/** Runs one validated int8 step. */
export function runQs8Step(m: Model, s: StepInfo, ref: bool): void {
  const k = s.kernel;
  if (k == K_DENSE_QS8 || k == K_DENSE_QS8_FP32) {
    denseStepQs8(m, s, k == K_DENSE_QS8_FP32, ref);
    return;
  }
  const p = s.p;
  const x = m.tensors[s.inputs[0]],
    y = m.tensors[s.outputs[0]];
  const xp = x.ptr,
    yp = y.ptr,
    sh = x.shape,
    os = y.shape;
  if (k == K_CONV2D_QS8) {
    const w = ptrAt(m, s, 1),
      qc = ptrAt(m, s, 2),
      scratch = ptrAt(m, s, 3);
    if (ref)
      refConv2dQs8<i64>(xp, w, qc, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], p, x.zeroPoint, y.zeroPoint);
    else
      conv2dQs8<i64>(
        xp,
        w,
        qc,
        scratch,
        yp,
        sh[0],
        sh[1],
        sh[2],
        sh[3],
        os[1],
        os[2],
        os[3],
        p,
        x.zeroPoint,
        y.zeroPoint,
      );
  } else if (k == K_CONV1XK_QS8 || k == K_CONVKX1_QS8) {
    // the reference twin is the general conv's: same packed weights, same sums
    const w = ptrAt(m, s, 1),
      qc = ptrAt(m, s, 2),
      scratch = ptrAt(m, s, 3);
    if (ref)
      refConv2dQs8<i64>(xp, w, qc, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], p, x.zeroPoint, y.zeroPoint);
    else if (k == K_CONV1XK_QS8)
      conv1xkQs8<i64>(
        xp,
        w,
        qc,
        scratch,
        yp,
        sh[0],
        sh[1],
        sh[2],
        sh[3],
        os[1],
        os[2],
        os[3],
        p,
        x.zeroPoint,
        y.zeroPoint,
      );
    else
      convKx1Qs8<i64>(
        xp,
        w,
        qc,
        scratch,
        yp,
        sh[0],
        sh[1],
        sh[2],
        sh[3],
        os[1],
        os[2],
        os[3],
        p,
        x.zeroPoint,
        y.zeroPoint,
      );
  } else if (k == K_DWCONV2D_QS8) {
    const w = ptrAt(m, s, 1),
      qc = ptrAt(m, s, 2);
    if (ref) refDwconv2dQs8<i64>(xp, w, qc, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p, x.zeroPoint, y.zeroPoint);
    // scalar build: the plane kernel first, so wasm3 (it compiles a function on its first call, into RAM) never
    // compiles the general one for the steps the plane takes
    else if (
      ASC_FEATURE_SIMD ||
      !dwconv2dQs8Plane(xp, w, qc, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p, x.zeroPoint, y.zeroPoint)
    )
      dwconv2dQs8<i64>(xp, w, qc, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p, x.zeroPoint, y.zeroPoint);
  } else if (k == K_MAXPOOL_QS8 || k == K_AVGPOOL_QS8 || k == K_AVGPOOL_QS8_RAW) {
    const isMax = k == K_MAXPOOL_QS8;
    // the raw-sum variant is the same sum with zero point 0 (checkPoolQs8: no count_include_pad)
    const zp = k == K_AVGPOOL_QS8_RAW ? 0 : x.zeroPoint;
    if (ref) refPoolQs8(isMax, xp, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p, zp);
    else poolQs8(isMax, xp, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p, zp);
  } else if (k == K_GAP_QS8) {
    const qc = ptrAt(m, s, 1);
    if (ref) refGlobalAvgPoolQs8<i64>(xp, qc, yp, sh[0], sh[1], sh[2], sh[3], x.zeroPoint, y.zeroPoint);
    else globalAvgPoolQs8<i64>(xp, qc, yp, sh[0], sh[1], sh[2], sh[3], x.zeroPoint, y.zeroPoint);
  } else if (k == K_ADD_QS8) {
    const b = m.tensors[s.inputs[1]],
      qc = ptrAt(m, s, 2);
    if (ref) refAddQs8(xp, b.ptr, qc, yp, p, x.zeroPoint, b.zeroPoint, y.zeroPoint);
    else addQs8(xp, b.ptr, qc, yp, p, x.zeroPoint, b.zeroPoint, y.zeroPoint);
  } else if (k == K_QUANTIZE_QS8 || k == K_QUANTIZE_QS8_RNE) {
    // one arm for both roundings: a branch of its own would nest runQs8Step's chain one level deeper (wasm3's bound)
    const n = <i32>y.elems;
    if (k == K_QUANTIZE_QS8_RNE) {
      if (ref) refQuantizeQs8Rne(xp, yp, n, y.scale, y.zeroPoint);
      else quantizeQs8RneRun(xp, yp, n, y.scale, y.zeroPoint);
    } else if (ref) refQuantizeQs8(xp, yp, n, y.scale, y.zeroPoint);
    else quantizeQs8Run(xp, yp, n, y.scale, y.zeroPoint);
  } else if (k == K_DEQUANTIZE_QS8) {
    if (ref) refDequantizeQs8(xp, yp, <i32>y.elems, x.scale, x.zeroPoint);
    else dequantizeQs8Run(xp, yp, <i32>y.elems, x.scale, x.zeroPoint);
  } else if (k == K_REQUANTIZE_QS8) {
    const qc = ptrAt(m, s, 1);
    if (ref) refRequantizeQs8(xp, qc, yp, <i32>y.elems, x.zeroPoint, y.zeroPoint);
    else requantizeQs8Run(xp, qc, yp, <i32>y.elems, x.zeroPoint, y.zeroPoint);
  } else if (k == K_SOFTMAX_QS8 || k == K_LUT_QS8) {
    tableStepQs8(m, s, ref);
  } else if (k == K_CONV2D_WINO_QS8 || k == K_CONV2D_WINO_QS8_FP32) {
    winoStepQs8(m, s, ref);
  } else if (k == K_CONV2D_QS8_FP32 || k == K_CONV1XK_QS8_FP32 || k == K_CONVKX1_QS8_FP32) {
    fp32StepQs8(m, s, ref);
  } else if (k == K_DWCONV2D_QS8_FP32 || k == K_GAP_QS8_FP32 || k == K_MUL_QS8_FP32 || k == K_ADD_QS8_FP32) {
    fp32StepQs8(m, s, ref);
  }
}

/**
 * Dense_QS8 and Dense_QS8_FP32 (x [M, K], y [M, N]), dispatched first and read without bounds checks (validate.ts
 * checked the indices and ranks at load): a batch-1 Dense is a few µs of MACs, and the general path's lookups took
 * ~0.05 µs of each (MLPerf Tiny AD: 10 Dense steps of 0.05–2.5 µs).
 */
function denseStepQs8(m: Model, s: StepInfo, fp32: bool, ref: bool): void {
  const x = unchecked(m.tensors[unchecked(s.inputs[0])]),
    y = unchecked(m.tensors[unchecked(s.outputs[0])]);
  const M = unchecked(x.shape[0]),
    K = unchecked(x.shape[1]),
    N = unchecked(y.shape[1]);
  const w = unchecked(s.inPtrs[1]),
    qc = unchecked(s.inPtrs[2]);
  const xp = x.ptr,
    yp = y.ptr,
    zo = y.zeroPoint,
    lo = s.p.qMin,
    hi = s.p.qMax;
  const w16 = s.w16;
  // the relaxed build's one-dot GEMV (16 MACs per instruction) beats the i16 copy where the engine allows it
  if (ASC_FEATURE_SIMD && w16 != 0 && !ref && !(ASC_FEATURE_RELAXED_SIMD && getDotMode() != DOT_SPLIT)) {
    if (fp32) gemvQs8W16<f32>(xp, K, w, w16, qc, N, N, yp, zo, lo, hi);
    else gemvQs8W16<i64>(xp, K, w, w16, qc, N, N, yp, zo, lo, hi);
  } else if (fp32) {
    if (ref) refGemmQs8<f32>(xp, K, M, K, w, qc, N, N, yp, N, zo, lo, hi);
    else gemmQs8<f32>(xp, K, M, K, w, qc, N, N, yp, N, zo, lo, hi);
  } else if (ref) refGemmQs8<i64>(xp, K, M, K, w, qc, N, N, yp, N, zo, lo, hi);
  else gemmQs8<i64>(xp, K, M, K, w, qc, N, N, yp, N, zo, lo, hi);
}

/**
 * At load, simd builds (the relaxed one in split mode): each one-row Dense_QS8 / Dense_QS8_FP32 on constant weights
 * gets an i16 copy of its 8-column blocks (qs8-gemm-1x16c2w16-wasmsimd.ts) while the copies stay within
 * QS8_W16_STEP_BYTES each and QS8_W16_TOTAL_BYTES in all: MLPerf Tiny AD's ten layers, 528 KiB.
 */
export function widenDenseWeights(m: Model): void {
  // the relaxed build with a one-dot mode (set before the load by runtime/index.ts) runs its own GEMV
  if (ASC_FEATURE_RELAXED_SIMD && getDotMode() != DOT_SPLIT) return;
  let total = 0;
  for (let i = 0; ASC_FEATURE_SIMD && i < m.steps.length; i++) {
    const s = m.steps[i];
    if (s.kernel != K_DENSE_QS8 && s.kernel != K_DENSE_QS8_FP32) continue;
    const x = m.tensors[s.inputs[0]],
      wt = m.tensors[s.inputs[1]],
      N = m.tensors[s.outputs[0]].shape[1];
    const K = x.shape[1];
    const bytes = qs8W16Bytes(N, K);
    if (x.shape[0] != 1 || !wt.constant || bytes == 0 || bytes > QS8_W16_STEP_BYTES) continue;
    if (total + bytes > QS8_W16_TOTAL_BYTES) return;
    total += bytes;
    s.w16 = widenQs8W16(wt.ptr, N, K);
  }
}

/**
 * The *_QS8_FP32 steps (XNNPACK's fp32 requantisation): the *_QS8 kernels and twins instantiated for R = f32, on the
 * same inputs but qc [2, Co] (bias, f32 scale); GlobalAvgPool_QS8_FP32 and Mul_QS8_FP32 with qc [1] (f32 scale), and
 * onnxruntime's Add_QS8_FP32 with qc [4] (f32 scales, i32 rounding zero point).
 * Out of line and called twice for wasm3's stack height, as tableStepQs8.
 */
function fp32StepQs8(m: Model, s: StepInfo, ref: bool): void {
  const p = s.p,
    k = s.kernel;
  const x = m.tensors[s.inputs[0]],
    y = m.tensors[s.outputs[0]];
  const xp = x.ptr,
    yp = y.ptr,
    sh = x.shape,
    os = y.shape,
    zi = x.zeroPoint,
    zo = y.zeroPoint;
  if (k == K_GAP_QS8_FP32) {
    if (ref) refGlobalAvgPoolQs8<f32>(xp, ptrAt(m, s, 1), yp, sh[0], sh[1], sh[2], sh[3], zi, zo);
    else globalAvgPoolQs8<f32>(xp, ptrAt(m, s, 1), yp, sh[0], sh[1], sh[2], sh[3], zi, zo);
    return;
  }
  if (k == K_MUL_QS8_FP32 || k == K_ADD_QS8_FP32) {
    const b = m.tensors[s.inputs[1]];
    const qc = ptrAt(m, s, 2);
    if (k == K_ADD_QS8_FP32) {
      if (ref) refAddQs8Fp32(xp, b.ptr, qc, yp, p, zi, b.zeroPoint, zo);
      else addQs8Fp32(xp, b.ptr, qc, yp, p, zi, b.zeroPoint, zo);
    } else if (ref) refMulQs8(xp, b.ptr, qc, yp, p, zi, b.zeroPoint, zo);
    else mulQs8(xp, b.ptr, qc, yp, p, zi, b.zeroPoint, zo);
    return;
  }
  const w = ptrAt(m, s, 1),
    qc = ptrAt(m, s, 2),
    scratch = ptrAt(m, s, 3);
  if (k == K_DWCONV2D_QS8_FP32) {
    if (ref) refDwconv2dQs8<f32>(xp, w, qc, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p, zi, zo);
    else dwconv2dQs8<f32>(xp, w, qc, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], p, zi, zo);
  } else if (ref) refConv2dQs8<f32>(xp, w, qc, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], p, zi, zo);
  else if (k == K_CONV2D_QS8_FP32)
    conv2dQs8<f32>(xp, w, qc, scratch, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], p, zi, zo);
  else if (k == K_CONV1XK_QS8_FP32)
    conv1xkQs8<f32>(xp, w, qc, scratch, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], p, zi, zo);
  else convKx1Qs8<f32>(xp, w, qc, scratch, yp, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], p, zi, zo);
}

/** Conv2DWino_QS8 (R = i64) and its _FP32 variant (R = f32): the simd builds' kernel, the scalar build's, or the twin.
 *  Out of line for wasm3's stack height, as tableStepQs8. */
function winoStepQs8(m: Model, s: StepInfo, ref: bool): void {
  if (s.kernel == K_CONV2D_WINO_QS8) winoStepOf<i64>(m, s, ref);
  else winoStepOf<f32>(m, s, ref);
}

function winoStepOf<R>(m: Model, s: StepInfo, ref: bool): void {
  const x = m.tensors[s.inputs[0]],
    y = m.tensors[s.outputs[0]];
  const w = ptrAt(m, s, 1),
    qc = ptrAt(m, s, 2),
    sh = x.shape,
    os = y.shape,
    zi = x.zeroPoint,
    zo = y.zeroPoint;
  if (ref) refConv2dWinoQs8<R>(x.ptr, w, qc, y.ptr, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], s.p, zi, zo);
  else if (ASC_FEATURE_SIMD)
    conv2dWinoQs8<R>(x.ptr, w, qc, y.ptr, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], s.p, zi, zo);
  else conv2dWinoQs8Scalar<R>(x.ptr, w, qc, y.ptr, sh[0], sh[1], sh[2], sh[3], os[1], os[2], os[3], s.p, zi, zo);
}

/**
 * TFLite's table kernels (Softmax_QS8, Lut_QS8), kept out of runQs8Step: inlined there, their locals take it past
 * the 128 value slots wasm3 0.9.0 compiles one function with at the embedded ports' stack height (docs/embedding.md).
 * Two call sites keep binaryen from inlining it (it inlines every function with a single caller).
 */
function tableStepQs8(m: Model, s: StepInfo, ref: bool): void {
  const p = s.p;
  const x = m.tensors[s.inputs[0]],
    y = m.tensors[s.outputs[0]];
  const xp = x.ptr,
    yp = y.ptr;
  const table = ptrAt(m, s, 1);
  if (s.kernel == K_SOFTMAX_QS8) {
    if (ref) refSoftmaxQs8(xp, table, yp, p.outer, p.axis, y.scale, y.zeroPoint);
    else softmaxQs8(xp, table, yp, p.outer, p.axis, y.scale, y.zeroPoint);
  } else {
    if (ref) refLutQs8(xp, table, yp, <i32>y.elems);
    else lutQs8(xp, table, yp, <i32>y.elems);
  }
}

/** '' when the int8 step keeps its contract, else what is wrong. Two levels (the GEMM-backed ids, then the rest):
 * one else-if chain over every id nests 20 blocks deep, past the 16 control frames wasm3 0.9.0 validates a function
 * with at stack height 128 (d_m3ValCtrlDepth = height / 8; test/assembly/build.test.ts bounds every function). */
export function checkQs8Step(m: Model, s: StepInfo): string {
  const c = new Checker(m, s);
  const k = s.kernel;
  if (
    k == K_CONV2D_QS8 ||
    k == K_DWCONV2D_QS8 ||
    k == K_CONV1XK_QS8 ||
    k == K_CONVKX1_QS8 ||
    k == K_DENSE_QS8 ||
    k == K_CONV2D_QS8_FP32 ||
    k == K_DWCONV2D_QS8_FP32 ||
    k == K_CONV1XK_QS8_FP32 ||
    k == K_CONVKX1_QS8_FP32 ||
    k == K_DENSE_QS8_FP32
  )
    checkGemmStepQs8(c, k);
  else if (k == K_MAXPOOL_QS8 || k == K_AVGPOOL_QS8) checkPoolQs8(c, false);
  else if (k == K_AVGPOOL_QS8_RAW) checkPoolQs8(c, true);
  else if (k == K_GAP_QS8 || k == K_GAP_QS8_FP32) checkGapQs8(c, k == K_GAP_QS8_FP32);
  else if (k == K_ADD_QS8 || k == K_MUL_QS8_FP32 || k == K_ADD_QS8_FP32)
    checkAddQs8(c, k == K_MUL_QS8_FP32, k == K_ADD_QS8_FP32);
  else if (k == K_QUANTIZE_QS8 || k == K_QUANTIZE_QS8_RNE) checkElementwise(c, DT_F32, DT_I8, false);
  else if (k == K_DEQUANTIZE_QS8) checkElementwise(c, DT_I8, DT_F32, false);
  else if (k == K_REQUANTIZE_QS8) checkElementwise(c, DT_I8, DT_I8, true);
  else if (k == K_CONV2D_WINO_QS8 || k == K_CONV2D_WINO_QS8_FP32) checkConvWinoQs8(c, k == K_CONV2D_WINO_QS8_FP32);
  else if (k == K_SOFTMAX_QS8) checkSoftmaxQs8(c);
  else if (k == K_LUT_QS8) checkLutQs8(c);
  else c.fail('not an int8 kernel');
  return c.msg;
}

/** The conv / dense ids, fixed-point and fp32 requantisation (checkQs8Step's first level). */
function checkGemmStepQs8(c: Checker, k: i32): void {
  if (k == K_CONV2D_QS8) checkConvQs8(c, false, false);
  else if (k == K_DWCONV2D_QS8) checkConvQs8(c, true, false);
  else if (k == K_CONV1XK_QS8 || k == K_CONVKX1_QS8) checkConvLineQs8(c, k == K_CONV1XK_QS8, false);
  else if (k == K_DENSE_QS8) checkDenseQs8(c, false);
  else if (k == K_CONV2D_QS8_FP32) checkConvQs8(c, false, true);
  else if (k == K_DWCONV2D_QS8_FP32) checkConvQs8(c, true, true);
  else if (k == K_CONV1XK_QS8_FP32 || k == K_CONVKX1_QS8_FP32) checkConvLineQs8(c, k == K_CONV1XK_QS8_FP32, true);
  else checkDenseQs8(c, true);
}
