// BatchNorm (inference form): y = (x − mean[c]) / √(var[c] + ε) · scale[c] + bias[c] over the last axis (channels).
// Float only: the fold-batchnorm pass folds it into the preceding Conv2D/Dense before quantisation.
// Training (compiler/train): BatchNormTrain normalises with the batch's statistics over the M = N·H·W rows of
// each channel and updates the running mean/var (PyTorch's convention); BatchNormGrad is its backward. Both are
// training-only; they lower to BatchNormTrain_F32 / BatchNormGrad_F32 (summation orders in
// assembly/kernels/train/f32-batchnorm.ts). A frozen BatchNorm trains as the fold pass's fixed affine x·s + shift.
import { numElements, type Tensor } from '../graph.ts';
import { attrNum, fail, fmt, lastAxis, need, same } from './helpers.ts';
import type { OpDef, TypeInfo } from './op-def.ts';

function checkChannels(
  n: Parameters<OpDef['infer']>[0],
  ins: (Tensor | undefined)[],
  file: string,
  names: string[],
  from: number,
): number {
  const x = need(n, ins, 0, file, 'x');
  if (x.shape.length < 1) fail(file, n, `input must have rank ≥ 1`);
  const c = x.shape[x.shape.length - 1]!;
  names.forEach((what, i) => {
    const t = need(n, ins, i + from, file, what);
    if (numElements(t.shape) !== c) fail(file, n, `${what} ${fmt(t.shape)} does not match channels ${c} (last axis)`);
  });
  return c;
}

export const batchNorm: OpDef = {
  schema: { inputs: [5, 5], outputs: 1, attrs: { epsilon: { kind: 'float', default: 1e-5 } } },
  infer(n, ins, file) {
    checkChannels(n, ins, file, ['scale', 'bias', 'mean', 'var'], 1);
    return same(ins);
  },
  channelFlow: (_n, ins) => ({
    kind: 'elementwise',
    data: [0],
    params: [1, 2, 3, 4].map((i) => ({ input: i, axis: lastAxis(ins[i]!) })),
  }),
  evaluate(n, ins) {
    const x = ins[0]!;
    const [sc, bi, me, va] = [ins[1]!.data, ins[2]!.data, ins[3]!.data, ins[4]!.data];
    const eps = attrNum(n, 'epsilon', 1e-5);
    const c = x.shape[x.shape.length - 1]!;
    return [
      x.data.map((v, i) => {
        const k = i % c;
        return ((v - me[k]!) / Math.sqrt(va[k]! + eps)) * sc[k]! + bi[k]!;
      }),
    ];
  },
};

/** Per-channel batch statistics of x viewed [M, C]: mean and biased variance (float64, the reference's). */
function batchStats(x: Float64Array, c: number): { mean: Float64Array; vr: Float64Array; m: number } {
  const m = x.length / c;
  const mean = new Float64Array(c),
    vr = new Float64Array(c);
  for (let i = 0; i < x.length; i++) mean[i % c]! += x[i]!;
  for (let k = 0; k < c; k++) mean[k]! /= m;
  for (let i = 0; i < x.length; i++) vr[i % c]! += (x[i]! - mean[i % c]!) ** 2;
  for (let k = 0; k < c; k++) vr[k]! /= m;
  return { mean, vr, m };
}

/**
 * BatchNormTrain: x [..., C], gamma, beta, runMean, runVar [C]; attrs epsilon, momentum (PyTorch's: new =
 * (1 − momentum)·old + momentum·batch) → y, batch mean, invStd = 1/√(var + ε) (biased variance), runMean',
 * runVar' (the unbiased variance M/(M − 1)·var, as PyTorch). The running outputs are views of the running
 * inputs (state tensors) in the bundle.
 */
export const batchNormTrain: OpDef = {
  schema: {
    inputs: [5, 5],
    outputs: 5,
    attrs: { epsilon: { kind: 'float', default: 1e-5 }, momentum: { kind: 'float', default: 0.1 } },
  },
  trainingOnly: true,
  infer(n, ins, file) {
    const c = checkChannels(n, ins, file, ['gamma', 'beta', 'running mean', 'running var'], 1);
    const x = ins[0]!;
    if (ins.some((t) => t!.dtype !== 'float32')) fail(file, n, `x and the per-channel tensors must be float32`);
    if (numElements(x.shape) / c < 2)
      fail(file, n, `batch statistics need more than one value per channel, found x ${fmt(x.shape)}`);
    const mom = attrNum(n, 'momentum', 0.1);
    if (!(mom >= 0 && mom <= 1)) fail(file, n, `momentum must be in [0, 1], found ${mom}`);
    const perC: TypeInfo = { shape: [c], dtype: 'float32' };
    return [
      { shape: [...x.shape], dtype: 'float32' },
      perC,
      perC,
      { ...perC, shape: [...ins[3]!.shape] },
      { ...perC, shape: [...ins[4]!.shape] },
    ];
  },
  evaluate(n, ins) {
    const x = ins[0]!.data,
      [ga, be, rm, rv] = [ins[1]!.data, ins[2]!.data, ins[3]!.data, ins[4]!.data];
    const c = ga.length,
      eps = attrNum(n, 'epsilon', 1e-5),
      mom = attrNum(n, 'momentum', 0.1);
    const { mean, vr, m } = batchStats(x, c);
    const inv = vr.map((v) => 1 / Math.sqrt(v + eps));
    const y = x.map((v, i) => (v - mean[i % c]!) * inv[i % c]! * ga[i % c]! + be[i % c]!);
    return [
      y,
      mean,
      inv,
      rm.map((v, k) => (1 - mom) * v + mom * mean[k]!),
      rv.map((v, k) => (1 - mom) * v + (mom * vr[k]! * m) / (m - 1)),
    ];
  },
  // standard BN backward through the batch statistics; the running statistics carry no gradient
  grad(b, n, dy) {
    const [x, gamma, beta] = n.inputs as [string, string, string];
    if (!b.wants(x) && !b.wants(gamma) && !b.wants(beta)) return [];
    const [dx, dgamma, dbeta] = b.add('BatchNormGrad', [x, dy, gamma, n.outputs[1]!, n.outputs[2]!], {}, 3);
    return [b.wants(x) ? dx : undefined, b.wants(gamma) ? dgamma : undefined, b.wants(beta) ? dbeta : undefined];
  },
};

