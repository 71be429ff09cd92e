// Several targets per step (runtime/train.ts Batch.targets, runtime/train-shards.ts StepFeed.targets): a KD step
// with hard labels, a FitNets hint and a relational term fed through wasmStepRunner + Trainer gives the same
// bytes as feeding the bundle by hand; the weighted loss terms are outputs summing to the loss exactly (f32
// adds in term order); the data-parallel runner is byte-identical for 1 and 2 threads with targets and terms and
// within 1e-6·(1 + |v|) of the unsharded run; one target: termOutputs changes no bundle byte.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildTrainingGraph, type TrainingOptions } from '../../compiler/train/training-graph.ts';
import { prepareHints, relationalLosses } from '../../compiler/train/distill-loss.ts';
import { buildShardedTraining, compileShardedTraining } from '../../compiler/train/shard.ts';
import { compileGraph } from '../../compiler/compile.ts';
import type { Graph } from '../../compiler/ir/graph.ts';
import { load } from '../../runtime/node.ts';
import { Trainer, trainingSpec, wasmStepRunner, type Batch, type BatchSource } from '../../runtime/train.ts';
import { parallelStepRunner, trainParallel } from '../../runtime/train-parallel.ts';
import type { TensorArray } from '../../runtime/index.ts';
import { rng, randF32 } from '../assembly/harness.ts';
import { mlpGraph } from '../compiler/train/mlp.ts';

const B = 6;
const bytes = (a: TensorArray) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

/** KD α 0.6 T 2 (teacher logits + hard labels), a hint fc2:y [B,5] ← teacher feature [B,7], optionally RKD distance. */
function kdSetup(relational: boolean): { fwd: Graph; opts: TrainingOptions } {
  const h = prepareHints(mlpGraph(B), [{ student: 'fc2:y', teacher: 'feat', teacherShape: [B, 7], weight: 0.5 }]);
  const extra = [...h.losses];
  if (relational) extra.push(...relationalLosses('sig:y', 'emb', [B, 4], [{ kind: 'distance', weight: 2 }]));
  return {
    fwd: h.graph,
    opts: {
      loss: { kind: 'kd', alpha: 0.6, temperature: 2 },
      optimizer: { kind: 'adam' },
      extraLosses: extra,
      termOutputs: true,
    },
  };
}

/** Batches by (epoch, index) with every target the bundle names (teacher logits, labels, feature, embedding). */
function source(targets: string[], n: number): BatchSource {
  return {
    batchesPerEpoch: n,
    batch(e, k): Batch {
      const r = rng(100 * e + k + 1);
      const labels = Int32Array.from({ length: B }, () => Math.floor(r() * 3));
      const x = randF32(r, B * 6, -1.5, 1.5);
      const y = randF32(r, B * 3, -2, 2);
      const t: Record<string, Int32Array | Float32Array> = {};
      for (const name of targets)
        t[name] = name.startsWith('labels') ? labels : randF32(r, name.includes('feat') ? B * 7 : B * 4, -1, 1);
      return { x, y, targets: t, labels };
    },
  };
}

