// Herding selection of the replay buffer (compiler/distill/continual.ts, iCaRL): the greedy order of a small
// case worked by hand, class-balanced quotas in pool order, the kept mean closer to the class mean than the
// first samples' on real features, and through distill(): the buffer is herded on the previous model's
// penultimate features (the same bytes as training on that buffer given directly); a bundle teacher is refused.
// One pass: the pool runs through the herding teacher once (counted), giving the same logits (bytes), labels and
// samples as the two passes it replaced (the teacher for the logits, then a feature teacher), kept here as the
// reference; through distill() on an unlabelled pool, where the labels come from those logits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileGraph } from '../../compiler/compile.ts';
import { herdingOrder, roundRobinQuotas, selectReplay } from '../../compiler/distill/continual.ts';
import { datasetOf, distill, type DistillJob } from '../../compiler/distill/index.ts';
import { teacherOutputs } from '../../compiler/distill/batches.ts';
import { herdingTeacher, replayBuffer, replayLabels, type Replay } from '../../compiler/distill/replay.ts';
import { graphTeacher, logitsOf, type Teacher } from '../../compiler/distill/teacher.ts';
import type { Dataset } from '../../compiler/train/data/dataset.ts';
import { ModelError, type Graph } from '../../compiler/ir/graph.ts';
import { digits, mlpGraph, TRAIN_N } from '../cli/train-fixtures.ts';

const bytes = (a: Float32Array) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

test('herdingOrder: the hand-worked case, ties to the lower index', () => {
  // φ (normalised): 0 (1,0), 1 (0,1), 2 (1,1)/√2, 3 (1,0); μ = ((2 + 1/√2)/4, (1 + 1/√2)/4) ≈ (0.677, 0.427).
  // k 1: ‖μ − φ‖² 0.287 / 0.787 / 0.080 / 0.287 → 2. k 2: ‖μ − (φ2 + φ)/2‖² 0.037 / 0.287 / – / 0.037 → 0 (tie
  // with 3: same φ, lower index). k 3: ‖μ − (φ2 + φ0 + φ)/3‖² 0.032 (1) / 0.087 (3) → 1; then 3.
  const f = Float32Array.of(2, 0, 0, 5, 1, 1, 1, 0);
  assert.equal(herdingOrder(f, 2, [0, 1, 2, 3], 4), [2, 0, 1, 3]);
  assert.equal(herdingOrder(f, 2, [0, 1, 2, 3], 2), [2, 0]);
  // a subset of the rows: indices are the pool's; more than the rows: all of them
  assert.equal(herdingOrder(f, 2, [1, 3], 5), [1, 3]);
});

test('selectReplay herding: class-balanced quotas, each class herded, returned in pool order', () => {
  assert.equal(roundRobinQuotas([3, 1, 4], 6), [3, 1, 2]);
  assert.equal(roundRobinQuotas([2, 2], 9), [2, 2]);
  // classes 0 and 1 interleaved; class 0 = the hand-worked case above at pool 0, 2, 4, 6
  const labels = Int32Array.of(0, 1, 0, 1, 0, 1, 0);
  const data = Float32Array.of(2, 0, 1, 0, 0, 5, 0, 1, 1, 1, 1, 1, 1, 0);
  const logits = new Float32Array(7 * 4);
  const keep = selectReplay('herding', 4, labels, logits, 4, [0, 2], { data, dim: 2 });
  const c1 = herdingOrder(data, 2, [1, 3, 5], 2);
  assert.equal(
    [...keep],
    [0, 4, ...c1].sort((a, b) => a - b),
  );
  assert.equal([...selectReplay('herding', 4, labels, logits, 4, [0, 2], { data, dim: 2 })], [...keep]);
  assert.throws(() => selectReplay('herding', 4, labels, logits, 4, [0, 2]), /features/);
});

/** The embedding (the final Dense's input) of `g`. */
const embedding = (g: Graph) => g.nodes.find((n) => n.outputs.includes(logitsOf(g)))!.inputs[0]!;

test('herding on real features: the kept mean is nearer the class mean than the first samples’', async () => {
  const d = digits();
  const g = mlpGraph();
  const t = await graphTeacher(g, [embedding(g)], [64]);
  const n = 300;
  const out = t.run(d.x.slice(0, n * 64), n);
  const feat = out.get(embedding(g))!,
    dim = feat.length / n;
  const labels = Int32Array.from(d.y.subarray(0, n));
  const keep = selectReplay('herding', 50, labels, out.get('logits')!, 10, [0, 10], { data: feat, dim });
  const first = selectReplay('first', 50, labels, out.get('logits')!, 10, [0, 10]);
  const unit = (i: number) => {
    const v = Array.from(feat.subarray(i * dim, (i + 1) * dim), Number);
    const s = Math.hypot(...v);
    return v.map((x) => x / s);
  };
  const meanOf = (rows: number[]) =>
    Array.from({ length: dim }, (_, j) => rows.reduce((a, i) => a + unit(i)[j]!, 0) / rows.length);
  for (let c = 0; c < 10; c++) {
    const all = [...labels.keys()].filter((i) => labels[i] === c);
    const mu = meanOf(all);
    const dist = (rows: number[]) => Math.hypot(...meanOf(rows).map((x, j) => x - mu[j]!));
    const h = [...keep].filter((i) => labels[i] === c),
      f = [...first].filter((i) => labels[i] === c);
    assert.is(h.length, f.length);
    assert.ok(dist(h) < dist(f), `class ${c}: herded ${dist(h)} vs first ${dist(f)}`);
  }
});

