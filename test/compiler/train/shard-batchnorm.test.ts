// Data-parallel training with BatchNorm in training mode (compiler/train/shard.ts, BatchNormMerge): each shard
// normalises with its own statistics, the update merges the shards' into the whole batch's running statistics.
// 1, 2, 3 threads and the scalar build give the same bytes (state incl. running statistics); S = 1 is the unsharded
// step byte for byte; one S = 3 step is within 1e-5·(1 + |v|) of its float64 reference (three float64 shard steps,
// the mean gradient, running statistics from the float64 statistics of the whole batch); the input BatchNorm's
// running statistics after 5 steps are within 1e-5·(1 + |v|) of the float64 moving average of the batches' own. The
// validation bundle of a kept BatchNorm (BatchNormEval_F32) agrees across builds and twins and with float64.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildTrainingGraph, withBatch, type TrainingOptions } from '../../../compiler/train/training-graph.ts';
import { buildShardedTraining, compileShardedTraining } from '../../../compiler/train/shard.ts';
import { compileGraph } from '../../../compiler/compile.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import type { Graph, Node, Tensor } from '../../../compiler/ir/graph.ts';
import { inferShapes } from '../../../compiler/passes/infer-shapes.ts';
import { load } from '../../../runtime/node.ts';
import { trainParallel, type ParallelTrainer } from '../../../runtime/train-parallel.ts';
import type { TensorArray } from '../../../runtime/index.ts';
import { rng, randF32, VARIANTS } from '../../assembly/harness.ts';
import { compileTraining } from '../../../compiler/train/compile-training.ts';
import { wasmEvaluator } from '../../../runtime/train.ts';

const B = 6,
  CLASSES = 3;

/** x [B,3,3,2] → bn0 (on the input) → Conv 3×3 same (3) → bn1 → Relu → GlobalAvgPool → Flatten → Dense 3→3. */
function bnCnn(batch: number): Graph {
  const r = rng(11);
  const t = (name: string, shape: number[], data?: Float32Array): [string, Tensor] => [
    name,
    { name, dtype: 'float32', shape, data },
  ];
  const tensors = new Map<string, Tensor>([
    t('x', [batch, 3, 3, 2]),
    t('g0', [2], randF32(r, 2, 0.5, 1.5)),
    t('be0', [2], randF32(r, 2, -0.3, 0.3)),
    t('m0', [2], randF32(r, 2, -0.2, 0.2)),
    t('v0', [2], randF32(r, 2, 0.5, 2)),
    t('cw', [3, 3, 3, 2], randF32(r, 54, -0.5, 0.5)),
    t('cb', [3], randF32(r, 3, -0.2, 0.2)),
    t('g1', [3], randF32(r, 3, 0.5, 1.5)),
    t('be1', [3], randF32(r, 3, -0.3, 0.3)),
    t('m1', [3], randF32(r, 3, -0.2, 0.2)),
    t('v1', [3], randF32(r, 3, 0.5, 2)),
    t('w', [3, 3], randF32(r, 9, -0.8, 0.8)),
    t('b', [3], randF32(r, 3, -0.2, 0.2)),
  ]);
  const node = (name: string, op: Node['op'], inputs: string[], attrs: Node['attrs'] = {}): Node => ({
    name,
    op,
    inputs,
    outputs: [`${name}:y`],
    attrs,
  });
  const g: Graph = {
    name: 'bncnn',
    tensors,
    nodes: [
      node('bn0', 'BatchNorm', ['x', 'g0', 'be0', 'm0', 'v0'], { epsilon: 1e-5 }),
      node('conv', 'Conv2D', ['bn0:y', 'cw', 'cb'], { padding: 'same' }),
      node('bn1', 'BatchNorm', ['conv:y', 'g1', 'be1', 'm1', 'v1'], { epsilon: 1e-3 }),
      node('relu', 'Relu', ['bn1:y']),
      node('gap', 'GlobalAvgPool', ['relu:y']),
      node('flat', 'Flatten', ['gap:y'], { axis: 1 }),
      node('fc', 'Dense', ['flat:y', 'w', 'b']),
    ],
    inputs: ['x'],
    outputs: ['fc:y'],
    source: 'bncnn.json',
  };
  inferShapes.run(g);
  return g;
}

/** Step k's batch: x offset per channel so the statistics are not those of N(0, 1). */
function batch(k: number) {
  const r = rng(70 + k);
  const x = randF32(r, B * 18, -1.5, 1.5).map((v, i) => (i % 2 === 0 ? 2 * v + 0.5 : v - 0.3));
  const labels = Int32Array.from({ length: B }, () => Math.floor(r() * CLASSES));
  return { x, labels, lr: 0.05, step: k + 1 };
}