test('KD + hint + RKD: Trainer over wasmStepRunner = the bundle fed by hand, byte for byte; terms sum to the loss', async () => {
  const { fwd, opts } = kdSetup(true);
  const tg = buildTrainingGraph(fwd, opts);
  assert.equal(
    tg.terms.map((t) => t.name),
    ['kd', 'ce', 'hint:feat', 'rkd-distance'],
  );
  const bundle = compileGraph(tg.graph, { skipPasses: true }).bundle;
  const m = await load(bundle, { build: 'simd' });
  const spec = trainingSpec(m);
  assert.equal(spec.targets, ['labels', 'teacher:feat', 'teacher:emb']);
  assert.equal(
    spec.terms,
    tg.terms.map((t) => t.output),
  );
  const src = source(spec.targets, 3);
  const trainer = new Trainer(wasmStepRunner(m, spec));
  const steps: { loss: number; terms: number[] }[] = [];
  const res = await trainer.fit(src, {
    epochs: 2,
    lr: 0.01,
    onStep: (r) => void steps.push({ loss: r.loss, terms: r.terms! }),
  });
  assert.is(steps.length, 6);
  for (const s of steps) {
    const sum = s.terms.reduce((a, v) => Math.fround(a + v), 0);
    assert.is(sum, s.loss, `terms ${s.terms} vs loss ${s.loss}`);
  }
  assert.is(res.epochs[0]!.terms!.length, 4);
  assert.ok(res.epochs[0]!.accuracy !== undefined, 'accuracy from Batch.labels');

  const by = await load(bundle, { build: 'simd' });
  let t = 0;
  for (let e = 0; e < 2; e++)
    for (let k = 0; k < 3; k++, t++) {
      const b = src.batch(e, k);
      by.run({
        [tg.x]: b.x,
        [tg.labels]: b.y,
        ...b.targets,
        [tg.lr]: Float32Array.of(0.01),
        [tg.step!]: Float32Array.of(t + 1),
      });
    }
  for (const v of m.variables) assert.equal(bytes(m.readVariable(v.name)), bytes(by.readVariable(v.name)), v.name);
});

test('data-parallel with targets: 1 and 2 threads byte-identical (weights, terms), within 1e-6 of unsharded', async () => {
  const { fwd, opts } = kdSetup(false);
  const full = buildTrainingGraph(fwd, opts);
  const spec = trainingSpec(await load(compileGraph(full.graph, { skipPasses: true }).bundle));
  const sharded = compileShardedTraining(buildShardedTraining(fwd, B, opts, 2));
  assert.equal(sharded.plan.gradient.targets, ['labels', 'teacher:feat']);
  const runs: { w: number[][]; terms: number[][]; vars: Map<string, Float32Array> }[] = [];
  for (const threads of [1, 2]) {
    const p = await trainParallel(sharded, { threads, build: 'simd' });
    const terms: number[][] = [];
    const tr = new Trainer(parallelStepRunner(p, spec));
    await tr.fit(source(spec.targets, 3), { epochs: 2, lr: 0.01, onStep: (r) => void terms.push(r.terms!) });
    const vars = tr.runner.readVariables();
    runs.push({ w: [...vars.values()].map(bytes), terms, vars });
    await p.close();
  }
  assert.equal(runs[0]!.w, runs[1]!.w);
  assert.equal(runs[0]!.terms, runs[1]!.terms);
  const m = await load(compileGraph(full.graph, { skipPasses: true }).bundle, { build: 'simd' });
  await new Trainer(wasmStepRunner(m, spec)).fit(source(spec.targets, 3), { epochs: 2, lr: 0.01 });
  for (const [name, v] of runs[0]!.vars) {
    const u = m.readVariable(name);
    v.forEach((x, i) =>
      assert.ok(Math.abs(x - u[i]!) <= 1e-6 * (1 + Math.abs(u[i]!)), `${name}[${i}] ${x} vs ${u[i]}`),
    );
  }
});

test('one target: termOutputs changes no byte of the training or shard bundles', () => {
  const opts: TrainingOptions = { optimizer: { kind: 'sgd', momentum: 0.9 } };
  const plain = compileGraph(buildTrainingGraph(mlpGraph(B), opts).graph, { skipPasses: true }).bundle;
  const withTerms = compileGraph(buildTrainingGraph(mlpGraph(B), { ...opts, termOutputs: true }).graph, {
    skipPasses: true,
  }).bundle;
  assert.equal(bytes(withTerms), bytes(plain));
  const a = compileShardedTraining(buildShardedTraining(mlpGraph(B), B, opts, 3));
  const b = compileShardedTraining(buildShardedTraining(mlpGraph(B), B, { ...opts, termOutputs: true }, 3));
  assert.equal(bytes(a.gradient), bytes(b.gradient));
  assert.equal(a.plan, b.plan);
});

test.run();
