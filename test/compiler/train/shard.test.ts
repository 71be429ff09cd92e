// Data-parallel training (compiler/train/shard.ts, runtime/train-shards.ts, runtime/train-parallel.ts):
// 1, 2 and 3 threads (and the scalar build) give byte-identical losses, logits, weights and moments over
// several steps; S = 1 is the unsharded training bundle byte for byte; S > 1 changes only the batch
// summation order: one step within 1e-6·(1 + |v|) of the float64 reference step, five steps within
// 1e-6·(1 + |v|) of the unsharded float32 run (measured ≤ 3.3e-7 for AdamW, 6.4e-8 for SGD). Bad shard counts, feeds and thread counts are refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildTrainingGraph, type TrainingOptions } from '../../../compiler/train/training-graph.ts';
import { buildShardedTraining, compileShardedTraining, defaultShards } from '../../../compiler/train/shard.ts';
import { compileGraph } from '../../../compiler/compile.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { load } from '../../../runtime/node.ts';
import { trainParallel, type ParallelTrainer } from '../../../runtime/train-parallel.ts';
import type { TensorArray } from '../../../runtime/index.ts';
import { rng, randF32 } from '../../assembly/harness.ts';
import { cnnGraph, mlpGraph } from './mlp.ts';

const B = 6,
  CLASSES = 3;

/** Step k's batch: x in [−1.5, 1.5], class labels (or float32 teacher logits for the KL loss). */
function batch(fwd: Graph, k: number, teacher: boolean) {
  const r = rng(40 + k);
  const per = fwd.tensors
    .get(fwd.inputs[0]!)!
    .shape.slice(1)
    .reduce((a, b) => a * b, 1);
  const x = randF32(r, B * per, -1.5, 1.5);
  const labels: TensorArray = teacher
    ? randF32(r, B * CLASSES, -2, 2)
    : Int32Array.from({ length: B }, () => Math.floor(r() * CLASSES));
  return { x, labels, lr: 0.05 / (1 + k / 4), step: k + 1 };
}

const bytes = (a: TensorArray) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

async function runTrainer(t: ParallelTrainer, fwd: Graph, steps: number, teacher: boolean) {
  const losses: number[] = [],
    logits: number[][] = [];
  for (let k = 0; k < steps; k++) {
    const out = await t.step(batch(fwd, k, teacher));
    losses.push(out.loss);
    logits.push(bytes(out.logits));
  }
  const state = t.model.variables.map((v) => [v.name, bytes(t.model.readVariable(v.name))] as const);
  await t.close();
  return { losses, logits, state };
}

const CASES: [string, () => Graph, TrainingOptions][] = [
  [
    'cnn sgd nesterov wd 1e-3, clip 1',
    () => cnnGraph(B),
    { optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-3 }, clipNorm: 1 },
  ],
  ['cnn adamw, KL T=2', () => cnnGraph(B), { optimizer: { kind: 'adamw' }, loss: { kind: 'kl', temperature: 2 } }],
];

