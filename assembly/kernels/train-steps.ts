// The training steps (KernelId 29..42, 60.., 90..91, docs/training.md): their dispatch to the fast kernels or the
// reference twins, hooked from executor.ts. Their load-time contract checks are train-checks.ts (bundle/validate.ts).
import {
  Model,
  StepInfo,
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
import { fakeQuantF32, fakeQuantGradF32, fakeQuantWeightF32, fakeQuantBiasF32 } from './train/f32-fake-quant';
import { refFakeQuant, refFakeQuantGrad, refFakeQuantWeight, refFakeQuantBias } from '../reference/fake-quant';
import { rkdDistanceF32, rkdAngleF32 } from './train/f32-rkd';
import { refRkdDistance, refRkdAngle } from '../reference/rkd';
import { softmaxCrossEntropyF32, unaryGradF32, reduceSumF32, sgdUpdateF32 } from './train/f32-train';
import { conv2dGradInputF32, conv2dGradFilterF32, maxPoolGradF32, avgPoolGradF32 } from './train/f32-conv-grad';
import { adamUpdateF32, globalNormScaleF32, mseLossF32, klDivergenceF32 } from './train/f32-optim';
import { batchNormTrainF32, batchNormGradF32, batchNormMergeF32, batchNormEvalF32 } from './train/f32-batchnorm';
import {
  refSoftmaxCrossEntropy,
  refUnaryGrad,
  refReduceSum,
  refSgdUpdate,
  refConv2dGradInput,
  refConv2dGradFilter,
  refMaxPoolGrad,
  refAvgPoolGrad,
  refAdamUpdate,
  refGlobalNormScale,
  refMseLoss,
  refKlDivergence,
  refBatchNormTrain,
  refBatchNormGrad,
  refBatchNormMerge,
  refBatchNormEval,
} from '../reference/train';

/** Runs one validated training step; −1 = ok, else (SoftmaxCrossEntropy) the row whose label is out of range. */
export function runTrainStep(m: Model, s: StepInfo, ref: bool): i32 {
  const p = s.p;
  const k = s.kernel;
  const x = m.tensors[s.inputs[0]];
  if (k == K_SOFTMAX_CE) {
    const lab = m.tensors[s.inputs[1]].ptr,
      loss = m.tensors[s.outputs[0]].ptr,
      dx = m.tensors[s.outputs[1]].ptr;
    const M = x.shape[0],
      N = x.shape[1];
    return ref
      ? refSoftmaxCrossEntropy(x.ptr, lab, loss, dx, M, N, p.labelSmoothing)
      : softmaxCrossEntropyF32(x.ptr, lab, loss, dx, M, N, p.labelSmoothing);
  }
  if (k == K_UNARY_GRAD) {
    const dy = m.tensors[s.inputs[1]].ptr,
      dx = m.tensors[s.outputs[0]].ptr;
    if (ref) refUnaryGrad(x.ptr, dy, dx, <i32>x.elems, p.op, p.alpha, p.beta);
    else unaryGradF32(x.ptr, dy, dx, <i32>x.elems, p.op, p.alpha, p.beta);
  } else if (k == K_REDUCE_SUM) {
    const y = m.tensors[s.outputs[0]].ptr;
    if (ref) refReduceSum(x.ptr, y, p.outer, p.axis, p.inner);
    else reduceSumF32(x.ptr, y, p.outer, p.axis, p.inner);
  } else if (k == K_CONV_GRAD_INPUT) {
    const w = m.tensors[s.inputs[1]].ptr,
      dx = m.tensors[s.outputs[0]];
    const d = dx.shape,
      o = x.shape;
    if (ref) refConv2dGradInput(x.ptr, w, dx.ptr, d[0], d[1], d[2], d[3], o[1], o[2], o[3], p);
    else conv2dGradInputF32(x.ptr, w, dx.ptr, d[0], d[1], d[2], d[3], o[1], o[2], o[3], p);
  } else if (k == K_CONV_GRAD_FILTER) {
    const dy = m.tensors[s.inputs[1]],
      dw = m.tensors[s.outputs[0]].ptr;
    const d = x.shape,
      o = dy.shape;
    if (ref) refConv2dGradFilter(x.ptr, dy.ptr, dw, d[0], d[1], d[2], d[3], o[1], o[2], o[3], p);
    else conv2dGradFilterF32(x.ptr, dy.ptr, dw, d[0], d[1], d[2], d[3], o[1], o[2], o[3], p);
  } else if (k == K_MAXPOOL_GRAD) {
    const dy = m.tensors[s.inputs[1]],
      dx = m.tensors[s.outputs[0]].ptr;
    const d = x.shape,
      o = dy.shape;
    if (ref) refMaxPoolGrad(x.ptr, dy.ptr, dx, d[0], d[1], d[2], d[3], o[1], o[2], p);
    else maxPoolGradF32(x.ptr, dy.ptr, dx, d[0], d[1], d[2], d[3], o[1], o[2], p);
  } else if (k == K_AVGPOOL_GRAD) {
    const dx = m.tensors[s.outputs[0]];
    const d = dx.shape,
      o = x.shape;
    if (ref) refAvgPoolGrad(x.ptr, dx.ptr, d[0], d[1], d[2], d[3], o[1], o[2], p);
    else avgPoolGradF32(x.ptr, dx.ptr, d[0], d[1], d[2], d[3], o[1], o[2], p);
  } else if (k == K_ADAM_UPDATE) {
    const g = s.inPtrs[1],
      mp = s.inPtrs[2],
      vp = s.inPtrs[3],
      lr = s.inPtrs[4],
      st = s.inPtrs[5];
    if (ref)
      refAdamUpdate(x.ptr, g, mp, vp, lr, st, <i32>x.elems, p.beta1, p.beta2, p.epsilon, p.weightDecay, p.decoupled);
    else adamUpdateF32(x.ptr, g, mp, vp, lr, st, <i32>x.elems, p.beta1, p.beta2, p.epsilon, p.weightDecay, p.decoupled);
  } else if (k == K_GLOBAL_NORM_SCALE) {
    const sizes = new StaticArray<i32>(s.inputs.length);
    for (let i = 0; i < s.inputs.length; i++) sizes[i] = <i32>m.tensors[s.inputs[i]].elems;
    const o = m.tensors[s.outputs[0]].ptr;
    if (ref) refGlobalNormScale(s.inPtrs, sizes, o, p.maxNorm);
    else globalNormScaleF32(s.inPtrs, sizes, o, p.maxNorm);
  } else if (k == K_MSE_LOSS) {
    const tp = m.tensors[s.inputs[1]].ptr,
      loss = m.tensors[s.outputs[0]].ptr,
      d = m.tensors[s.outputs[1]].ptr;
    if (ref) refMseLoss(x.ptr, tp, loss, d, <i32>x.elems);
    else mseLossF32(x.ptr, tp, loss, d, <i32>x.elems);
  } else if (k == K_KL_DIV) {
    const tp = m.tensors[s.inputs[1]].ptr,
      loss = m.tensors[s.outputs[0]].ptr,
      d = m.tensors[s.outputs[1]].ptr;
    if (ref) refKlDivergence(x.ptr, tp, loss, d, x.shape[0], x.shape[1], p.temperature);
    else klDivergenceF32(x.ptr, tp, loss, d, x.shape[0], x.shape[1], p.temperature);
  } else if (k == K_RKD_DISTANCE || k == K_RKD_ANGLE) {
    const tt = m.tensors[s.inputs[1]],
      loss = m.tensors[s.outputs[0]].ptr,
      d = m.tensors[s.outputs[1]].ptr;
    const B = x.shape[0],
      D = x.shape[1],
      E = tt.shape[1];
    if (k == K_RKD_DISTANCE) {
      if (ref) refRkdDistance(x.ptr, tt.ptr, loss, d, B, D, E);
      else rkdDistanceF32(x.ptr, tt.ptr, loss, d, B, D, E);
    } else if (ref) refRkdAngle(x.ptr, tt.ptr, loss, d, B, D, E);
    else rkdAngleF32(x.ptr, tt.ptr, loss, d, B, D, E);
  } else if (k == K_FAKE_QUANT) {
    const r = m.tensors[s.inputs[1]].ptr,
      y = m.tensors[s.outputs[0]].ptr;
    if (ref) refFakeQuant(x.ptr, r, y, <i32>x.elems, p.momentum);
    else fakeQuantF32(x.ptr, r, y, <i32>x.elems, p.momentum);
  } else if (k == K_FAKE_QUANT_GRAD) {
    const r = m.tensors[s.inputs[1]].ptr,
      dy = m.tensors[s.inputs[2]].ptr,
      dx = m.tensors[s.outputs[0]].ptr;
    if (ref) refFakeQuantGrad(x.ptr, r, dy, dx, <i32>x.elems);
    else fakeQuantGradF32(x.ptr, r, dy, dx, <i32>x.elems);
  } else if (k == K_FAKE_QUANT_WEIGHT) {
    const y = m.tensors[s.outputs[0]].ptr,
      C = x.shape[0];
    if (ref) refFakeQuantWeight(x.ptr, y, C, <i32>x.elems / C);
    else fakeQuantWeightF32(x.ptr, y, C, <i32>x.elems / C);
  } else if (k == K_FAKE_QUANT_BIAS) {
    const w = m.tensors[s.inputs[1]],
      r = m.tensors[s.inputs[2]].ptr,
      y = m.tensors[s.outputs[0]].ptr,
      C = x.shape[0];
    if (ref) refFakeQuantBias(x.ptr, w.ptr, r, y, C, <i32>w.elems / C);
    else fakeQuantBiasF32(x.ptr, w.ptr, r, y, C, <i32>w.elems / C);
  } else if (k == K_BN_TRAIN) {
    const C = x.shape[x.shape.length - 1],
      M = <i32>(x.elems / <u64>C),
      ip = s.inPtrs;
    const y = m.tensors[s.outputs[0]].ptr,
      mean = m.tensors[s.outputs[1]].ptr,
      inv = m.tensors[s.outputs[2]].ptr;
    if (ref) refBatchNormTrain(x.ptr, ip[1], ip[2], ip[3], ip[4], y, mean, inv, M, C, p.epsilon, p.momentum);
    else batchNormTrainF32(x.ptr, ip[1], ip[2], ip[3], ip[4], y, mean, inv, M, C, p.epsilon, p.momentum);
  } else if (k == K_BN_GRAD) {
    const C = x.shape[x.shape.length - 1],
      M = <i32>(x.elems / <u64>C),
      ip = s.inPtrs;
    const dx = m.tensors[s.outputs[0]].ptr,
      dg = m.tensors[s.outputs[1]].ptr,
      db = m.tensors[s.outputs[2]].ptr;
    if (ref) refBatchNormGrad(x.ptr, ip[1], ip[2], ip[3], ip[4], dx, dg, db, M, C);
    else batchNormGradF32(x.ptr, ip[1], ip[2], ip[3], ip[4], dx, dg, db, M, C);
  } else if (k == K_BN_MERGE) {
    const C = <i32>m.tensors[s.inputs[2]].elems,
      S = <i32>(x.elems / <u64>C),
      ip = s.inPtrs;
    if (ref) refBatchNormMerge(x.ptr, ip[1], ip[2], ip[3], ip[4], S, C, p.momentum);
    else batchNormMergeF32(x.ptr, ip[1], ip[2], ip[3], ip[4], S, C, p.momentum);
  } else if (k == K_BN_EVAL) {
    const C = x.shape[x.shape.length - 1],
      M = <i32>(x.elems / <u64>C),
      ip = s.inPtrs,
      y = m.tensors[s.outputs[0]].ptr;
    if (ref) refBatchNormEval(x.ptr, ip[1], ip[2], ip[3], ip[4], y, M, C, p.epsilon);
    else batchNormEvalF32(x.ptr, ip[1], ip[2], ip[3], ip[4], y, M, C, p.epsilon);
  } else if (k == K_SGD_UPDATE) {
    const g = m.tensors[s.inputs[1]].ptr,
      v = s.inputs[2] >= 0 ? m.tensors[s.inputs[2]].ptr : 0,
      lr = m.tensors[s.inputs[3]].ptr;
    if (ref) refSgdUpdate(x.ptr, g, v, lr, <i32>x.elems, p.momentum, p.nesterov, p.weightDecay);
    else sgdUpdateF32(x.ptr, g, v, lr, <i32>x.elems, p.momentum, p.nesterov, p.weightDecay);
  }
  return -1;
}
