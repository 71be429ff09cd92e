// Where the data-parallel step (`edgec train` at every thread count) first went non-finite:
// findNonFiniteSharded (compiler/train/diagnose.ts) reruns the shards in order and names the step's shard and
// the first layer in forward order, or the first layer whose gradient went non-finite in the backward pass.
// The poisons are built so each site is the first one (forward finite, backward overflowing, …).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileTraining } from '../../../compiler/train/compile-training.ts';
import { buildShardedTraining, compileShardedTraining } from '../../../compiler/train/shard.ts';
import { describeSite, findNonFiniteSharded } from '../../../compiler/train/diagnose.ts';
import { NonFiniteLossError, Trainer, type Batch, type TrainerState } from '../../../runtime/train.ts';
import { parallelStepRunner, trainParallel } from '../../../runtime/train-parallel.ts';
import { rng, randF32 } from '../../assembly/harness.ts';
import { mlpGraph } from './mlp.ts';

const B = 6,
  S = 3,
  opts = { optimizer: { kind: 'sgd' as const, momentum: 0.9 } };
const compiled = compileTraining(mlpGraph(B), B, opts);
const st = buildShardedTraining(compiled.forward, B, opts, S);

function batch(k: number): Batch {
  const r = rng(70 + k);
  return { x: randF32(r, B * 6, -1.5, 1.5), y: Int32Array.from({ length: B }, () => Math.floor(r() * 3)) };
}

test('threads 2 and 1: the same failing step and site (the trainer stops there, the rerun names the layer)', async () => {
  const source = { batchesPerEpoch: 8, batch: (_e: number, i: number) => batch(i) };
  const fail = async (threads: number) => {
    const t = await trainParallel(compileShardedTraining(st), { threads });
    assert.is(t.threads, threads);
    const trainer = new Trainer(parallelStepRunner(t, compiled.spec));
    try {
      await trainer.fit(source, { epochs: 1, lr: 1e20 });
    } catch (e) {
      return e as NonFiniteLossError;
    } finally {
      await t.close();
    }
    throw new Error(`threads ${threads}: no non-finite loss`);
  };
  const err = await fail(2);
  assert.instance(err, NonFiniteLossError);
  const site = await findNonFiniteSharded(st, err.state, err.input, err.lr, 'simd');
  // lr 1e20: step 0's update leaves finite but huge weights, so step 1's logits are finite and its loss is not
  assert.match(err.message, /^step 1 \(epoch 1, batch 2\): the loss is NaN/);
  for (const [k, v] of err.state.variables) assert.ok(v.every(Number.isFinite), `${k} finite before step 1`);
  assert.equal(site, {
    node: 'loss/SoftmaxCrossEntropy',
    op: 'SoftmaxCrossEntropy',
    phase: 'loss',
    shard: 0,
    shards: S,
  });
  assert.is(
    describeSite(site!),
    "first non-finite value: the loss node 'loss/SoftmaxCrossEntropy' (SoftmaxCrossEntropy) of shard 1/3",
  );
  const one = await fail(1);
  assert.is(one.message, err.message);
  assert.equal(await findNonFiniteSharded(st, one.state, one.input, one.lr, 'simd'), site);
});

test('a gradient that overflows while the forward pass stays finite: names the layer and the shard', async () => {
  const t = await trainParallel(compileShardedTraining(st), { threads: 1 });
  const vars = new Map([...t.model.variables].map((v) => [v.name, Float32Array.from(t.model.readVariable(v.name))]));
  await t.close();
  const state: TrainerState = { step: 0, epoch: 0, batch: 0, variables: vars };
  // sample 3 (shard 2) ×1e21 meets w1 ×1e-21: fc1 stays O(1); w2 ×1e19 keeps logits ~1e19 (finite loss) but
  // makes fc1's output gradient ~1e18, so dW1 = xᵀ·dy ~1e39 overflows in shard 2 alone
  const scale = (name: string, f: number) =>
    vars.set(
      name,
      vars.get(name)!.map((v) => v * f),
    );
  scale('w1', 1e-21);
  scale('w2', 1e19);
  const b = batch(0);
  for (let i = 3 * 6; i < 4 * 6; i++) b.x[i] = b.x[i]! * 1e21;
  for (const build of ['simd', 'scalar'] as const) {
    const site = await findNonFiniteSharded(st, state, b, 0.05, build);
    assert.is(site?.phase, 'backward', build);
    assert.is(site?.layer, 'fc1', build);
    assert.is(site?.shard, 1, build);
    assert.match(describeSite(site!), /^first non-finite value: the gradient of layer 'fc1' \(node 'fc1\/grad\//);
    assert.match(describeSite(site!), / in the backward pass of shard 2\/3$/);
  }
});

test('a NaN in the batch is named as input before any shard runs', async () => {
  const t = await trainParallel(compileShardedTraining(st), { threads: 1 });
  const state = { step: 0, epoch: 0, batch: 0, variables: new Map<string, Float32Array>() };
  await t.close();
  const b = batch(1);
  b.x[9] = NaN;
  assert.equal(await findNonFiniteSharded(st, state, b, 0.05, 'simd'), {
    node: st.plan.gradient.x,
    op: 'input',
    phase: 'input',
  });
});

test.run();
