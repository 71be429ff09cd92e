// distill() (compiler/distill/) on the digits fixture (8×8 images): a teacher MLP trained here in a second
// (α 0: labels only), a half-width student. The teacher's cached outputs equal a fresh run of every batch
// byte for byte; the per-epoch terms sum to the loss; the same job gives the same bytes; an interrupted run
// resumed from its state gives the uninterrupted run's bytes; QAD writes an int8 graph with the learned
// ranges that agrees with its float self; bad jobs are refused naming the node or field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileGraph } from '../../compiler/compile.ts';
import { datasetOf, distill, type DistillJob } from '../../compiler/distill/index.ts';
import { TeacherBatches } from '../../compiler/distill/batches.ts';
import { graphTeacher } from '../../compiler/distill/teacher.ts';
import { studentPlan } from '../../compiler/distill/plan.ts';
import { runPasses } from '../../compiler/passes/index.ts';
import { cloneGraph } from '../../compiler/compile.ts';
import type { Graph, Node, Tensor } from '../../compiler/ir/graph.ts';
import { inferShapes } from '../../compiler/passes/infer-shapes.ts';
import { BatchLoader } from '../../compiler/train/data/loader.ts';
import { NO_AUGMENT } from '../../compiler/train/data/augment.ts';
import { load } from '../../runtime/node.ts';
import { randF32, rng } from '../assembly/harness.ts';
import { digits, mlpGraph, TRAIN_N } from '../cli/train-fixtures.ts';

const d = digits();
const train = datasetOf(d.x.slice(0, TRAIN_N * 64), [64], Int32Array.from(d.y.slice(0, TRAIN_N)));
const val = datasetOf(d.x.slice(TRAIN_N * 64), [64], Int32Array.from(d.y.slice(TRAIN_N)));
const bytes = (a: Float32Array) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

/** 64 → 16 relu → 10, seeded uniform weights. */
function smallStudent(): Graph {
  const r = rng(9);
  const t = (name: string, shape: number[], data?: Float32Array): [string, Tensor] => [
    name,
    { name, dtype: 'float32', shape, data },
  ];
  const tensors = new Map<string, Tensor>([
    t('x', [1, 64]),
    t('w1', [16, 64], randF32(r, 1024, -0.3, 0.3)),
    t('b1', [16], new Float32Array(16)),
    t('w2', [10, 16], randF32(r, 160, -0.5, 0.5)),
    t('b2', [10], new Float32Array(10)),
  ]);
  const nodes: Node[] = [
    { name: 'fc1', op: 'Dense', inputs: ['x', 'w1', 'b1'], outputs: ['h'], attrs: { activation: 'relu' } },
    { name: 'fc2', op: 'Dense', inputs: ['h', 'w2', 'b2'], outputs: ['logits'], attrs: {} },
  ];
  const g: Graph = { name: 'student', tensors, nodes, inputs: ['x'], outputs: ['logits'], source: 'student.json' };
  inferShapes.run(g);
  return g;
}

const base = (teacher: Graph, over: Partial<DistillJob> = {}): DistillJob => ({
  teacher,
  student: smallStudent(),
  data: train,
  labelled: true,
  epochs: 2,
  batch: 32,
  optimizer: { kind: 'adam' },
  lr: 0.005,
  measure: false,
  ...over,
});

let teacherGraph: Graph;
test.before(async () => {
  // the teacher: the fixture MLP trained on the labels (α 0) for 4 epochs
  const r = await distill({ ...base(mlpGraph()), student: mlpGraph(), alpha: 0, epochs: 4, lr: 0.01 });
  teacherGraph = r.model;
});

test('the teacher is trained; KD student: terms kd + ce + hint sum to the loss; accuracy reported', async () => {
  const r = await distill({
    ...base(teacherGraph),
    validation: val,
    hints: [{ teacher: 'fc1', student: 'fc1' }],
    hintWeight: 0.5,
  });
  assert.ok(r.report.teacher.accuracy! > 0.85, `teacher ${r.report.teacher.accuracy}`);
  assert.equal(r.report.terms, ['kd', 'ce', 'hint:fc1']);
  for (const e of r.report.epochs) {
    const sum = Object.values(e.terms).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - e.loss) <= 1e-6 * Math.abs(e.loss), `terms ${sum} vs loss ${e.loss}`);
  }
  assert.ok(r.report.student.accuracy! > 0.7, `student ${r.report.student.accuracy}`);
  assert.is(r.report.runner, 'sharded');
  assert.is(r.report.student.macs, 64 * 16 + 16 * 10);
  // the written model is the student without the regressor
  assert.equal(
    r.model.nodes.map((n) => n.name),
    ['fc1', 'fc2'],
  );
});