test('through distill(): herded on the previous model’s penultimate features; a bundle teacher refused', async () => {
  const oldPool = digitRows((y) => y < 5, 200),
    newTrain = digitRows((y) => y >= 5, TRAIN_N);
  // as a model.json graph: no intermediate tensor declared (the embedding is found through its node)
  const previous = mlpGraph();
  previous.tensors.delete('h');
  const job = (replay: DistillJob['replay'], teacher: DistillJob['teacher'] = previous): DistillJob => ({
    teacher,
    student: mlpGraph(),
    data: newTrain,
    labelled: true,
    epochs: 1,
    batch: 32,
    optimizer: { kind: 'adam' },
    lr: 0.01,
    alpha: 0.5,
    measure: false,
    seed: 3,
    oldClasses: [0, 5],
    replay,
  });
  const herded = await distill(
    job({ data: oldPool, labelled: true, share: 0.25, select: { by: 'herding', count: 30 } }),
  );
  // the same buffer chosen here from the previous model's embedding, given as the whole replay file
  const t = await graphTeacher(previous, ['fc1'], [64]);
  const all = Uint32Array.from({ length: oldPool.size }, (_, i) => i);
  const out = t.run(oldPool.readSamples(all), oldPool.size);
  const feat = out.get('fc1')!;
  const keep = selectReplay('herding', 30, oldPool.labels, out.get('logits')!, 10, [0, 5], {
    data: feat,
    dim: feat.length / oldPool.size,
  });
  const given = datasetOf(
    oldPool.readSamples(keep),
    [64],
    Int32Array.from(keep, (i) => oldPool.labels[i]!),
  );
  const direct = await distill(job({ data: given, labelled: true, share: 0.25 }));
  const w = (g: Graph) => [...g.tensors.values()].filter((x) => x.data).map((x) => bytes(x.data as Float32Array));
  assert.equal(w(herded.model), w(direct.model));
  const bundle = { bundle: compileGraph(previous).bundle, source: 'prev.edgec' };
  await distill(job({ data: oldPool, labelled: true, select: { by: 'herding', count: 30 } }, bundle)).then(
    () => assert.unreachable('herding with a bundle teacher'),
    (e: Error) =>
      assert.ok(e instanceof ModelError && /herding/.test(e.message) && /bundle/.test(e.message), e.message),
  );
});

/** Samples 0..to−1 of the digits whose label passes `keep`, labelled or not. */
function digitRows(keep: (y: number) => boolean, to: number, labelled = true): Dataset {
  const d = digits();
  const r = Array.from({ length: to }, (_, i) => i).filter((i) => keep(d.y[i]!));
  const x = new Float32Array(r.length * 64);
  r.forEach((s, i) => x.set(d.x.subarray(s * 64, (s + 1) * 64), i * 64));
  return datasetOf(x, [64], labelled ? Int32Array.from(r, (s) => d.y[s]!) : undefined);
}

/** `t` whose run() adds the samples it is given to `seen.rows` (and counts its calls). */
function counted(t: Teacher, seen: { rows: number; calls: number }): Teacher {
  return {
    ...t,
    run(x, n) {
      seen.rows += n;
      seen.calls++;
      return t.run(x, n);
    },
  };
}

/** All samples of `d`. */
const everyRow = (d: Dataset) => d.readSamples(Uint32Array.from({ length: d.size }, (_, i) => i));

/** A previous model that tells the old classes apart (labels only, 2 epochs on digits 0–4; made once). */
let trained: Promise<Graph> | undefined;
const previousModel = () =>
  (trained ??= distill({
    teacher: mlpGraph(),
    student: mlpGraph(),
    data: digitRows((y) => y < 5, TRAIN_N),
    labelled: true,
    epochs: 2,
    batch: 32,
    optimizer: { kind: 'adam' },
    lr: 0.01,
    alpha: 0,
    measure: false,
    seed: 3,
  }).then((r) => r.model));

