// Load-time contract checks of the training steps (KernelId 29..42, 60.., 90..91, docs/training.md): shapes, dtypes
// and params of every tensor a step reads or writes, so the kernels (train-steps.ts) run without bounds checks.
// Hooked from bundle/validate.ts; '' = ok, else the message (the caller adds the step prefix).
import {
  Model,
  StepInfo,
  TensorInfo,
  DT_F32,
  DT_I32,
  P_TRAIN,
  P_UNARY,
  P_SOFTMAX,
  P_CONV,
  P_POOL,
  K_SOFTMAX_CE,
  K_UNARY_GRAD,
  K_REDUCE_SUM,
  K_SGD_UPDATE,
  K_CONV_GRAD_INPUT,
  K_CONV_GRAD_FILTER,
  K_MAXPOOL_GRAD,
  K_AVGPOOL_GRAD,
  K_ADAM_UPDATE,
  K_GLOBAL_NORM_SCALE,
  K_MSE_LOSS,
  K_KL_DIV,
  K_BN_TRAIN,
  K_BN_GRAD,
  K_BN_MERGE,
  K_BN_EVAL,
  K_RKD_DISTANCE,
  K_RKD_ANGLE,
  K_FAKE_QUANT,
  K_FAKE_QUANT_GRAD,
  K_FAKE_QUANT_WEIGHT,
  K_FAKE_QUANT_BIAS,
} from '../bundle/model';
import { U_RELU, U_CLIP, U_SIGMOID, U_TANH, U_EXP, U_LEAKY, U_HARDSWISH } from './elementwise/f32-unary';

function outDim(i: i32, k: i32, s: i32, d: i32, p0: i32, p1: i32): i32 {
  const num = <i64>i + <i64>p0 + <i64>p1 - (<i64>d * <i64>(k - 1) + 1);
  return num < 0 ? 0 : <i32>(num / <i64>s + 1);
}

function dims(t: TensorInfo): string {
  let r = '[';
  for (let i = 0; i < t.shape.length; i++) r += (i > 0 ? ',' : '') + t.shape[i].toString();
  return r + ']';
}

/** Window params (ConvParams or PoolParams) all ≥ 1 / ≥ 0, and dy's spatial dims the forward output of x's. */
function checkWindow(s: StepInfo, x: TensorInfo, dy: TensorInfo, dil: bool): string {
  const p = s.p;
  if (p.kh < 1 || p.kw < 1 || p.sh < 1 || p.sw < 1 || p.dh < 1 || p.dw < 1 || p.groups < 1)
    return 'kernel, strides, dilations and groups must be >= 1';
  if (p.pt < 0 || p.pl < 0 || p.pb < 0 || p.pr < 0) return 'negative padding';
  if (x.shape.length != 4 || dy.shape.length != 4 || x.shape[0] != dy.shape[0])
    return 'x ' + dims(x) + ' and dy ' + dims(dy) + ' must be NHWC of one batch';
  const OH = outDim(x.shape[1], p.kh, p.sh, dil ? p.dh : 1, p.pt, p.pb),
    OW = outDim(x.shape[2], p.kw, p.sw, dil ? p.dw : 1, p.pl, p.pr);
  if (OH < 1 || OW < 1 || dy.shape[1] != OH || dy.shape[2] != OW)
    return 'dy ' + dims(dy) + ' is not the window output of ' + dims(x);
  return '';
}

function t(m: Model, ids: StaticArray<i32>, i: i32): TensorInfo | null {
  return i < ids.length && ids[i] >= 0 && ids[i] < m.tensors.length ? m.tensors[ids[i]] : null;
}

function f32(x: TensorInfo | null, role: string): string {
  if (x === null) return role + ' is missing or out of range';
  if (x.dtype != DT_F32) return role + " '" + x.name + "' must be F32";
  return '';
}

/** The first of two to four float32 checks that fails, in order ('' when all hold): one line per step's tensors. */
function f32s(
  a: TensorInfo | null,
  ra: string,
  b: TensorInfo | null,
  rb: string,
  c: TensorInfo | null = null,
  rc: string = '',
  d: TensorInfo | null = null,
  rd: string = '',
): string {
  let e = f32(a, ra);
  if (e.length == 0) e = f32(b, rb);
  if (e.length == 0 && rc.length > 0) e = f32(c, rc);
  if (e.length == 0 && rd.length > 0) e = f32(d, rd);
  return e;
}

