// Distillation losses against float64 central differences (as grads.test.ts): soft-target KD with and without
// labels, FitNets hints (1×1 Conv2D and Dense regressors, average-pooled teacher features, none needed),
// relational distance and angle losses — every trained weight element, the regressors' included.
// Tolerance: |analytic − numeric| ≤ 1e-6 · (1 + |analytic|), h = 1e-5.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { ModelError } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import {
  buildTrainingGraph,
  type TrainingGraph,
  type TrainingOptions,
} from '../../../compiler/train/training-graph.ts';
import {
  classRangeKd,
  OLD_CLASSES_INPUT,
  prepareHints,
  relationalLosses,
  type HintSpec,
} from '../../../compiler/train/distill-loss.ts';
import { mlpGraph, cnnGraph } from './mlp.ts';
import { rng, randF32 } from '../../assembly/harness.ts';

/** Every host-fed input of one step: x, class labels for int32 targets, random floats for the float ones. */
function feedOf(tg: TrainingGraph, seed: number): Record<string, Float64Array> {
  const r = rng(seed);
  const classes = tg.graph.tensors.get(tg.logits)!.shape[1]!;
  const size = (n: string) => tg.graph.tensors.get(n)!.shape.reduce((a, b) => a * b, 1);
  const feed: Record<string, Float64Array> = {
    [tg.x]: Float64Array.from(randF32(r, size(tg.x), -1.5, 1.5)),
    [tg.lr]: Float64Array.of(0.1),
  };
  for (const t of tg.targets) {
    feed[t] =
      tg.graph.tensors.get(t)!.dtype === 'int32'
        ? Float64Array.from({ length: size(t) }, (_, i) => (i * 7 + 1) % classes)
        : Float64Array.from(randF32(r, size(t), -2, 2));
  }
  return feed;
}

function gradCheck(label: string, fwd: Graph, opts: TrainingOptions): number {
  const tg = buildTrainingGraph(fwd, opts);
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
  let worst = 0,
    count = 0;
  for (const p of tg.params) {
    const analytic = all[g.nodes.find((n) => n.op === 'SgdUpdate' && n.inputs[0] === p)!.inputs[1]!]!;
    for (let i = 0; i < analytic.length; i++) {
      const numeric = (lossAt(p, i, h) - lossAt(p, i, -h)) / (2 * h);
      const err = Math.abs(analytic[i]! - numeric) / (1 + Math.abs(analytic[i]!));
      worst = Math.max(worst, err);
      count++;
      if (!(err <= 1e-6))
        throw new Error(`${label}: d loss / d ${p}[${i}]: analytic ${analytic[i]} numeric ${numeric}`);
    }
  }
  assert.ok(count > 50, `${label}: only ${count} elements checked`);
  return worst;
}

test('soft-target KD: α·T²·KL + (1 − α)·CE with labels (α 0.7, T 4), and data-only (α 1, no labels input)', () => {
  gradCheck('kd 0.7', mlpGraph(4), { loss: { kind: 'kd', alpha: 0.7, temperature: 4 } });
  const tg = buildTrainingGraph(mlpGraph(4), { loss: { kind: 'kd', temperature: 3 } });
  assert.is(tg.hardLabels, undefined);
  assert.equal(tg.targets, [tg.labels]);
  gradCheck('kd 1', mlpGraph(4), { loss: { kind: 'kd', temperature: 3 } });
});

test('the KD loss is the weighted sum of its terms (float64 evaluation)', () => {
  const fwd = mlpGraph(3);
  const kd = buildTrainingGraph(fwd, { loss: { kind: 'kd', alpha: 0.25, temperature: 2 } });
  const kl = buildTrainingGraph(fwd, { loss: { kind: 'kl', temperature: 2 } });
  const ce = buildTrainingGraph(fwd, { loss: { kind: 'softmax-cross-entropy' } });
  const feed = feedOf(kd, 3);
  const l = (tg: TrainingGraph, f: Record<string, Float64Array>) => evaluate(tg.graph, f)[tg.loss]![0]!;
  const want =
    0.25 * l(kl, { [kl.x]: feed[kd.x]!, [kl.labels]: feed[kd.labels]!, [kl.lr]: feed[kd.lr]! }) +
    0.75 * l(ce, { [ce.x]: feed[kd.x]!, [ce.labels]: feed[kd.hardLabels!]!, [ce.lr]: feed[kd.lr]! });
  assert.ok(Math.abs(l(kd, feed) - want) <= 1e-12 * (1 + Math.abs(want)), `${l(kd, feed)} vs ${want}`);
  assert.throws(
    () => buildTrainingGraph(fwd, { loss: { kind: 'kd', alpha: 1.5 } }),
    /loss: alpha must be in \(0, 1\], found 1.5/,
  );
});