test('one pass over the pool: the two passes’ logits (bytes), labels and samples', async () => {
  const main = await graphTeacher(await previousModel(), [], [64]);
  // unlabelled: the labels are the previous model's argmax among 0–4, so they hang on the logits
  const pool = digitRows((y) => y < 5, 400, false);
  const replay: Replay = { data: pool, labelled: false, select: { by: 'herding', count: 40 } };
  const h = await herdingTeacher(main, [64], 'simd');
  assert.is(h.feature, 'fc1');
  const seen = { rows: 0, calls: 0 };
  const buf = replayBuffer(counted(h.teacher, seen), replay, [0, 5], 'test', h.feature);
  assert.is(seen.rows, pool.size, 'every pool sample run once');
  assert.is(seen.calls, Math.ceil(pool.size / 1024));

  // the reference: the teacher over the pool for the logits, a feature teacher over it again for the features
  const read = (rows: Uint32Array) => pool.readSamples(rows);
  const logits = teacherOutputs(main, read, pool.size).get('logits')!;
  const feat = teacherOutputs(await graphTeacher(main.graph!, ['fc1'], [64]), read, pool.size).get('fc1')!;
  const labels = replayLabels(main, replay, [0, 5], logits);
  const keep = selectReplay('herding', 40, labels, logits, 10, [0, 5], { data: feat, dim: feat.length / pool.size });
  const one = teacherOutputs(h.teacher, read, pool.size);
  assert.equal(bytes(one.get('logits')!), bytes(logits));
  assert.equal(bytes(one.get('fc1')!), bytes(feat));
  assert.equal(
    [...buf.labels],
    Array.from(keep, (i) => labels[i]!),
  );
  assert.equal(bytes(everyRow(buf.data)), bytes(pool.readSamples(keep)));
  // a real case: labels of several old classes, and features that choose other samples than the first ones
  assert.ok(new Set(buf.labels).size >= 3, `labels ${[...new Set(buf.labels)]}`);
  assert.not.equal([...keep], [...selectReplay('first', 40, labels, logits, 10, [0, 5])]);
  // border reads the logits alone: the job's teacher, also once
  const seenB = { rows: 0, calls: 0 };
  replayBuffer(counted(main, seenB), { ...replay, select: { by: 'border', count: 40 } }, [0, 5], 'test');
  assert.is(seenB.rows, pool.size);
});

test('through distill(): an unlabelled pool herded, its labels from the same pass’s logits', async () => {
  const previous = await previousModel();
  const pool = digitRows((y) => y < 5, 200, false),
    newTrain = digitRows((y) => y >= 5, 720);
  const job = (replay: DistillJob['replay']): DistillJob => ({
    teacher: previous,
    student: mlpGraph(),
    data: newTrain,
    labelled: true,
    epochs: 1,
    batch: 32,
    optimizer: { kind: 'adam' },
    lr: 0.01,
    alpha: 0.5,
    measure: false,
    seed: 3,
    oldClasses: [0, 5],
    replay,
  });
  const replay: Replay = { data: pool, labelled: false, share: 0.25, select: { by: 'herding', count: 30 } };
  const herded = await distill(job(replay));
  // the two-pass buffer, given as a labelled replay file
  const main = await graphTeacher(previous, [], [64]);
  const read = (rows: Uint32Array) => pool.readSamples(rows);
  const logits = teacherOutputs(main, read, pool.size).get('logits')!;
  const feat = teacherOutputs(await graphTeacher(previous, ['fc1'], [64]), read, pool.size).get('fc1')!;
  const labels = replayLabels(main, replay, [0, 5], logits);
  const keep = selectReplay('herding', 30, labels, logits, 10, [0, 5], { data: feat, dim: feat.length / pool.size });
  const given = datasetOf(
    pool.readSamples(keep),
    [64],
    Int32Array.from(keep, (i) => labels[i]!),
  );
  const direct = await distill(job({ data: given, labelled: true, share: 0.25 }));
  const w = (g: Graph) => [...g.tensors.values()].filter((x) => x.data).map((x) => bytes(x.data as Float32Array));
  assert.equal(w(herded.model), w(direct.model));
});

test('α 0 (labels only), a labelled pool: every rule selects; first runs no teacher', async () => {
  const pool = digitRows((y) => y < 5, 200),
    newTrain = digitRows((y) => y >= 5, 720);
  const seen = { rows: 0, calls: 0 };
  const main = await graphTeacher(mlpGraph(), [], [64]);
  const replay: Replay = { data: pool, labelled: true, share: 0.25, select: { by: 'first', count: 30 } };
  const buf = replayBuffer(counted(main, seen), replay, [0, 5], 'test');
  assert.is(seen.rows, 0);
  const keep = selectReplay('first', 30, pool.labels, new Float32Array(0), 10, [0, 5]);
  assert.equal(
    [...buf.labels],
    Array.from(keep, (i) => pool.labels[i]!),
  );
  const job = (r: Replay): DistillJob => ({
    teacher: mlpGraph(),
    student: mlpGraph(),
    data: newTrain,
    labelled: true,
    epochs: 1,
    batch: 32,
    optimizer: { kind: 'adam' },
    lr: 0.01,
    alpha: 0,
    measure: false,
    seed: 3,
    oldClasses: [0, 5],
    replay: r,
  });
  const w = (g: Graph) => [...g.tensors.values()].filter((x) => x.data).map((x) => bytes(x.data as Float32Array));
  const first = await distill(job(replay));
  const given = datasetOf(
    pool.readSamples(keep),
    [64],
    Int32Array.from(keep, (i) => pool.labels[i]!),
  );
  assert.equal(w(first.model), w((await distill(job({ data: given, labelled: true, share: 0.25 }))).model));
  for (const by of ['border', 'herding'] as const)
    assert.is(
      (await distill(job({ ...replay, select: { by, count: 30 } }))).model.nodes.length,
      first.model.nodes.length,
    );
});

test.run();