test('cached teacher outputs = a fresh teacher run of every batch, byte for byte', async () => {
  const teacher = await graphTeacher(teacherGraph, ['fc1'], [64]);
  const plan = await studentPlan(runPasses(cloneGraph(smallStudent())), {
    batch: 24,
    temperature: 4,
    alpha: 0.7,
    optimizer: { kind: 'sgd' },
    seed: 0,
    build: 'simd',
    threads: 1,
    hints: [{ student: 'h', teacher: 'fc1', teacherShape: [32], weight: 1 }],
  });
  const loader = new BatchLoader(train, { batch: 24, seed: 3, augment: NO_AUGMENT });
  const cached = new TeacherBatches(loader, teacher, plan.training, true, false);
  const fresh = new TeacherBatches(loader, teacher, plan.training, true, false, false);
  assert.ok(cached.cached && !fresh.cached);
  for (const [e, k] of [
    [0, 0],
    [0, 17],
    [1, 5],
    [2, loader.batchesPerEpoch - 1],
  ] as const) {
    const a = cached.batch(e, k),
      b = fresh.batch(e, k);
    assert.equal(bytes(a.y as Float32Array), bytes(b.y as Float32Array), `logits, batch ${e}/${k}`);
    assert.equal(Object.keys(a.targets!), ['labels', 'teacher:fc1']);
    for (const n of Object.keys(a.targets!)) assert.equal(Array.from(a.targets![n]!), Array.from(b.targets![n]!), n);
  }
  await plan.close();
});

test('same job → same bytes; interrupted after epoch 1 and resumed → the uninterrupted bytes', async () => {
  const job = base(teacherGraph, { epochs: 2, relational: { kinds: ['distance'], weight: 1 } });
  const a = await distill(job),
    b = await distill(job);
  assert.is(a.report.runner, 'whole');
  const w = (g: Graph) =>
    g.nodes
      .flatMap((n) => n.inputs)
      .filter((i) => g.tensors.get(i)?.data)
      .map((i) => bytes(g.tensors.get(i)!.data as Float32Array));
  assert.equal(w(a.model), w(b.model));
  const stop = new AbortController();
  const part = await distill({ ...job, signal: stop.signal, onEpoch: () => stop.abort() });
  assert.is(part.status, 'aborted');
  assert.equal(part.state.epoch, 1);
  const rest = await distill({ ...job, resume: part.state });
  assert.equal(w(rest.model), w(a.model));
});

test('QAD: ranges tracked then frozen; the int8 graph (learned ranges) agrees with its float self', async () => {
  const r = await distill({ ...base(teacherGraph), epochs: 3, validation: val, quantize: { freezeEpochs: 1 } });
  assert.equal(
    r.report.epochs.map((e) => e.phase),
    ['tracking', 'tracking', 'frozen'],
  );
  assert.ok(r.int8);
  assert.ok(
    r.int8!.nodes.filter((n) => n.op === 'Dense').every((n) => r.int8!.tensors.get(n.outputs[0]!)!.dtype === 'int8'),
    'Dense layers int8',
  );
  assert.is(r.report.int8!.ranges, 3, 'x, h (fused relu), logits');
  const f = r.report.student.accuracy!,
    q = r.report.int8!.accuracy!;
  assert.ok(Math.abs(f - q) <= 0.02, `int8 ${q} vs float ${f}`);
  const m = await load(compileGraph(r.int8!, { skipPasses: true }).bundle);
  assert.is(m.info.outputs[0]!.shape.at(-1), 10);
});