for (const [name, make, opts] of CASES) {
  const teacher = opts.loss?.kind === 'kl';
  test(`${name}, B ${B} in 3 shards, 5 steps: 1, 2, 3 threads and scalar×2 give the same bytes (losses, logits, weights, moments)`, async () => {
    const fwd = make();
    const bundles = compileShardedTraining(buildShardedTraining(fwd, B, opts, 3));
    const one = await runTrainer(await trainParallel(bundles, { threads: 1, build: 'simd' }), fwd, 5, teacher);
    assert.ok(one.losses[4]! < one.losses[0]! * 1.5, 'training ran');
    for (const [threads, build] of [
      [2, 'simd'],
      [3, 'simd'],
      [2, 'scalar'],
    ] as const) {
      const t = await trainParallel(bundles, { threads, build });
      assert.is(t.threads, threads);
      const got = await runTrainer(t, fwd, 5, teacher);
      assert.equal(got.losses, one.losses, `${threads} threads ${build}: losses`);
      assert.equal(got.logits, one.logits, `${threads} threads ${build}: logits`);
      assert.equal(got.state, one.state, `${threads} threads ${build}: state bytes`);
    }
  });

  test(`${name}: S = 1 equals the unsharded bundle byte for byte; S = 3 within 1e-6 of it and of the float64 step`, async () => {
    const fwd = make();
    const tg = buildTrainingGraph(fwd, opts);
    const full = await load(compileGraph(tg.graph, { skipPasses: true }).bundle, { build: 'simd' });
    const feedOf = (k: number): Record<string, TensorArray> => {
      const f = batch(fwd, k, teacher);
      return {
        [tg.x]: f.x,
        [tg.labels]: f.labels,
        [tg.lr]: Float32Array.of(f.lr),
        ...(tg.step ? { [tg.step]: Float32Array.of(f.step) } : {}),
      };
    };
    // float64 reference of the first (full-batch) step: the sharded step must be within 1e-6·(1 + |v|)
    const want = evaluate(tg.graph, feedOf(0), { all: true });
    const after = new Map<string, string>();
    for (const n of tg.graph.nodes) {
      if (n.op === 'SgdUpdate') {
        after.set(n.inputs[0]!, n.outputs[0]!);
        if (n.outputs[1]) after.set(n.inputs[2]!, n.outputs[1]);
      }
      if (n.op === 'AdamUpdate') [0, 2, 3].forEach((i, k) => after.set(n.inputs[i]!, n.outputs[k]!));
    }
    const s3 = await trainParallel(compileShardedTraining(buildShardedTraining(fwd, B, opts, 3)), { threads: 1 });
    const first = await s3.step(batch(fwd, 0, teacher));
    const near = (label: string, got: ArrayLike<number>, exp: ArrayLike<number>, tol: number) => {
      let worst = 0;
      for (let i = 0; i < exp.length; i++) {
        const e = Math.abs(got[i]! - exp[i]!) / (1 + Math.abs(exp[i]!));
        if (!(e <= tol)) assert.unreachable(`${label}[${i}]: got ${got[i]} want ${exp[i]} (tolerance ${tol})`);
        worst = Math.max(worst, e);
      }
      return worst;
    };
    near('loss vs float64', [first.loss], want[tg.loss]!, 1e-6);
    for (const [s, a] of after) near(`${s} vs float64`, s3.model.readVariable(s), want[a]!, 1e-6);

    const s1 = await trainParallel(compileShardedTraining(buildShardedTraining(fwd, B, opts, 1)), { threads: 2 });
    assert.is(s1.threads, 1, 'threads capped at the shard count');
    full.run(feedOf(0));
    await s1.step(batch(fwd, 0, teacher));
    for (let k = 1; k < 5; k++) {
      const f = full.run(feedOf(k));
      const o1 = await s1.step(batch(fwd, k, teacher)),
        o3 = await s3.step(batch(fwd, k, teacher));
      assert.equal(bytes(Float32Array.of(o1.loss)), bytes(f[tg.loss]!), `S=1 loss step ${k}`);
      near(`S=3 loss step ${k}`, [o3.loss], f[tg.loss]!, 1e-6);
    }
    for (const v of full.variables) {
      assert.equal(bytes(s1.model.readVariable(v.name)), bytes(full.readVariable(v.name)), `S=1 ${v.name}`);
      near(`S=3 ${v.name} after 5 steps`, s3.model.readVariable(v.name), full.readVariable(v.name), 1e-6);
    }
    await s1.close();
    await s3.close();
  });
}

test('shard counts: default the largest divisor ≤ 8; a count that does not divide the batch, bad feeds and threads refused', async () => {
  assert.equal(
    [1, 6, 7, 8, 12, 32, 100].map((b) => defaultShards(b)),
    [1, 6, 7, 8, 6, 8, 5],
  );
  assert.throws(
    () => buildShardedTraining(mlpGraph(4), 6, {}, 4),
    /mlp\.json: shards: must be a whole divisor of the batch 6, found 4/,
  );
  const bundles = compileShardedTraining(buildShardedTraining(mlpGraph(4), 6, {}, 2));
  await trainParallel(bundles, { threads: 0 }).then(
    () => assert.unreachable('threads 0'),
    (e: Error) => assert.match(e.message, /threads must be a whole number ≥ 1, found 0/),
  );
  const t = await trainParallel(bundles, { threads: 2 });
  await t.step({ x: new Float32Array(35), labels: new Int32Array(6), lr: 0.1 }).then(
    () => assert.unreachable('short x'),
    (e: Error) => assert.match(e.message, /step: x must be a Float32Array of 6 samples, found 35 elements/),
  );
  // a label outside the classes: the worker's error comes back as the step's error
  await t.step({ x: new Float32Array(36), labels: Int32Array.of(0, 1, 2, 0, 9, 1), lr: 0.1 }).then(
    () => assert.unreachable('label 9'),
    (e: Error) => assert.match(e.message, /label 9 of sample 1 is outside \[0, 3\)/),
  );
  await t.close();
});

test.run();
