// Continual distillation's replay selection and weight aligning (compiler/distill/continual.ts): the selection
// picks the expected samples of small synthetic cases (class-balanced, by position or by the previous model's
// softmax mass outside the old classes); weight aligning makes the new rows' mean norm the old rows' and is
// a no-op (same bytes) when they already agree; through distill() the written head is the aligned one and the
// report keeps the scores before it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cloneGraph, compileGraph } from '../../compiler/compile.ts';
import { alignHead, borderScores, headOf, selectBalanced, selectReplay } from '../../compiler/distill/continual.ts';
import { datasetOf, distill, type DistillJob } from '../../compiler/distill/index.ts';
import { replayBuffer } from '../../compiler/distill/replay.ts';
import { graphTeacher, logitsOf } from '../../compiler/distill/teacher.ts';
import { ModelError, type Graph } from '../../compiler/ir/graph.ts';
import { runPasses } from '../../compiler/passes/index.ts';
import { load } from '../../runtime/node.ts';
import { digits, mlpGraph, TRAIN_N } from '../cli/train-fixtures.ts';

const bytes = (a: Float32Array) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const rowNorm = (w: Float32Array, k: number, c: number) => Math.hypot(...w.subarray(c * k, (c + 1) * k));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('borderScores: softmax mass outside the old classes, in float64', () => {
  // 4 classes, old [0, 2): row 0 uniform → 0.5; row 1 all mass on class 3 (≈ 1); row 2 on class 0 (≈ 0)
  const s = borderScores(Float32Array.of(1, 1, 1, 1, 0, 0, 0, 30, 30, 0, 0, 0), 4, [0, 2]);
  assert.is(s[0], 0.5);
  assert.ok(Math.abs(s[1]! - (1 + Math.exp(30)) / (3 + Math.exp(30))) < 1e-15);
  assert.ok(s[2]! < 1e-12);
});

test('selectReplay: class-balanced, first by position or by border score, returned in pool order', () => {
  // 8 pool samples of old classes 0 and 1 (of 4); the score: mass on classes 2–3, set by logit m on class 3
  const labels = Int32Array.of(0, 0, 1, 0, 1, 1, 0, 1);
  const m = [0, 3, 1, -2, 2, 0.5, 4, -1];
  const logits = Float32Array.from(m.flatMap((v, i) => [labels[i] === 0 ? 2 : 0, labels[i] === 1 ? 2 : 0, 0, v]));
  // first: the first two of each class
  assert.equal([...selectReplay('first', 4, labels, logits, 4, [0, 2])], [0, 1, 2, 4]);
  // border: class 0 by m — 6 (4), 1 (3), 0 (0), 3 (−2); class 1 — 4 (2), 2 (1), 5 (0.5), 7 (−1)
  assert.equal([...selectReplay('border', 4, labels, logits, 4, [0, 2])], [1, 2, 4, 6]);
  assert.equal([...selectReplay('border', 3, labels, logits, 4, [0, 2])], [1, 4, 6]);
  // a class with fewer samples than its share: the others fill the count; more than the pool: all of it
  assert.equal([...selectBalanced(Int32Array.of(1, 0, 0, 0, 0), [0, 5, 4, 3, 2], 4)], [0, 1, 2, 3]);
  assert.equal([...selectBalanced(Int32Array.of(1, 0), [0, 0], 5)], [0, 1]);
  // ties: the lower index first
  assert.equal([...selectBalanced(Int32Array.of(0, 0, 0), [1, 2, 2], 1)], [1]);
});

test('alignHead: new rows (and bias) × γ to the old rows’ mean norm; old rows untouched; equal means: no-op', () => {
  const classes = 6,
    k = 5;
  const w = Float32Array.from({ length: classes * k }, (_, i) => Math.sin(i * 1.7) * (i >= 3 * k ? 2.5 : 1));
  const b = Float32Array.from({ length: classes }, (_, i) => i - 2.5);
  const w0 = Float32Array.from(w),
    b0 = Float32Array.from(b);
  const gamma = alignHead(w, b, classes, [0, 3]);
  const norms = Array.from({ length: classes }, (_, c) => rowNorm(w, k, c));
  assert.ok(Math.abs(mean(norms.slice(3)) / mean(norms.slice(0, 3)) - 1) < 1e-6, `${norms}`);
  const n0 = Array.from({ length: classes }, (_, c) => rowNorm(w0, k, c));
  assert.ok(Math.abs(gamma - mean(n0.slice(0, 3)) / mean(n0.slice(3))) < 1e-12, `γ ${gamma}`);
  assert.equal(bytes(w.subarray(0, 3 * k)), bytes(w0.subarray(0, 3 * k)));
  for (let j = 3 * k; j < w.length; j++) assert.is(w[j], Math.fround(w0[j]! * gamma));
  assert.equal(Array.from(b), [
    ...Array.from(b0.subarray(0, 3)),
    ...Array.from(b0.subarray(3), (v) => Math.fround(v * gamma)),
  ]);
  // the new rows a permutation of the old ones (equal mean norms): nothing changes; an aligned head stays put
  const v = Float32Array.from({ length: 4 * k }, (_, i) => Math.cos(i) * (1 + (i % 3)));
  v.set(v.subarray(0, k), 3 * k);
  v.set(v.subarray(k, 2 * k), 2 * k);
  const v0 = Float32Array.from(v);
  assert.is(alignHead(v, undefined, 4, [0, 2]), 1);
  assert.equal(bytes(v), bytes(v0));
  const again = Float32Array.from(w);
  alignHead(again, undefined, classes, [0, 3]);
  assert.ok(again.every((x, i) => Math.abs(x - w[i]!) <= 1e-6 * Math.abs(w[i]!)));
});

