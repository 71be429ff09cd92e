// QAD and continual distillation through distill() itself on the digits fixture (8×8 images, an MLP student):
// QAD starts at post-training calibration of the starting weights (ranges frozen and lr 0: its int8 bundle is
// PTQ's, byte for byte); after real QAD steps the int8 bundle equals the fake-quant graph's simulated outputs
// within one output step on ≥ 99.9 % of elements (what was trained is what runs); a replay buffer's rows are
// the stored samples with the previous model's top-1 as labels, and it keeps the old classes where LwF alone
// loses them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cloneGraph, compileGraph } from '../../compiler/compile.ts';
import { datasetOf, distill, type DistillJob } from '../../compiler/distill/index.ts';
import { replayLabels, withReplay } from '../../compiler/distill/replay.ts';
import { topAmong } from '../../compiler/distill/report.ts';
import { graphTeacher } from '../../compiler/distill/teacher.ts';
import type { Graph } from '../../compiler/ir/graph.ts';
import { quantize } from '../../compiler/quantize/index.ts';
import { activationQuant } from '../../compiler/quantize/params.ts';
import { insertFakeQuant } from '../../compiler/train/fake-quant.ts';
import { buildTrainingGraph, withBatch } from '../../compiler/train/training-graph.ts';
import { load } from '../../runtime/node.ts';
import { digits, mlpGraph, TRAIN_N } from '../cli/train-fixtures.ts';

const d = digits();
const n = d.n - TRAIN_N;
const train = datasetOf(d.x.slice(0, TRAIN_N * 64), [64], Int32Array.from(d.y.slice(0, TRAIN_N)));
const valX = d.x.slice(TRAIN_N * 64, d.n * 64);
const bytes = (a: Uint8Array | Float32Array) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

const job = (teacher: Graph, student: Graph, over: Partial<DistillJob> = {}): DistillJob => ({
  teacher,
  student,
  data: train,
  labelled: true,
  epochs: 2,
  batch: 32,
  optimizer: { kind: 'adam' },
  lr: 0.005,
  measure: false,
  seed: 3,
  ...over,
});

/** The rows of `x` / `y` whose label `keep` holds, as a labelled data set. */
function classes(x: Float32Array, y: ArrayLike<number>, count: number, keep: (k: number) => boolean) {
  const rows = Array.from({ length: count }, (_, i) => i).filter((i) => keep(y[i]!));
  const out = new Float32Array(rows.length * 64);
  rows.forEach((r, i) => out.set(x.subarray(r * 64, (r + 1) * 64), i * 64));
  return datasetOf(
    out,
    [64],
    Int32Array.from(rows, (r) => y[r]!),
  );
}

/** Top-1 of a model on `data`, the argmax over the classes [from, to) (default: all ten). */
const top1 = (g: Graph, data: ReturnType<typeof classes>, [from, to] = [0, 10]) =>
  load(compileGraph(g).bundle).then((m) => {
    const y = m.run({ x: data.readSamples(Uint32Array.from({ length: data.size }, (_, i) => i)) })[
      m.info.outputs[0]!.name
    ] as Float32Array;
    let ok = 0;
    for (let i = 0; i < data.size; i++) {
      let b = from;
      for (let k = from + 1; k < to; k++) if (y[i * 10 + k]! > y[i * 10 + b]!) b = k;
      if (b === data.labels[i]) ok++;
    }
    return ok / data.size;
  });

/** The fixture MLP without its Softmax: logits out (what the int8 / fake-quant comparison reads). */
function logitsMlp(): Graph {
  const g = mlpGraph();
  g.nodes = g.nodes.filter((x) => x.op !== 'Softmax');
  g.outputs = ['logits'];
  return g;
}

let teacher: Graph, floatStudent: Graph;
test.before(async () => {
  teacher = (await distill(job(mlpGraph(), mlpGraph(), { alpha: 0, epochs: 4, lr: 0.01 }))).model;
  floatStudent = (await distill(job(teacher, logitsMlp()))).model;
});

test('QAD starts at PTQ: ranges frozen at the calibration and lr 0 give PTQ’s int8 bundle, byte for byte', async () => {
  const r = await distill(
    job(teacher, floatStudent, { lr: 0, quantize: { freezeEpochs: 1, momentum: 0, calibration: 100 } }),
  );
  const samples = { input: 'x', data: Array.from({ length: 100 }, (_, i) => d.x.slice(i * 64, (i + 1) * 64)) };
  const ptq = (await quantize(floatStudent, { samples })).graph;
  assert.equal(
    bytes(compileGraph(r.int8!, { skipPasses: true }).bundle),
    bytes(compileGraph(ptq, { skipPasses: true }).bundle),
  );
});

