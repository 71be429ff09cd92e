// Branched students' losses against float64 central differences (as test/compiler/train/distill-grads.test.ts):
// an MLP with an early-exit head on its hidden layer, the full output's KD term weighted (KdLoss.weight) and the
// exit's exitKd term (α·T²·KL + (1 − α)·CE, α 0.7 / 1 / 0), every trained weight element — the exit head's and the
// shared trunk's, which gets gradients from both. Tolerance: |analytic − numeric| ≤ 1e-6 · (1 + |analytic|), h = 1e-5.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { inferShapes } from '../../../compiler/passes/infer-shapes.ts';
import { buildTrainingGraph, type TrainingOptions } from '../../../compiler/train/training-graph.ts';
import { exitKd, type ExitInputs } from '../../../compiler/distill/branched-loss.ts';
import { mlpGraph } from '../train/mlp.ts';
import { rng, randF32 } from '../../assembly/harness.ts';

/** mlpGraph plus an exit head: Dense 8 → 3 on the trunk's `sig:y` (the final output stays fc3 → softmax). */
function withExit(): Graph {
  const g = mlpGraph(4);
  const r = rng(11);
  g.tensors.set('we', { name: 'we', dtype: 'float32', shape: [3, 8], data: randF32(r, 24, -0.8, 0.8) });
  g.tensors.set('be', { name: 'be', dtype: 'float32', shape: [3], data: randF32(r, 3, -0.2, 0.2) });
  g.nodes.splice(4, 0, { name: 'exit', op: 'Dense', inputs: ['sig:y', 'we', 'be'], outputs: ['exit:y'], attrs: {} });
  inferShapes.run(g);
  return g;
}

function feedOf(tg: ReturnType<typeof buildTrainingGraph>, seed: number): Record<string, Float64Array> {
  const r = rng(seed);
  const size = (n: string) => tg.graph.tensors.get(n)!.shape.reduce((a, b) => a * b, 1);
  const feed: Record<string, Float64Array> = {
    [tg.x]: Float64Array.from(randF32(r, size(tg.x), -1.5, 1.5)),
    [tg.lr]: Float64Array.of(0.1),
  };
  for (const t of tg.targets)
    feed[t] =
      tg.graph.tensors.get(t)!.dtype === 'int32'
        ? Float64Array.from({ length: size(t) }, (_, i) => (i * 7 + 1) % 3)
        : Float64Array.from(randF32(r, size(t), -2, 2));
  return feed;
}

function gradCheck(label: string, opts: TrainingOptions): void {
  const tg = buildTrainingGraph(withExit(), opts);
  assert.ok(tg.params.includes('we') && tg.params.includes('w1'), `${label}: exit head and trunk both train`);
  const g = { ...tg.graph, inputs: [...tg.graph.inputs, ...tg.params], state: new Map(tg.graph.state) };
  for (const p of tg.params) g.state.delete(p);
  const feed = feedOf(tg, 7);
  for (const p of tg.params) feed[p] = Float64Array.from(tg.graph.state!.get(p)!);
  const all = evaluate(g, feed, { all: true });
  const lossAt = (p: string, i: number, d: number) => {
    const w = Float64Array.from(feed[p]!);
    w[i]! += d;
    return evaluate(g, { ...feed, [p]: w })[tg.loss]![0]!;
  };
  const h = 1e-5;
  let count = 0;
  for (const p of tg.params) {
    const analytic = all[g.nodes.find((n) => n.op === 'SgdUpdate' && n.inputs[0] === p)!.inputs[1]!]!;
    for (let i = 0; i < analytic.length; i++) {
      const numeric = (lossAt(p, i, h) - lossAt(p, i, -h)) / (2 * h);
      const err = Math.abs(analytic[i]! - numeric) / (1 + Math.abs(analytic[i]!));
      count++;
      if (!(err <= 1e-6))
        throw new Error(`${label}: d loss / d ${p}[${i}]: analytic ${analytic[i]} numeric ${numeric}`);
    }
  }
  assert.ok(count > 100, `${label}: only ${count} elements checked`);
}

for (const alpha of [0.7, 1, 0])
  test(`exit KD α ${alpha} (weight 0.3) beside the full output's KD (weight 0.5): gradients`, () => {
    gradCheck(`exit α ${alpha}`, {
      loss:
        alpha === 0
          ? { kind: 'softmax-cross-entropy', weight: 0.5 }
          : { kind: 'kd', alpha, temperature: 4, weight: 0.5 },
      extraLosses: [exitKd('exit', 'exit:y', 3, alpha, 0.3, {})],
    });
  });

test('exit KD value: w·(α·T²·KL + (1 − α)·CE) by hand, inputs named by the builder', () => {
  const inputs: ExitInputs = {};
  const tg = buildTrainingGraph(withExit(), {
    loss: { kind: 'kd', alpha: 1, temperature: 2 },
    extraLosses: [exitKd('exit', 'exit:y', 3, 0.6, 0.25, inputs)],
    termOutputs: true,
  });
  assert.ok(
    inputs.teacher && inputs.labels && tg.targets.includes(inputs.teacher) && tg.targets.includes(inputs.labels),
  );
  const feed = feedOf(tg, 5);
  const out = evaluate(tg.graph, feed, { all: true });
  const s = out['exit:y']!,
    t = feed[inputs.teacher]!,
    y = feed[inputs.labels]!;
  const T = 3;
  const lse = (v: number[]) => {
    const m = Math.max(...v);
    return m + Math.log(v.reduce((a, x) => a + Math.exp(x - m), 0));
  };
  let ce = 0,
    kl = 0;
  for (let b = 0; b < 4; b++) {
    const row = [0, 1, 2].map((k) => s[b * 3 + k]!);
    ce += lse(row) - row[y[b]!]!;
    const sv = row.map((v) => v / T),
      tv = [0, 1, 2].map((k) => t[b * 3 + k]! / T);
    for (let k = 0; k < 3; k++) kl += Math.exp(tv[k]! - lse(tv)) * (tv[k]! - lse(tv) - (sv[k]! - lse(sv)));
  }
  // α, 1 − α and the weight are float32 constants of the graph
  const want = Math.fround(0.25) * (Math.fround(0.6) * T * T * (kl / 4) + Math.fround(1 - 0.6) * (ce / 4));
  const got = out[tg.terms.find((k) => k.name === 'kd:exit')!.output]![0]!;
  assert.ok(Math.abs(got - want) <= 1e-12 * (1 + Math.abs(want)), `${got} vs ${want}`);
});

test.run();