test('headOf: the final Dense of the logits; a model without one is refused by name', () => {
  const g = runPasses(mlpGraph());
  const h = headOf(g, logitsOf(g));
  assert.is(g.tensors.get(h.weight)!.shape.join(','), `10,${g.tensors.get(h.weight)!.shape[1]}`);
  assert.ok(h.bias && g.tensors.get(h.bias)!.shape[0] === 10);
  const relu = cloneGraph(g);
  const last = relu.nodes.find((n) => n.outputs.includes(logitsOf(g)))!;
  relu.nodes = relu.nodes.map((n) => (n === last ? { ...n, op: 'Relu', inputs: [n.inputs[0]!] } : n));
  assert.throws(
    () => headOf(relu, logitsOf(g)),
    (e: Error) => e instanceof ModelError && /Dense/.test(e.message),
  );
});

test('continual through distill(): a border-selected buffer, labels among the old classes, an aligned head', async () => {
  const d = digits();
  const rows = (keep: (y: number) => boolean, from: number, to: number) => {
    const r = Array.from({ length: to - from }, (_, i) => from + i).filter((i) => keep(d.y[i]!));
    const x = new Float32Array(r.length * 64);
    r.forEach((s, i) => x.set(d.x.subarray(s * 64, (s + 1) * 64), i * 64));
    return datasetOf(
      x,
      [64],
      Int32Array.from(r, (s) => d.y[s]!),
    );
  };
  const old = (y: number) => y < 5;
  const oldTrain = rows(old, 0, TRAIN_N),
    newTrain = rows((y) => !old(y), 0, TRAIN_N),
    oldVal = rows(old, TRAIN_N, d.n);
  const base: Omit<DistillJob, 'teacher' | 'student'> = {
    data: oldTrain,
    labelled: true,
    epochs: 3,
    batch: 32,
    optimizer: { kind: 'adam' },
    lr: 0.01,
    alpha: 0,
    measure: false,
    seed: 3,
  };
  const previous = (await distill({ ...base, teacher: mlpGraph(), student: mlpGraph() })).model;
  const pool = datasetOf(oldTrain.readSamples(Uint32Array.from({ length: 60 }, (_, i) => i)), [64]);
  const t = await graphTeacher(previous, [], [64]);
  const logits = t.run(pool.readSamples(Uint32Array.from({ length: 60 }, (_, i) => i)), 60).get('logits')!;
  const replay = { data: pool, labelled: false, share: 0.25, select: { by: 'border' as const, count: 20 } };
  const buf = replayBuffer(t, replay, [0, 5], 'test');
  const top = (i: number) => [0, 1, 2, 3, 4].reduce((b, c) => (logits[i * 10 + c]! > logits[i * 10 + b]! ? c : b), 0);
  const labels = Int32Array.from({ length: 60 }, (_, i) => top(i));
  const keep = selectReplay('border', 20, labels, logits, 10, [0, 5]);
  assert.is(buf.data.size, 20);
  assert.equal(
    [...buf.labels],
    [...keep].map((i) => labels[i]!),
  );
  assert.equal(bytes(buf.data.readSamples([0, 19])), bytes(pool.readSamples([keep[0]!, keep[19]!])));
  assert.throws(
    () => replayBuffer(t, replay, undefined, 'test'),
    (e: Error) => e instanceof ModelError && /old classes/.test(e.message),
  );

  const r = await distill({
    ...base,
    teacher: previous,
    student: cloneGraph(previous),
    data: newTrain,
    alpha: 0.5,
    epochs: 1,
    oldClasses: [0, 5],
    replay,
    align: true,
    evalSets: [{ name: 'old task', data: oldVal }],
  });
  const g = r.model;
  const h = headOf(g, logitsOf(g));
  const w = g.tensors.get(h.weight)!.data as Float32Array;
  const k = w.length / 10;
  const norms = Array.from({ length: 10 }, (_, c) => rowNorm(w, k, c));
  assert.ok(Math.abs(mean(norms.slice(5)) / mean(norms.slice(0, 5)) - 1) < 1e-6, `${norms}`);
  assert.ok(r.report.align && r.report.align.gamma !== 1, 'a trained head needed aligning');
  const set = r.report.sets[0]!;
  assert.ok(set.unaligned !== undefined);
  // the score after is the written (aligned) model's
  const m = await load(compileGraph(g).bundle);
  const y = m.run({ x: oldVal.readSamples(Uint32Array.from({ length: oldVal.size }, (_, i) => i)) })[
    m.info.outputs[0]!.name
  ] as Float32Array;
  let ok = 0;
  for (let i = 0; i < oldVal.size; i++) {
    let b = 0;
    for (let c = 1; c < 10; c++) if (y[i * 10 + c]! > y[i * 10 + b]!) b = c;
    if (b === oldVal.labels[i]) ok++;
  }
  assert.is(set.after, ok / oldVal.size);
  const noOld: Graph = cloneGraph(previous);
  await distill({
    ...base,
    teacher: previous,
    student: noOld,
    data: newTrain,
    alpha: 0.5,
    epochs: 1,
    align: true,
  }).then(
    () => assert.unreachable('align without oldClasses'),
    (e: Error) => assert.ok(e instanceof ModelError && /old classes/.test(e.message), e.message),
  );
});

test.run();