test('continual, old classes only: terms ce + kd-old; the teacher input is its logits of classes 0–4', async () => {
  const rows = Array.from({ length: TRAIN_N }, (_, i) => i).filter((i) => d.y[i]! >= 5);
  const x = new Float32Array(rows.length * 64);
  rows.forEach((r, i) => x.set(d.x.subarray(r * 64, (r + 1) * 64), i * 64));
  const data = datasetOf(
    x,
    [64],
    Int32Array.from(rows, (r) => d.y[r]!),
  );
  const r = await distill(base(teacherGraph, { data, oldClasses: [0, 5], alpha: 0.5, epochs: 1 }));
  assert.equal(r.report.terms, ['ce', 'kd-old']);
  const teacher = await graphTeacher(teacherGraph, [], [64]);
  const plan = await studentPlan(runPasses(cloneGraph(smallStudent())), {
    batch: 16,
    temperature: 4,
    alpha: 0.5,
    optimizer: { kind: 'sgd' },
    seed: 0,
    build: 'simd',
    threads: 1,
    hints: [],
    oldClasses: [0, 5],
  });
  const tb = new TeacherBatches(
    new BatchLoader(data, { batch: 16, seed: 1 }),
    teacher,
    plan.training,
    true,
    false,
    true,
    [0, 5],
  );
  const b = tb.batch(0, 2);
  const full = teacher.run(b.x, 16).get('logits')!;
  const old = b.targets!['teacher:old-classes']!;
  for (let i = 0; i < 16; i++)
    assert.equal(Array.from(old.subarray(i * 5, i * 5 + 5)), Array.from(full.subarray(i * 10, i * 10 + 5)));
  await plan.close();
});

test('bad jobs: named node, field or file', async () => {
  const bad = async (over: Partial<DistillJob>, re: RegExp) => {
    try {
      await distill(base(teacherGraph, over));
    } catch (e) {
      assert.match((e as Error).message, re);
      return;
    }
    assert.unreachable(`no error for ${JSON.stringify(Object.keys(over))}`);
  };
  await bad({ hints: [{ teacher: 'nope', student: 'fc1' }] }, /node 'nope'.*not in the teacher/);
  await bad({ hints: [{ teacher: 'fc1', student: 'nope' }] }, /student\.json: node 'nope'.*not in the student/);
  await bad({ alpha: 1.5 }, /alpha: must be in \[0, 1\]/);
  await bad({ oldClasses: [3, 12] }, /oldClasses: must be a class range \[from, to\) inside \[0, 10\)/);
  await bad({ temperature: 0 }, /temperature: must be > 0/);
  await bad({ labelled: false, alpha: 0.5 }, /alpha: 0\.5 < 1 mixes in the labels/);
  const five = cloneGraph(teacherGraph);
  five.tensors.get('w2')!.shape = [5, 32];
  five.tensors.get('w2')!.data = (five.tensors.get('w2')!.data as Float32Array).slice(0, 160);
  five.tensors.get('b2')!.shape = [5];
  five.tensors.get('b2')!.data = new Float32Array(5);
  inferShapes.run(five);
  await bad({ teacher: five }, /the student has 10 classes, the teacher \(mlp\.json\) 5/);
});

test('an NCHW teacher of an NHWC student gets the samples transposed', async () => {
  const r = rng(4);
  const g: Graph = {
    name: 'nchw',
    source: 'nchw.onnx',
    inputs: ['x'],
    outputs: ['y'],
    tensors: new Map<string, Tensor>([
      ['x', { name: 'x', dtype: 'float32', shape: [1, 3, 2, 2] }],
      ['w', { name: 'w', dtype: 'float32', shape: [4, 12], data: randF32(r, 48, -1, 1) }],
    ]),
    nodes: [
      { name: 'tr', op: 'Transpose', inputs: ['x'], outputs: ['t'], attrs: { perm: [0, 2, 3, 1] } },
      { name: 'fl', op: 'Flatten', inputs: ['t'], outputs: ['f'], attrs: { axis: 1 } },
      { name: 'fc', op: 'Dense', inputs: ['f', 'w', ''], outputs: ['y'], attrs: {} },
    ],
  };
  inferShapes.run(g);
  const nchw = randF32(r, 5 * 12, -1, 1);
  // the same 5 images as NHWC [5,2,2,3]
  const nhwc = new Float32Array(60);
  for (let s = 0; s < 5; s++)
    for (let c = 0; c < 3; c++) for (let p = 0; p < 4; p++) nhwc[s * 12 + p * 3 + c] = nchw[s * 12 + c * 4 + p]!;
  const direct = (await graphTeacher(g, [], [3, 2, 2])).run(nchw, 5).get('logits')!;
  const moved = (await graphTeacher(g, [], [2, 2, 3])).run(nhwc, 5).get('logits')!;
  assert.equal(bytes(moved), bytes(direct));
});

test.run();