const bytes = (a: TensorArray) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const OPTS: TrainingOptions = { optimizer: { kind: 'sgd', momentum: 0.9 }, batchNormMomentum: 0.1 };

function near(label: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): number {
  assert.is(got.length, want.length, label);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!));
    if (!(e <= tol)) assert.unreachable(`${label}[${i}]: got ${got[i]} want ${want[i]} (tolerance ${tol})`);
    worst = Math.max(worst, e);
  }
  return worst;
}

async function run(t: ParallelTrainer, steps: number) {
  const losses: number[] = [],
    logits: number[][] = [];
  for (let k = 0; k < steps; k++) {
    const o = await t.step(batch(k));
    losses.push(o.loss);
    logits.push(bytes(o.logits));
  }
  const state = t.model.variables.map((v) => [v.name, bytes(t.model.readVariable(v.name))] as const);
  await t.close();
  return { losses, logits, state };
}

test('BN train, B 6 in 3 shards, 5 steps: 1, 2, 3 threads and scalar give the same bytes (running statistics too)', async () => {
  const st = buildShardedTraining(bnCnn(1), B, OPTS, 3);
  assert.equal(st.plan.gradient.stats!.length, 4, 'mean and variance of bn0 and bn1');
  const bundles = compileShardedTraining(st);
  const one = await run(await trainParallel(bundles, { threads: 1, build: 'simd' }), 5);
  const names = one.state.map(([n]) => n);
  for (const s of ['m0', 'v0', 'm1', 'v1', 'g0', 'be1']) assert.ok(names.includes(s), `${s} is a variable`);
  for (const [threads, build, reference] of [
    [2, 'simd', false],
    [3, 'simd', false],
    [3, 'scalar', false],
    [2, 'simd', true],
  ] as const) {
    const got = await run(await trainParallel(bundles, { threads, build, reference }), 5);
    assert.equal(got.losses, one.losses, `${threads} threads ${build}: losses`);
    assert.equal(got.logits, one.logits, `${threads} threads ${build}: logits`);
    assert.equal(got.state, one.state, `${threads} threads ${build}: state bytes`);
  }
});

test('BN train: S = 1 equals the unsharded training bundle byte for byte over 5 steps', async () => {
  const tg = buildTrainingGraph(withBatch(bnCnn(1), B), OPTS);
  const full = await load(compileGraph(tg.graph, { skipPasses: true }).bundle, { build: 'simd' });
  const s1 = await trainParallel(compileShardedTraining(buildShardedTraining(bnCnn(1), B, OPTS, 1)), { threads: 1 });
  for (let k = 0; k < 5; k++) {
    const f = batch(k);
    const want = full.run({ [tg.x]: f.x, [tg.labels]: f.labels, [tg.lr]: Float32Array.of(f.lr) });
    const got = await s1.step(f);
    assert.equal(bytes(Float32Array.of(got.loss)), bytes(want[tg.loss]!), `loss step ${k}`);
  }
  for (const v of full.variables)
    assert.equal(bytes(s1.model.readVariable(v.name)), bytes(full.readVariable(v.name)), v.name);
  await s1.close();
});

