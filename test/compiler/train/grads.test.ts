// Gradient rules against float64 central differences: the training graph's gradient tensors (the
// ones each SgdUpdate reads), evaluated by the float64 reference evaluator, vs (L(w + h) − L(w − h)) / 2h
// of the loss evaluated by the same evaluator, for every element of every weight.
// Tolerance: |analytic − numeric| ≤ 1e-6 · (1 + |analytic|) with h = 1e-5 (truncation ~h², round-off ~1e-11).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { ModelError } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { buildTrainingGraph, type LossOptions, type TrainingGraph } from '../../../compiler/train/training-graph.ts';
import { OPS } from '../../../compiler/ir/ops/index.ts';
import type { GradRule } from '../../../compiler/ir/ops/op-def.ts';
import { mlpGraph, broadcastGraph, cnnGraph } from './mlp.ts';
import { rng, randF32 } from '../../assembly/harness.ts';

/** The training graph with its weights as float64 graph inputs (so the check perturbs exact values). */
function asInputs(tg: TrainingGraph): Graph {
  const g = { ...tg.graph, inputs: [...tg.graph.inputs, ...tg.params], state: new Map(tg.graph.state) };
  for (const p of tg.params) g.state.delete(p);
  return g;
}

function gradCheck(
  label: string,
  fwd: Graph,
  batch: number,
  loss: LossOptions = { kind: 'softmax-cross-entropy' },
): number {
  const tg = buildTrainingGraph(fwd, { loss });
  const g = asInputs(tg);
  const r = rng(7);
  const classes = tg.graph.tensors.get(tg.logits)!.shape[1]!;
  const feed: Record<string, Float64Array> = {
    [tg.x]: Float64Array.from(
      randF32(
        r,
        fwd.tensors.get(tg.x)!.shape.reduce((a, b) => a * b, 1),
        -1.5,
        1.5,
      ),
    ),
    // class labels, or float targets / teacher logits shaped like the output
    [tg.labels]:
      tg.graph.tensors.get(tg.labels)!.dtype === 'int32'
        ? Float64Array.from({ length: batch }, (_, i) => (i * 7 + 1) % classes)
        : Float64Array.from(randF32(r, batch * classes, -2, 2)),
    [tg.lr]: Float64Array.of(0.1),
  };
  for (const p of tg.params) feed[p] = Float64Array.from(tg.graph.state!.get(p)!);
  const all = evaluate(g, feed, { all: true });
  const update = (p: string) => g.nodes.find((n) => n.op === 'SgdUpdate' && n.inputs[0] === p)!;
  const lossAt = (p: string, i: number, d: number) => {
    const w = Float64Array.from(feed[p]!);
    w[i]! += d;
    return evaluate(g, { ...feed, [p]: w })[tg.loss]![0]!;
  };
  const h = 1e-5;
  let worst = 0,
    count = 0;
  for (const p of tg.params) {
    const analytic = all[update(p).inputs[1]!]!;
    for (let i = 0; i < analytic.length; i++) {
      const numeric = (lossAt(p, i, h) - lossAt(p, i, -h)) / (2 * h);
      const err = Math.abs(analytic[i]! - numeric) / (1 + Math.abs(analytic[i]!));
      worst = Math.max(worst, err);
      count++;
      // a plain Error, not an assertion, so the can-fail test below can catch it
      if (!(err <= 1e-6))
        throw new Error(`${label}: d loss / d ${p}[${i}]: analytic ${analytic[i]} numeric ${numeric}`);
    }
  }
  assert.ok(count > 50, `${label}: only ${count} elements checked`);
  return worst;
}

test('MLP (Dense + fused relu, Tanh, Add fan-out, Sigmoid, LeakyRelu, bias-less Dense, softmax CE): every weight element', () => {
  gradCheck('mlp', mlpGraph(5), 5);
});

test('broadcasts and views (Reshape, Clip, Exp, Mul both ways, Add broadcast, Relu6, Flatten, Relu), label smoothing 0.1', () => {
  gradCheck('broadcast', broadcastGraph(3), 3, { kind: 'softmax-cross-entropy', labelSmoothing: 0.1 });
});

test('CNN (Conv2D same/strided/padded/dilated, depthwise ×2, grouped 1×3, MaxPool, AvgPool incl. pad, Pad, Concat, Transpose, Softmax, Sub, GlobalAvgPool)', () => {
  gradCheck('cnn', cnnGraph(2), 2);
});

test('fused activations on Mul (clip) and Sub (relu), as the TFLite importer writes them', () => {
  const b = broadcastGraph(3);
  b.nodes.find((n) => n.name === 'mul')!.attrs = { activation: 'clip', clip: [-0.3, 0.8] };
  gradCheck('mul clip', b, 3);
  const c = cnnGraph(2);
  c.nodes.find((n) => n.name === 'sb')!.attrs = { activation: 'relu' };
  gradCheck('sub relu', c, 2);
});

test('losses: MSE (targets) and KL with temperature 2.5 (teacher logits) through the MLP', () => {
  gradCheck('mse', mlpGraph(4), 4, { kind: 'mse' });
  gradCheck('kl', mlpGraph(4), 4, { kind: 'kl', temperature: 2.5 });
});

test('the check can fail: a wrong Dense rule (dW doubled) is caught', () => {
  const dense = OPS.Dense as { grad?: GradRule };
  const keep = dense.grad!;
  dense.grad = (b, n, dy) => keep(b, n, dy).map((d, i) => (i === 1 && d ? b.add('Add', [d, d])[0] : d));
  try {
    assert.throws(() => gradCheck('broken', mlpGraph(2), 2), /d loss \/ d w/);
  } finally {
    dense.grad = keep;
  }
});

test('an op without a gradient rule on the path to the loss is refused by name before anything is built', () => {
  const g = mlpGraph(2);
  g.nodes.find((n) => n.name === 'tanh')!.op = 'Div';
  g.nodes.find((n) => n.name === 'tanh')!.inputs = ['fc1:y', 'fc1:y'];
  assert.throws(
    () => buildTrainingGraph(g),
    (e: Error) => e instanceof ModelError && /node 'tanh' \(Div\): has no gradient rule/.test(e.message),
  );
  // frozen before it: nothing upstream trains, so the Div needs no rule
  const tg = buildTrainingGraph(g, { frozen: ['fc1'] });
  assert.equal(tg.params, ['w2', 'b2', 'w3']);
});

test('frozen names must exist; labels must be int32 class indices in range', () => {
  assert.throws(() => buildTrainingGraph(mlpGraph(2), { frozen: ['nope'] }), /frozen node 'nope': is not in the graph/);
  const tg = buildTrainingGraph(mlpGraph(2));
  const feed = { [tg.x]: new Float64Array(12), [tg.labels]: Float64Array.of(0, 3), [tg.lr]: Float64Array.of(0.1) };
  assert.throws(() => evaluate(tg.graph, feed), /label 3 of sample 1 is outside \[0, 3\)/);
});

test.run();