function writable(y: TensorInfo): string {
  return y.constant ? "output '" + y.name + "' is a constant" : '';
}

/** Checks one training step's contract; '' = ok, else the message (without the step prefix). */
export function checkTrainStep(m: Model, s: StepInfo): string {
  const k = s.kernel;
  const nIn = s.inputs.length,
    nOut = s.outputs.length;
  if (k == K_SOFTMAX_CE) {
    if (nIn != 2 || nOut != 2) return 'needs 2 inputs (logits, labels) and 2 outputs (loss, dlogits)';
    if (s.paramsType != P_TRAIN) return 'expects TrainParams';
    const x = t(m, s.inputs, 0),
      lab = t(m, s.inputs, 1),
      loss = t(m, s.outputs, 0),
      dx = t(m, s.outputs, 1);
    let e = f32s(x, 'logits', loss, 'loss', dx, 'dlogits');
    if (e.length > 0) return e;
    if (lab === null || lab.dtype != DT_I32) return 'labels must be I32';
    if (x!.shape.length != 2) return 'logits must be [M,N]';
    if (<u64>lab.elems != <u64>x!.shape[0])
      return 'labels have ' + lab.elems.toString() + ' elements for ' + x!.shape[0].toString() + ' rows';
    if (loss!.elems != 1 || dx!.elems != x!.elems) return 'loss must hold 1 element and dlogits as many as the logits';
    const p = s.p;
    if (!(p.labelSmoothing >= 0 && p.labelSmoothing < 1)) return 'label_smoothing must be in [0, 1)';
    e = writable(loss!);
    if (e.length > 0) return e;
    return writable(dx!);
  }
  if (k == K_UNARY_GRAD) {
    if (nIn != 2 || nOut != 1) return 'needs 2 inputs (y, dy) and 1 output';
    if (s.paramsType != P_UNARY) return 'expects UnaryParams';
    const op = s.p.op;
    if (
      op != U_RELU &&
      op != U_CLIP &&
      op != U_SIGMOID &&
      op != U_TANH &&
      op != U_EXP &&
      op != U_LEAKY &&
      op != U_HARDSWISH
    )
      return 'no gradient for unary op ' + op.toString();
    if (op == U_LEAKY && !(s.p.alpha > 0)) return 'LeakyRelu gradient from the output needs alpha > 0';
    const y = t(m, s.inputs, 0),
      dy = t(m, s.inputs, 1),
      dx = t(m, s.outputs, 0);
    let e = f32s(y, 'y', dy, 'dy', dx, 'dx');
    if (e.length > 0) return e;
    if (y!.elems != dy!.elems || dx!.elems != y!.elems) return 'y, dy and dx differ in element count';
    return writable(dx!);
  }
  if (k == K_REDUCE_SUM) {
    if (nIn != 1 || nOut != 1) return 'needs 1 input and 1 output';
    if (s.paramsType != P_SOFTMAX) return 'expects SoftmaxParams (outer, axis, inner)';
    const x = t(m, s.inputs, 0),
      y = t(m, s.outputs, 0);
    let e = f32s(x, 'input', y, 'output');
    if (e.length > 0) return e;
    const p = s.p;
    if (p.outer < 1 || p.axis < 1 || p.inner < 1 || <u64>p.outer * <u64>p.axis * <u64>p.inner != x!.elems)
      return 'outer x axis x inner does not cover the input';
    if (<u64>p.outer * <u64>p.inner != y!.elems) return 'output must hold outer x inner elements';
    return writable(y!);
  }
  if (k == K_SGD_UPDATE) {
    if (nIn != 4) return 'needs 4 inputs (w, g, v or -1, lr)';
    if (s.paramsType != P_TRAIN) return 'expects TrainParams';
    const w = t(m, s.inputs, 0),
      g = t(m, s.inputs, 1),
      v = t(m, s.inputs, 2),
      lr = t(m, s.inputs, 3);
    let e = f32s(w, 'w', g, 'g', lr, 'lr');
    if (e.length > 0) return e;
    if (lr!.elems != 1) return 'lr must hold 1 element';
    if (g!.elems != w!.elems) return 'w and g differ in element count';
    const hasV = s.inputs[2] >= 0;
    if (hasV) {
      e = f32(v, 'v');
      if (e.length > 0) return e;
      if (v!.elems != w!.elems) return 'w and v differ in element count';
    }
    if (nOut != (hasV ? 2 : 1)) return 'outputs must be w (and v when present)';
    // updates are in place: each output is its input's bytes (the compiler aliases them)
    const wo = t(m, s.outputs, 0);
    if (wo === null || wo.ptr != w!.ptr || wo.size != w!.size) return 'output 0 must be the same bytes as w';
    e = writable(wo);
    if (e.length > 0) return e;
    if (hasV) {
      const vo = t(m, s.outputs, 1);
      if (vo === null || vo.ptr != v!.ptr || vo.size != v!.size) return 'output 1 must be the same bytes as v';
      e = writable(vo);
      if (e.length > 0) return e;
    }
    return '';
  }
  if (k == K_CONV_GRAD_INPUT || k == K_CONV_GRAD_FILTER) {
    if (nIn != 2 || nOut != 1) return 'needs 2 inputs and 1 output';
    if (s.paramsType != P_CONV) return 'expects ConvParams';
    const gi = k == K_CONV_GRAD_INPUT;
    // GradInput: (dy, w) -> dx; GradFilter: (x, dy) -> dw
    const a = t(m, s.inputs, 0),
      b = t(m, s.inputs, 1),
      o = t(m, s.outputs, 0);
    let e = f32s(a, 'input 0', b, 'input 1', o, 'output');
    if (e.length > 0) return e;
    const x = gi ? o! : a!,
      dy = gi ? a! : b!,
      w = gi ? b! : o!;
    e = checkWindow(s, x, dy, true);
    if (e.length > 0) return e;
    const G = s.p.groups,
      Ci = x.shape[3],
      Co = dy.shape[3];
    if (Ci % G != 0 || Co % G != 0)
      return 'groups ' + G.toString() + ' do not divide channels ' + Ci.toString() + ' and ' + Co.toString();
    if (w.shape.length != 4 || w.shape[0] != Co || w.shape[1] != s.p.kh || w.shape[2] != s.p.kw || w.shape[3] != Ci / G)
      return 'weights ' + dims(w) + ' are not OHWI [Co,KH,KW,Ci/G]';
    return writable(o!);
  }
  if (k == K_MAXPOOL_GRAD || k == K_AVGPOOL_GRAD) {
    const isMax = k == K_MAXPOOL_GRAD;
    if (nIn != (isMax ? 2 : 1) || nOut != 1)
      return isMax ? 'needs 2 inputs (x, dy) and 1 output' : 'needs 1 input (dy) and 1 output';
    if (s.paramsType != P_POOL) return 'expects PoolParams';
    const dy = t(m, s.inputs, isMax ? 1 : 0),
      dx = t(m, s.outputs, 0);
    let e = f32s(dy, 'dy', dx, 'dx');
    if (e.length > 0) return e;
    if (isMax) {
      const x = t(m, s.inputs, 0);
      e = f32(x, 'x');
      if (e.length > 0) return e;
      if (x!.elems != dx!.elems) return 'x and dx differ in element count';
    }
    const p = s.p;
    if (p.pt >= p.kh || p.pb >= p.kh || p.pl >= p.kw || p.pr >= p.kw) return 'padding must be smaller than the window';
    e = checkWindow(s, dx!, dy!, false);
    if (e.length > 0) return e;
    if (dy!.shape[3] != dx!.shape[3]) return 'dy and dx differ in channels';
    return writable(dx!);
  }
  if (k == K_ADAM_UPDATE) {
    if (nIn != 6 || nOut != 3) return 'needs 6 inputs (w, g, m, v, lr, step) and 3 outputs (w, m, v)';
    if (s.paramsType != P_TRAIN) return 'expects TrainParams';
    const p = s.p;
    if (!(p.beta1 >= 0 && p.beta1 < 1 && p.beta2 >= 0 && p.beta2 < 1 && p.epsilon > 0))
      return 'needs beta1, beta2 in [0, 1) and epsilon > 0';
    const w = t(m, s.inputs, 0);
    let e = f32(w, 'w');
    if (e.length > 0) return e;
    for (let i = 1; i < 6; i++) {
      const x = t(m, s.inputs, i);
      e = f32(x, 'input ' + i.toString());
      if (e.length > 0) return e;
      if (i < 4 && x!.elems != w!.elems)
        return 'input ' + i.toString() + " '" + x!.name + "' differs from w in element count";
      if (i >= 4 && x!.elems != 1) return 'lr and step must hold 1 element';
    }
    // updates are in place: output k is the bytes of input 0, 2, 3 (w, m, v)
    for (let k2 = 0; k2 < 3; k2++) {
      const src = t(m, s.inputs, k2 == 0 ? 0 : k2 + 1)!,
        o = t(m, s.outputs, k2);
      if (o === null || o.ptr != src.ptr || o.size != src.size)
        return 'output ' + k2.toString() + ' must be the same bytes as ' + (k2 == 0 ? 'w' : k2 == 1 ? 'm' : 'v');
      e = writable(o);
      if (e.length > 0) return e;
    }
    return '';
  }
  if (k == K_GLOBAL_NORM_SCALE) {
    if (nIn < 1 || nOut != 1) return 'needs >= 1 inputs and 1 output';
    if (s.paramsType != P_TRAIN) return 'expects TrainParams';
    if (!(s.p.maxNorm > 0)) return 'max_norm must be > 0';
    for (let i = 0; i < nIn; i++) {
      const e = f32(t(m, s.inputs, i), 'input ' + i.toString());
      if (e.length > 0) return e;
    }
    const o = t(m, s.outputs, 0);
    const e = f32(o, 'scale');
    if (e.length > 0) return e;
    if (o!.elems != 1) return 'scale must hold 1 element';
    return writable(o!);
  }
  if (k == K_MSE_LOSS || k == K_KL_DIV) {
    if (nIn != 2 || nOut != 2) return 'needs 2 inputs and 2 outputs (loss, gradient)';
    if (s.paramsType != P_TRAIN) return 'expects TrainParams';
    const a = t(m, s.inputs, 0),
      b = t(m, s.inputs, 1),
      loss = t(m, s.outputs, 0),
      d = t(m, s.outputs, 1);
    let e = f32s(a, 'input 0', b, 'input 1', loss, 'loss', d, 'gradient');
    if (e.length > 0) return e;
    if (a!.elems != b!.elems || d!.elems != a!.elems || loss!.elems != 1)
      return 'inputs and gradient must match in element count, loss hold 1';
    if (k == K_KL_DIV && (a!.shape.length != 2 || !(s.p.temperature > 0)))
      return 'needs logits [M,N] and temperature > 0';
    e = writable(loss!);
    if (e.length > 0) return e;
    return writable(d!);
  }
  if (k == K_RKD_DISTANCE || k == K_RKD_ANGLE) {
    if (nIn != 2 || nOut != 2) return 'needs 2 inputs (student, teacher embeddings) and 2 outputs (loss, dstudent)';
    if (s.paramsType != P_TRAIN) return 'expects TrainParams';
    const a = t(m, s.inputs, 0),
      b = t(m, s.inputs, 1),
      loss = t(m, s.outputs, 0),
      d = t(m, s.outputs, 1);
    let e = f32s(a, 'student embeddings', b, 'teacher embeddings', loss, 'loss', d, 'dstudent');
    if (e.length > 0) return e;
    if (a!.shape.length != 2 || b!.shape.length != 2 || a!.shape[0] != b!.shape[0] || a!.shape[0] < 2) {
      return 'needs embeddings [B,D] and [B,E] of one batch B >= 2, found ' + dims(a!) + ' and ' + dims(b!);
    }
    if (loss!.elems != 1 || d!.elems != a!.elems)
      return 'needs loss [1] and dstudent shaped like the student embeddings';
    e = writable(loss!);
    if (e.length > 0) return e;
    return writable(d!);
  }
  if (k == K_FAKE_QUANT || k == K_FAKE_QUANT_GRAD || k == K_FAKE_QUANT_WEIGHT) {
    const nI: i32 = k == K_FAKE_QUANT ? 2 : k == K_FAKE_QUANT_GRAD ? 3 : 1,
      nO: i32 = k == K_FAKE_QUANT ? 2 : 1;
    if (nIn != nI || nOut != nO) return 'needs ' + nI.toString() + ' inputs and ' + nO.toString() + ' outputs';
    if (s.paramsType != P_TRAIN) return 'expects TrainParams';
    const x = t(m, s.inputs, 0),
      y = t(m, s.outputs, 0);
    let e = f32s(x, 'input 0', y, 'output 0');
    if (e.length > 0) return e;
    if (y!.elems != x!.elems) return 'output 0 must have the elements of input 0';
    if (k == K_FAKE_QUANT_WEIGHT && (x!.shape.length < 2 || x!.shape[0] < 1)) return 'needs weights [channels, ...]';
    if (k != K_FAKE_QUANT_WEIGHT) {
      const r = t(m, s.inputs, 1);
      e = f32(r, 'range');
      if (e.length > 0) return e;
      if (r!.elems != 2) return 'range must be [2] (min, max)';
      if (k == K_FAKE_QUANT) {
        if (!(s.p.momentum >= 0 && s.p.momentum <= 1)) return 'momentum must be in [0, 1]';
        const r2 = t(m, s.outputs, 1);
        if (r2 === null || r2.ptr != r!.ptr) return "output 1 must be the range's bytes (in place)";
      } else {
        const dy = t(m, s.inputs, 2);
        e = f32(dy, 'dy');
        if (e.length > 0) return e;
        if (dy!.elems != x!.elems) return 'dy must have the elements of x';
      }
    }
    return writable(y!);
  }
  if (k == K_FAKE_QUANT_BIAS) {
    if (nIn != 3 || nOut != 1) return 'needs 3 inputs (bias, weights, input range) and 1 output';
    if (s.paramsType != P_TRAIN) return 'expects TrainParams';
    const b = t(m, s.inputs, 0),
      w = t(m, s.inputs, 1),
      r = t(m, s.inputs, 2),
      y = t(m, s.outputs, 0);
    let e = f32s(b, 'bias', w, 'weights', r, 'range', y, 'output');
    if (e.length > 0) return e;
    if (
      b!.shape.length != 1 ||
      w!.shape.length < 2 ||
      w!.shape[0] != b!.shape[0] ||
      r!.elems != 2 ||
      y!.elems != b!.elems
    ) {
      return 'needs bias [C], weights [C, ...], range [2] and an output like the bias';
    }
    return writable(y!);
  }
  if (k == K_BN_TRAIN || k == K_BN_GRAD) return checkBatchNorm(m, s, k == K_BN_TRAIN);
  if (k == K_BN_MERGE) return checkBatchNormMerge(m, s);
  if (k == K_BN_EVAL) return checkBatchNormEval(m, s);
  return 'unknown kernel id ' + k.toString();
}