/**
 * BatchNormGrad: x, dy [..., C], gamma, mean, invStd [C] → dx, dgamma, dbeta. With x̂ = (x − mean)·invStd over
 * the M rows of a channel: dbeta = Σ dy, dgamma = Σ dy·x̂, dx = gamma·invStd·(dy − dbeta/M − x̂·dgamma/M).
 */
export const batchNormGrad: OpDef = {
  schema: { inputs: [5, 5], outputs: 3, attrs: {} },
  trainingOnly: true,
  infer(n, ins, file) {
    checkChannels(n, ins, file, ['gamma', 'mean', 'invStd'], 2);
    const x = ins[0]!,
      dy = need(n, ins, 1, file, 'dy');
    if (dy.shape.join() !== x.shape.join()) fail(file, n, `x ${fmt(x.shape)} and dy ${fmt(dy.shape)} differ`);
    const perC: TypeInfo = { shape: [...ins[2]!.shape], dtype: 'float32' };
    return [{ shape: [...x.shape], dtype: 'float32' }, perC, perC];
  },
  evaluate(_n, ins) {
    const x = ins[0]!.data,
      dy = ins[1]!.data,
      [ga, me, inv] = [ins[2]!.data, ins[3]!.data, ins[4]!.data];
    const c = ga.length,
      m = x.length / c;
    const xh = x.map((v, i) => (v - me[i % c]!) * inv[i % c]!);
    const db = new Float64Array(c),
      dg = new Float64Array(c);
    for (let i = 0; i < x.length; i++) {
      db[i % c]! += dy[i]!;
      dg[i % c]! += dy[i]! * xh[i]!;
    }
    const dx = dy.map((g, i) => ga[i % c]! * inv[i % c]! * (g - db[i % c]! / m - (xh[i]! * dg[i % c]!) / m));
    return [dx, dg, db];
  },
};

/**
 * BatchNormMerge (the data-parallel update, compiler/train/shard.ts): shard means and shard unbiased variances
 * [S, C] of S shards of `rows` rows each (attr), running mean / var [C], rows [1] (the same number, as a constant
 * the kernel reads) → running mean', var' (views of the running inputs). The whole batch's statistics from the
 * shards' (exact: mean of the means; (Σ (rows − 1)·var_s + rows·(mean_s − mean)²) / (S·rows − 1)), then
 * BatchNormTrain's running update with attr momentum. Lowers to BatchNormMerge_F32.
 */
export const batchNormMerge: OpDef = {
  schema: { inputs: [5, 5], outputs: 2, attrs: { momentum: { kind: 'float', default: 0.1 } } },
  trainingOnly: true,
  infer(n, ins, file) {
    const means = need(n, ins, 0, file, 'shard means'),
      vars = need(n, ins, 1, file, 'shard vars');
    const c = numElements(need(n, ins, 2, file, 'running mean').shape);
    if (numElements(need(n, ins, 3, file, 'running var').shape) !== c)
      fail(file, n, `running mean and var must hold the same ${c} channels`);
    if (means.shape.length !== 2 || means.shape[1] !== c || vars.shape.join() !== means.shape.join())
      fail(file, n, `shard means ${fmt(means.shape)} and vars ${fmt(vars.shape)} must both be [S, ${c}]`);
    if (numElements(need(n, ins, 4, file, 'rows').shape) !== 1) fail(file, n, `rows must hold one value`);
    if (ins.some((t) => t!.dtype !== 'float32')) fail(file, n, `every input must be float32`);
    const mom = attrNum(n, 'momentum', 0.1);
    if (!(mom >= 0 && mom <= 1)) fail(file, n, `momentum must be in [0, 1], found ${mom}`);
    return [
      { shape: [...ins[2]!.shape], dtype: 'float32' },
      { shape: [...ins[3]!.shape], dtype: 'float32' },
    ];
  },
  evaluate(n, ins) {
    const [means, vars, rm, rv, rows] = ins.map((t) => t!.data) as Float64Array[];
    const c = rm!.length,
      s = means!.length / c,
      m = rows![0]!,
      mom = attrNum(n, 'momentum', 0.1);
    const mean = new Float64Array(c),
      vr = new Float64Array(c);
    for (let k = 0; k < c; k++) {
      for (let j = 0; j < s; j++) mean[k]! += means![j * c + k]! / s;
      let q = 0;
      for (let j = 0; j < s; j++) q += (m - 1) * vars![j * c + k]! + m * (means![j * c + k]! - mean[k]!) ** 2;
      vr[k] = q / (s * m - 1);
    }
    return [rm!.map((v, k) => (1 - mom) * v + mom * mean[k]!), rv!.map((v, k) => (1 - mom) * v + mom * vr[k]!)];
  },
};