test('FitNets hints: 1×1 conv regressor + 2×2 average-pooled teacher, identity hint, dense regressor; with KD', () => {
  const B = 2;
  const cnn = cnnGraph(B);
  const hints: HintSpec[] = [
    { student: 'c2:y', teacher: 't.block2', teacherShape: [B, 8, 6, 5], weight: 0.5 },
    { student: 'c1:y', teacher: 't.block1', teacherShape: [B, 7, 7, 4], weight: 2 },
  ];
  const p = prepareHints(cnn, hints, 5);
  assert.equal(p.regressors, ['hint/t.block2/regressor']);
  gradCheck('hints cnn', p.graph, { loss: { kind: 'kd', alpha: 0.5, temperature: 2 }, extraLosses: p.losses });
  const mlp = prepareHints(mlpGraph(3), [{ student: 'sig:y', teacher: 'emb', teacherShape: [3, 5], weight: 1 }]);
  assert.is(mlp.graph.nodes.at(-1)!.op, 'Dense');
  gradCheck('hint dense', mlp.graph, { loss: { kind: 'kd', temperature: 2 }, extraLosses: mlp.losses });
});

test('hints refuse spatial sizes that are not integer multiples, other ranks and unknown tensors, by hint name', () => {
  const cnn = cnnGraph(2);
  const refuse = (h: HintSpec, re: RegExp) =>
    assert.throws(
      () => prepareHints(cnn, [h]),
      (e: Error) => e instanceof ModelError && re.test(e.message),
    );
  refuse(
    { student: 'c2:y', teacher: 'T', teacherShape: [2, 7, 7, 8], weight: 1 },
    /hint 'T:c2:y': teacher feature 7x7 is not an integer multiple of the student's 4x3/,
  );
  refuse(
    { student: 'c2:y', teacher: 'T', teacherShape: [2, 8], weight: 1 },
    /hint 'T:c2:y': .*must both be \[B,D\] or NHWC/,
  );
  refuse(
    { student: 'nope', teacher: 'T', teacherShape: [2, 8], weight: 1 },
    /student tensor 'nope' is not in the student graph/,
  );
});

test('relational KD: distance and angle losses over a batch of 5 embeddings (teacher width 3 ≠ student 8)', () => {
  for (const kind of ['distance', 'angle'] as const) {
    gradCheck(`rkd ${kind}`, mlpGraph(5), {
      loss: { kind: 'kd', temperature: 2 },
      extraLosses: relationalLosses('sig:y', 'emb', [5, 3], [{ kind, weight: 3 }]),
    });
  }
  const both = buildTrainingGraph(mlpGraph(4), {
    loss: { kind: 'kd' },
    extraLosses: relationalLosses(
      'sig:y',
      'emb',
      [4, 3],
      [
        { kind: 'distance', weight: 25 },
        { kind: 'angle', weight: 50 },
      ],
    ),
  });
  assert.is(both.targets.length, 2, 'one teacher embedding input shared by both terms');
});

test('the check can fail: a wrong RKD distance gradient (doubled) is caught', () => {
  const mk = () =>
    buildTrainingGraph(mlpGraph(4), {
      loss: { kind: 'kd' },
      extraLosses: relationalLosses('sig:y', 'emb', [4, 3], [{ kind: 'distance', weight: 1 }]),
    });
  const bad = { ...relationalLosses('sig:y', 'emb', [4, 3], [{ kind: 'distance', weight: 1 }])[0]! };
  const inner = bad.build;
  bad.build = (lb) => {
    const r = inner(lb);
    return { loss: r.loss, grads: [lb.add('Add', [r.grads[0]!, r.grads[0]!])[0]!] };
  };
  assert.ok(mk().params.length > 0);
  assert.throws(() => gradCheck('broken', mlpGraph(4), { loss: { kind: 'kd' }, extraLosses: [bad] }), /d loss \/ d w/);
});

test('old-class KD (continual): 0.4·CE + 0.6·T²·KL over the classes [1, 3) — value by hand, gradients', () => {
  const opts: TrainingOptions = {
    loss: { kind: 'softmax-cross-entropy', weight: 0.4 },
    extraLosses: [classRangeKd('fc3:y', 1, 3, 2, 0.6)],
  };
  gradCheck('kd-old', mlpGraph(4), opts);
  const tg = buildTrainingGraph(mlpGraph(4), opts);
  const feed = feedOf(tg, 5);
  const out = evaluate(tg.graph, feed, { all: true });
  const s = out[tg.logits]!,
    t = feed[OLD_CLASSES_INPUT]!,
    y = feed[tg.labels]!;
  const T = 2;
  let ce = 0,
    kl = 0;
  for (let b = 0; b < 4; b++) {
    const row = [0, 1, 2].map((k) => s[b * 3 + k]!);
    const lse = (v: number[]) => {
      const m = Math.max(...v);
      return m + Math.log(v.reduce((a, x) => a + Math.exp(x - m), 0));
    };
    ce += lse(row) - row[y[b]!]!;
    const sv = [row[1]! / T, row[2]! / T],
      tv = [t[b * 2]! / T, t[b * 2 + 1]! / T];
    for (let k = 0; k < 2; k++) {
      const pt = Math.exp(tv[k]! - lse(tv));
      kl += pt * (tv[k]! - lse(tv) - (sv[k]! - lse(sv)));
    }
  }
  // the weights are float32 constants of the graph
  const want = Math.fround(0.4) * (ce / 4) + Math.fround(0.6) * T * T * (kl / 4);
  const got = out[tg.loss]![0]!;
  assert.ok(Math.abs(got - want) <= 1e-12 * (1 + Math.abs(want)), `${got} vs ${want}`);
});

test.run();