/** BatchNormMerge: shard means, shard vars [S, C], rmean, rvar [C], rows [1] -> rmean, rvar (the same bytes). */
function checkBatchNormMerge(m: Model, s: StepInfo): string {
  if (s.inputs.length != 5 || s.outputs.length != 2)
    return 'needs 5 inputs (shard means, shard vars, rmean, rvar, rows) and 2 outputs (rmean, rvar)';
  if (s.paramsType != P_TRAIN) return 'expects TrainParams';
  for (let i = 0; i < 5; i++) {
    const e = f32(t(m, s.inputs, i), 'input ' + i.toString());
    if (e.length > 0) return e;
  }
  const C = t(m, s.inputs, 2)!.elems;
  const all = t(m, s.inputs, 0)!.elems;
  if (C < 1 || all < C || all % C != 0 || t(m, s.inputs, 1)!.elems != all || t(m, s.inputs, 3)!.elems != C)
    return 'needs shard means and vars of S x C elements and rmean, rvar of C';
  if (t(m, s.inputs, 4)!.elems != 1) return 'rows must hold 1 element';
  for (let i = 0; i < 2; i++) {
    const o = t(m, s.outputs, i)!;
    const src = t(m, s.inputs, i + 2)!;
    if (o.ptr != src.ptr || o.size != src.size)
      return 'output ' + i.toString() + ' must be the same bytes as ' + (i == 0 ? 'rmean' : 'rvar');
    const e = writable(o);
    if (e.length > 0) return e;
  }
  if (!(s.p.momentum >= 0 && s.p.momentum <= 1)) return 'needs momentum in [0, 1]';
  return '';
}

