// --importance taylor: first-order Taylor estimate of the loss change when a unit goes (Molchanov et al.
// 2019, on the weights that read it). Pruning a unit zeroes its consumers' columns (columns.ts), so the
// loss change is ≈ −Σ_{w in those columns} w·∂L/∂w: exact to first order, for residual, concat and
// flatten groups alike. Per batch of calibration data the sum s is taken (labels given, or the model's
// own argmax); a unit's score is the mean of s² over batches. Gradients come from edgec's training
// engine: the training graph of the model (softmax cross-entropy, BatchNorm frozen at its running
// statistics, SGD) with every weight gradient as an extra output, run on the simd build at lr = 0.
import { load } from '../../runtime/node.ts';
import { compileGraph } from '../compile.ts';
import { ModelError, type Graph } from '../ir/graph.ts';
import { buildTrainingGraph, withBatch } from '../train/training-graph.ts';
import { columnSum, consumerColumns } from './columns.ts';
import type { DepGraph, DepGroup } from './groups.ts';

export interface TaylorTerms {
  /** Per group, per batch: s[u] = Σ w·∂L/∂w over unit u's consumer columns (float64 sums of float32 products). */
  terms: Map<DepGroup, Float64Array[]>;
  /** The labels used (given, or the model's argmax). */
  labels: Int32Array;
  batch: number;
}

/** The Taylor sums of every group in `groups`, over ⌊N / batch⌋ full batches of `samples` (each one sample [1, …]). */
export async function taylorTerms(
  g: Graph,
  dep: DepGraph,
  groups: readonly DepGroup[],
  samples: readonly Float32Array[],
  labels?: ArrayLike<number>,
  batch = 8,
): Promise<TaylorTerms> {
  const B = Math.min(batch, samples.length);
  if (B < 1) throw new ModelError(g.source, '--importance taylor', 'needs at least one --calibration sample');
  const tg = buildTrainingGraph(withBatch(g, B), {
    loss: { kind: 'softmax-cross-entropy' },
    optimizer: { kind: 'sgd' },
    batchNorm: 'frozen',
  });
  const gradOf = new Map<string, string>();
  for (const n of tg.graph.nodes) if (n.op === 'SgdUpdate') gradOf.set(n.inputs[0]!, n.inputs[1]!);
  const cols = new Map(groups.map((grp) => [grp, consumerColumns(g, dep, grp)]));
  const weights = [...new Set([...cols.values()].flat().map((c) => c.weight))];
  for (const w of weights)
    if (!gradOf.has(w))
      throw new ModelError(g.source, `weight '${w}'`, 'is not a trained float32 weight, so it has no gradient');
  tg.graph.outputs.push(...weights.map((w) => gradOf.get(w)!));
  const model = await load(compileGraph(tg.graph, { skipPasses: true, modelName: `${g.name}:taylor` }).bundle, {
    build: 'simd',
  });
  const per = samples[0]!.length;
  const lr = new Float32Array(1);
  const batches = Math.floor(samples.length / B);
  const used = new Int32Array(batches * B);
  const terms = new Map<DepGroup, Float64Array[]>(groups.map((grp) => [grp, []]));
  for (let b = 0; b < batches; b++) {
    const x = new Float32Array(B * per);
    for (let i = 0; i < B; i++) x.set(samples[b * B + i]!, i * per);
    let y: Int32Array = new Int32Array(B);
    if (labels) for (let i = 0; i < B; i++) y[i] = Number(labels[b * B + i]);
    else y = argmaxRows(model.run({ [tg.x]: x, [tg.labels]: y, [tg.lr]: lr })[tg.logits] as Float32Array, B);
    used.set(y, b * B);
    const out = model.run({ [tg.x]: x, [tg.labels]: y, [tg.lr]: lr });
    for (const [grp, cs] of cols) {
      const s = new Float64Array(grp.units.length);
      for (const c of cs) {
        const w = g.tensors.get(c.weight)!.data!,
          dw = out[gradOf.get(c.weight)!] as Float32Array;
        for (let u = 0; u < s.length; u++) s[u] += columnSum(c, u, w, dw, (a, d) => a * d);
      }
      terms.get(grp)!.push(s);
    }
  }
  return { terms, labels: used, batch: B };
}

function argmaxRows(logits: Float32Array, rows: number): Int32Array<ArrayBuffer> {
  const n = logits.length / rows;
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let k = 1; k < n; k++) if (logits[r * n + k]! > logits[r * n + best]!) best = k;
    y[r] = best;
  }
  return y;
}

/** Score per unit: the mean over batches of s². */
export function taylorScores(terms: readonly Float64Array[], units: number): Float64Array {
  const score = new Float64Array(units);
  for (const s of terms) for (let u = 0; u < units; u++) score[u] += (s[u]! * s[u]!) / terms.length;
  return score;
}