test('QAD through distill(): the int8 bundle = the fake-quant graph within one output step on ≥ 99.9 %', async () => {
  const r = await distill(job(teacher, floatStudent, { epochs: 3, lr: 0.002, quantize: { freezeEpochs: 1 } }));
  const ranges = new Map<string, { min: number; max: number }>();
  for (const [k, v] of r.state.variables)
    if (k.endsWith(':range')) ranges.set(k.slice(0, -':range'.length), { min: v[0]!, max: v[1]! });
  assert.equal([...ranges.keys()].sort(), [...r.int8!.tensors.keys()].filter((t) => ranges.has(t)).sort());
  // the frozen fake-quant graph of the trained weights at batch n (lr 0: the step changes nothing)
  const fq = insertFakeQuant(withBatch(r.model, n), 0, ranges);
  const tg = buildTrainingGraph(fq.graph, { optimizer: { kind: 'sgd' } });
  const sim = (await load(compileGraph(tg.graph, { skipPasses: true }).bundle)).run({
    [tg.x]: valX,
    [tg.labels]: new Int32Array(n),
    [tg.lr]: Float32Array.of(0),
  })[tg.logits]!;
  const q8 = await load(compileGraph(r.int8!, { skipPasses: true }).bundle);
  const y = q8.run({ x: valX })[r.int8!.outputs[0]!]!;
  const step = activationQuant(ranges.get(r.model.outputs[0]!)!).scale[0]!;
  let within = 0;
  for (let i = 0; i < y.length; i++) if (Math.abs(y[i]! - sim[i]!) <= step * (1 + 1e-6)) within++;
  assert.is(y.length, n * 10);
  assert.ok(within / y.length >= 0.999, `${within}/${y.length} within one step (${step})`);
});

test('continual: a replay buffer is the stored samples with the previous model’s top-1; it keeps the old classes', async () => {
  const isOld = (k: number) => k < 5;
  const oldTrain = classes(d.x, d.y, TRAIN_N, isOld),
    newTrain = classes(d.x, d.y, TRAIN_N, (k) => !isOld(k));
  const valY = d.y.slice(TRAIN_N);
  const oldVal = classes(valX, valY, n, isOld),
    newVal = classes(valX, valY, n, (k) => !isOld(k));
  const previous = (await distill(job(teacher, mlpGraph(), { data: oldTrain, alpha: 0, epochs: 4, lr: 0.01 }))).model;
  // 40 stored old samples, no labels
  const buffer = datasetOf(oldTrain.readSamples(Uint32Array.from({ length: 40 }, (_, i) => i * 3)), [64]);
  const t = await graphTeacher(previous, [], [64]);
  const labels = replayLabels(t, { data: buffer, labelled: false });
  const mixed = withReplay(newTrain, { data: buffer, labelled: false, share: 0.25 }, labels, 'test');
  assert.is(mixed.size, newTrain.size + Math.round(newTrain.size / 3));
  const logits = t.run(buffer.readSamples(Uint32Array.from({ length: 40 }, (_, i) => i)), 40).get('logits')!;
  for (const row of [0, 5, newTrain.size - 1, newTrain.size, newTrain.size + 39, newTrain.size + 41, mixed.size - 1]) {
    const j = (row - newTrain.size) % 40;
    const src = row < newTrain.size ? newTrain : buffer;
    const at = row < newTrain.size ? row : j;
    assert.equal(bytes(mixed.readSamples([row])), bytes(src.readSamples([at])), `row ${row}`);
    if (row >= newTrain.size) {
      const l = logits.subarray(j * 10, j * 10 + 10);
      assert.is(mixed.labels[row], l.indexOf(Math.max(...l)), `label of row ${row}`);
    } else assert.is(mixed.labels[row], newTrain.labels[row]);
  }
  const cont = (replay?: DistillJob['replay'], evalSets?: DistillJob['evalSets']) =>
    distill(
      job(previous, cloneGraph(previous), {
        data: newTrain,
        oldClasses: [0, 5],
        alpha: 0.5,
        epochs: 3,
        replay,
        evalSets,
      }),
    );
  const lwf = (await cont()).model;
  const replayed = await cont({ data: buffer, labelled: false, share: 0.25 }, [{ name: 'old task', data: oldVal }]);
  const rep = replayed.model;
  // the report's old task among the old classes only: the previous model's and the result's own argmax over 0–4
  const among = replayed.report.sets[0]!.amongOld!;
  assert.is(among.before, await top1(previous, oldVal, [0, 5]));
  assert.is(among.after, await top1(rep, oldVal, [0, 5]));
  assert.ok(among.after >= replayed.report.sets[0]!.after!, 'fewer classes to lose to');
  const acc = await Promise.all([previous, lwf, rep].flatMap((g) => [top1(g, oldVal), top1(g, newVal)]));
  console.log(
    `  old / new classes: previous ${acc[0]} / ${acc[1]}, LwF ${acc[2]} / ${acc[3]}, LwF + 40 replayed ${acc[4]} / ${acc[5]}`,
  );
  assert.ok(acc[0]! > 0.85 && acc[1] === 0, 'the previous model knows classes 0–4 only');
  assert.ok(acc[4]! > acc[2]! + 0.3, 'replay keeps the old classes');
  assert.ok(acc[5]! > 0.75, 'and learns the new ones');
});

test('topAmong: argmax over [from, to) only, first maximum on ties, a label outside counts as wrong', () => {
  // rows: best overall 4 but 1 among [1, 3); tie 1 = 2 → 1; label 0 (outside [1, 3)); best 2
  const logits = Float32Array.of(0, 2, 1, 0, 9, 0, 3, 3, 0, 0, 5, 1, 0, 0, 0, 0, 1, 4, 0, 0);
  assert.is(topAmong(logits, Int32Array.of(1, 1, 0, 2), 4, [1, 3]), 3 / 4);
  assert.is(topAmong(logits, Int32Array.of(2, 2, 2, 1), 4, [1, 3]), 0);
});

test.run();