/** BatchNormEval: x [.., C], gamma, beta, rmean, rvar [C] -> y like x. */
function checkBatchNormEval(m: Model, s: StepInfo): string {
  if (s.inputs.length != 5 || s.outputs.length != 1) return 'needs 5 inputs (x, gamma, beta, rmean, rvar) and 1 output';
  if (s.paramsType != P_TRAIN) return 'expects TrainParams';
  const x = t(m, s.inputs, 0);
  let e = f32(x, 'x');
  if (e.length > 0) return e;
  if (x!.shape.length < 1) return 'x must have rank >= 1';
  const C = x!.shape[x!.shape.length - 1];
  for (let i = 1; i < 5; i++) {
    e = f32(t(m, s.inputs, i), 'input ' + i.toString());
    if (e.length > 0) return e;
    if (t(m, s.inputs, i)!.elems != <u64>C) return 'input ' + i.toString() + ' must hold ' + C.toString() + ' elements';
  }
  const y = t(m, s.outputs, 0);
  e = f32(y, 'y');
  if (e.length > 0) return e;
  if (y!.elems != x!.elems) return 'y must hold as many elements as x';
  if (!(s.p.epsilon >= 0)) return 'needs epsilon >= 0';
  return writable(y!);
}

/** BatchNormTrain: x, gamma, beta, rmean, rvar -> y, mean, invstd, rmean, rvar (in place); BatchNormGrad: x, dy,
 *  gamma, mean, invstd -> dx, dgamma, dbeta. x's last axis is the channels, every per-channel tensor holds C. */
