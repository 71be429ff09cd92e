// Continual distillation's two class-incremental fixes besides the replay buffer itself (docs/distillation.md
// "Continual"): which stored old samples to keep, and weight aligning of the shared head after training.
// - selectReplay: `count` samples of a pool of old-task samples, class-balanced (round robin over the old
//   classes by label, lowest class first), within a class by score, best first (ties: lower index), returned
//   in pool order. 'first' scores by position; 'border' by the previous model's softmax mass (T 1, float64)
//   on the classes outside the old range: the old samples that look most like new classes, where the new
//   classes' logits take old images. 'herding' (iCaRL, Rebuffi et al. 2017): per class, greedily the sample
//   whose feature brings the running mean of the kept ones closest (L2) to the class mean — features the
//   previous model's penultimate ones (the final Dense's input), each L2-normalised, all in float64; ties: lower
//   index. A class is herded only as far as the round robin takes from it.
// - alignHead (Zhao et al. 2020, weight aligning): the rows of the final Dense (weights [N, K], out × in) for
//   the classes outside [from, to) — and their bias — scaled by γ = mean‖w_old row‖ / mean‖w_new row‖ (L2,
//   float64), so every new class's logit is γ × what it was. γ = 1 (no byte changed) when the means are equal.
import { ModelError, type Graph } from '../ir/graph.ts';

export type ReplaySelect = 'first' | 'border' | 'herding';

/** Softmax mass (T 1) outside [from, to) of each row of `logits` [n, classes], in float64. */
export function borderScores(logits: Float32Array, classes: number, old: [number, number]): Float64Array {
  const n = logits.length / classes;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let all = 0,
      outside = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp(row[c]! - max);
      all += e;
      if (c < old[0] || c >= old[1]) outside += e;
    }
    out[i] = outside / all;
  }
  return out;
}

/** Per class (ascending), how many of `count` samples the round robin takes (classes of `sizes` samples). */
export function roundRobinQuotas(sizes: number[], count: number): number[] {
  const take = sizes.map(() => 0);
  let left = Math.min(
    count,
    sizes.reduce((a, b) => a + b, 0),
  );
  for (let r = 0; left > 0; r++)
    sizes.forEach((n, c) => {
      if (r < n && left > 0) (take[c]!++, left--);
    });
  return take;
}

/**
 * Indices (ascending) of `count` pool samples: round robin over the classes present in `labels` (lowest
 * first), each class taking its next best sample by `score` (higher first, ties lower index).
 */
export function selectBalanced(labels: Int32Array, score: ArrayLike<number>, count: number): Uint32Array {
  const queues = byClass(labels).map((q) => q.sort((a, b) => score[b]! - score[a]! || a - b));
  const quotas = roundRobinQuotas(
    queues.map((q) => q.length),
    count,
  );
  return Uint32Array.from(queues.flatMap((q, c) => q.slice(0, quotas[c])).sort((a, b) => a - b));
}

/** Pool indices grouped by label, classes ascending, indices ascending within each. */
function byClass(labels: Int32Array): number[][] {
  const m = new Map<number, number[]>();
  labels.forEach((y, i) => (m.get(y) ?? m.set(y, []).get(y)!).push(i));
  return [...m.keys()].sort((a, b) => a - b).map((k) => m.get(k)!);
}

/**
 * Herding order of the samples `rows` (features [n, dim] row-major), the first `take` of it: step k keeps the
 * sample x minimising ‖μ − (S + φ(x)) / k‖² (μ the mean of the rows' normalised features φ, S the sum of the
 * kept ones), float64, ties lower index.
 */
export function herdingOrder(features: Float32Array, dim: number, rows: number[], take: number): number[] {
  const n = rows.length;
  const phi = new Float64Array(n * dim);
  rows.forEach((r, i) => {
    const f = features.subarray(r * dim, (r + 1) * dim);
    const norm = Math.hypot(...f);
    for (let j = 0; j < dim; j++) phi[i * dim + j] = norm > 0 ? f[j]! / norm : 0;
  });
  const mu = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mu[j]! += phi[i * dim + j]! / n;
  const sum = new Float64Array(dim),
    used = new Uint8Array(n),
    order: number[] = [];
  for (let k = 1; k <= Math.min(take, n); k++) {
    let best = -1,
      bestD = Infinity;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      let d = 0;
      for (let j = 0; j < dim; j++) {
        const e = mu[j]! - (sum[j]! + phi[i * dim + j]!) / k;
        d += e * e;
      }
      if (d < bestD) ((best = i), (bestD = d));
    }
    used[best] = 1;
    order.push(rows[best]!);
    for (let j = 0; j < dim; j++) sum[j]! += phi[best * dim + j]!;
  }
  return order;
}

/**
 * The pool indices `how` keeps (see the header); `logits` are the previous model's on the pool, `features` its
 * penultimate features [pool, dim] (herding only).
 */
export function selectReplay(
  how: ReplaySelect,
  count: number,
  labels: Int32Array,
  logits: Float32Array,
  classes: number,
  old: [number, number],
  features?: { data: Float32Array; dim: number },
): Uint32Array {
  const n = labels.length;
  if (how === 'herding') {
    if (!features) throw new Error('selectReplay: herding needs the features');
    const groups = byClass(labels);
    const quotas = roundRobinQuotas(
      groups.map((q) => q.length),
      count,
    );
    const score = new Float64Array(n).fill(-Infinity);
    groups.forEach((rows, c) =>
      herdingOrder(features.data, features.dim, rows, quotas[c]!).forEach((i, rank) => (score[i] = -rank)),
    );
    return selectBalanced(labels, score, count);
  }
  const score = how === 'border' ? borderScores(logits, classes, old) : Float64Array.from({ length: n }, (_, i) => -i);
  return selectBalanced(labels, score, count);
}

/** The final Dense's weight [N, K] and bias tensors of `g` (the node producing `logits`), refused otherwise. */
export function headOf(g: Graph, logits: string): { weight: string; bias?: string } {
  const n = g.nodes.find((k) => k.outputs.includes(logits));
  const w = n?.op === 'Dense' ? g.tensors.get(n.inputs[1] ?? '') : undefined;
  if (!n || !w?.data || w.shape.length !== 2)
    throw new ModelError(g.source, `output '${logits}'`, 'weight aligning needs logits from a Dense layer');
  const bias = n.inputs[2] && g.tensors.get(n.inputs[2])?.data ? n.inputs[2] : undefined;
  return { weight: n.inputs[1]!, ...(bias && { bias }) };
}

/** Weight aligning in place: new-class rows (and bias) × γ; returns γ (1 and nothing touched when equal). */
export function alignHead(
  w: Float32Array,
  bias: Float32Array | undefined,
  classes: number,
  old: [number, number],
): number {
  const k = w.length / classes;
  const norm = (c: number) => Math.hypot(...w.subarray(c * k, (c + 1) * k));
  const isOld = (c: number) => c >= old[0] && c < old[1];
  let sOld = 0,
    sNew = 0;
  for (let c = 0; c < classes; c++)
    if (isOld(c)) sOld += norm(c);
    else sNew += norm(c);
  const nOld = old[1] - old[0],
    nNew = classes - nOld;
  if (nNew === 0 || sNew === 0) return 1;
  const gamma = sOld / nOld / (sNew / nNew);
  if (gamma === 1) return 1;
  for (let c = 0; c < classes; c++) {
    if (isOld(c)) continue;
    for (let j = c * k; j < (c + 1) * k; j++) w[j] = w[j]! * gamma;
    if (bias) bias[c] = bias[c]! * gamma;
  }
  return gamma;
}