test('BN train, S = 3: one step against float64 shard steps and whole-batch statistics; bn0 after 5 steps', async () => {
  const fwd = bnCnn(1);
  const sg = buildTrainingGraph(withBatch(fwd, B / 3), OPTS);
  const f = batch(0);
  // float64: each shard's step from the same weights; the weights move by the mean of the shard gradients
  const shards = [0, 1, 2].map((s) =>
    evaluate(
      sg.graph,
      { [sg.x]: f.x.slice(s * 36, (s + 1) * 36), [sg.labels]: f.labels.slice(s * 2, (s + 1) * 2), [sg.lr]: [f.lr] },
      { all: true },
    ),
  );
  const t = await trainParallel(compileShardedTraining(buildShardedTraining(fwd, B, OPTS, 3)), { threads: 2 });
  await t.step(f);
  let worst = 0;
  for (const p of sg.params) {
    const g = sg.graph.nodes.find((n) => n.op === 'SgdUpdate' && n.inputs[0] === p)!.inputs[1]!;
    const w0 = sg.graph.state!.get(p)!;
    // momentum 0.9 from zero velocity: the first step is w − lr·ḡ
    const want = Array.from(
      w0,
      (w, i) => w - f.lr * ((shards[0]![g]![i]! + shards[1]![g]![i]! + shards[2]![g]![i]!) / 3),
    );
    worst = Math.max(worst, near(`${p} after one step`, t.model.readVariable(p), want, 1e-5));
  }
  // running statistics: PyTorch's update with the whole batch's mean and unbiased variance (M = 6·9 rows)
  for (const n of sg.graph.nodes.filter((o) => o.op === 'BatchNormTrain')) {
    const c = sg.graph.state!.get(n.inputs[3]!)!.length;
    const rows = shards.flatMap((sh) => {
      const x = sh[n.inputs[0]!]!;
      return Array.from({ length: x.length / c }, (_, i) => Array.from(x.subarray(i * c, (i + 1) * c)));
    });
    assert.is(rows.length, 54);
    const mean = Array.from({ length: c }, (_, k) => rows.reduce((s, r) => s + r[k]!, 0) / rows.length);
    const uvar = mean.map((m, k) => rows.reduce((s, r) => s + (r[k]! - m) ** 2, 0) / (rows.length - 1));
    const rm = sg.graph.state!.get(n.inputs[3]!)!,
      rv = sg.graph.state!.get(n.inputs[4]!)!;
    worst = Math.max(
      worst,
      near(
        `${n.name} running mean`,
        t.model.readVariable(n.inputs[3]!),
        mean.map((m, k) => 0.9 * rm[k]! + 0.1 * m),
        1e-5,
      ),
      near(
        `${n.name} running var`,
        t.model.readVariable(n.inputs[4]!),
        uvar.map((v, k) => 0.9 * rv[k]! + 0.1 * v),
        1e-5,
      ),
    );
  }
  // bn0 normalises the input: its running statistics follow the data alone, step after step
  let rm = Array.from(sg.graph.state!.get('m0')!),
    rv = Array.from(sg.graph.state!.get('v0')!);
  const ema = (k: number) => {
    const x = batch(k).x;
    for (let ch = 0; ch < 2; ch++) {
      const col = Array.from({ length: x.length / 2 }, (_, i) => x[i * 2 + ch]!);
      const m = col.reduce((a, b) => a + b, 0) / col.length;
      const v = col.reduce((a, b) => a + (b - m) ** 2, 0) / (col.length - 1);
      rm[ch] = 0.9 * rm[ch]! + 0.1 * m;
      rv[ch] = 0.9 * rv[ch]! + 0.1 * v;
    }
  };
  ema(0);
  for (let k = 1; k < 5; k++) {
    await t.step(batch(k));
    ema(k);
  }
  worst = Math.max(worst, near('m0 after 5 steps', t.model.readVariable('m0'), rm, 1e-5));
  worst = Math.max(worst, near('v0 after 5 steps', t.model.readVariable('v0'), rv, 1e-5));
  await t.close();
  assert.ok(worst < 1e-5, `worst relative error ${worst}`);
});

test('BN train: the default shards keep ≥ 16 samples a shard; frozen BatchNorm shards as before', () => {
  assert.is(buildShardedTraining(bnCnn(1), 32, OPTS).plan.shards, 2);
  assert.is(buildShardedTraining(bnCnn(1), 64, OPTS).plan.shards, 4);
  assert.is(buildShardedTraining(bnCnn(1), 8, OPTS).plan.shards, 1);
  const frozen = buildShardedTraining(bnCnn(1), 32, { ...OPTS, batchNorm: 'frozen' });
  assert.is(frozen.plan.shards, 8);
  assert.is(frozen.plan.gradient.stats, undefined);
});

test('validation bundle (BatchNormEval_F32, running statistics as variables): every build and twin the same bytes, float64 within 1e-5', async () => {
  const c = compileTraining(bnCnn(1), B, OPTS, { keepBatchNorm: true });
  assert.ok(
    c.forward.nodes.some((n) => n.op === 'BatchNorm'),
    'BatchNorm kept',
  );
  // trained-looking values: every variable moved away from the model's
  const r = rng(5);
  const vars = new Map(
    [...c.training.params, ...c.training.runningStats].map((p) => {
      const w = c.training.graph.state!.get(p)!;
      return [p, w.map((v) => v * (0.8 + 0.4 * r()) + (p.startsWith('v') ? 0.1 : 0))] as const;
    }),
  );
  const x = batch(3).x;
  const g = structuredClone(c.forward);
  for (const [k, v] of vars) g.tensors.get(k)!.data = v;
  const want = evaluate(withBatch(g, B), { [g.inputs[0]!]: x })[c.training.logits]!;
  let first: number[] | undefined;
  for (const v of VARIANTS) {
    const ev = wasmEvaluator(await load(c.evalBundle, v));
    const got = ev.logits(x, B, vars);
    near(`${v.build}${v.reference ? '-ref' : ''} logits`, got, want, 1e-5);
    first ??= bytes(got);
    assert.equal(bytes(got), first, `${v.build} ref=${v.reference}: the same bytes`);
  }
});

test.run();