function checkBatchNorm(m: Model, s: StepInfo, fwd: bool): string {
  if (s.inputs.length != 5 || s.outputs.length != (fwd ? 5 : 3))
    return fwd
      ? 'needs 5 inputs (x, gamma, beta, rmean, rvar) and 5 outputs'
      : 'needs 5 inputs (x, dy, gamma, mean, invstd) and 3 outputs';
  if (s.paramsType != P_TRAIN) return 'expects TrainParams';
  const x = t(m, s.inputs, 0);
  let e = f32(x, 'x');
  if (e.length > 0) return e;
  if (x!.shape.length < 1) return 'x must have rank >= 1';
  const C = x!.shape[x!.shape.length - 1];
  if (C < 1 || x!.elems / <u64>C < 2) return 'x ' + dims(x!) + ' needs more than one value per channel';
  for (let i = 1; i < 5; i++) {
    const v = t(m, s.inputs, i);
    e = f32(v, 'input ' + i.toString());
    if (e.length > 0) return e;
    const full = !fwd && i == 1;
    if (v!.elems != (full ? x!.elems : <u64>C))
      return (
        'input ' +
        i.toString() +
        " '" +
        v!.name +
        "' must hold " +
        (full ? 'as many elements as x' : C.toString() + ' elements')
      );
  }
  for (let i = 0; i < s.outputs.length; i++) {
    const o = t(m, s.outputs, i);
    e = f32(o, 'output ' + i.toString());
    if (e.length > 0) return e;
    if (o!.elems != (i == 0 ? x!.elems : <u64>C))
      return 'output ' + i.toString() + " '" + o!.name + "' has the wrong element count";
    e = writable(o!);
    if (e.length > 0) return e;
    if (fwd && i >= 3) {
      const src = t(m, s.inputs, i)!;
      if (o!.ptr != src.ptr || o!.size != src.size)
        return 'output ' + i.toString() + ' must be the same bytes as ' + (i == 3 ? 'rmean' : 'rvar');
    }
  }
  if (fwd && !(s.p.momentum >= 0 && s.p.momentum <= 1 && s.p.epsilon >= 0))
    return 'needs momentum in [0, 1] and epsilon >= 0';
  return '';
}
