// The on-device training API (runtime/train.ts) on the digits MLP: fit() learns and reports per step
// and epoch, evaluate() equals scoring the logits of an ordinary inference bundle, a run stopped at
// step k and continued from state() in a fresh instance ends on the bytes of an uninterrupted run,
// a non-finite loss leaves the trainer in the state before the failing step, and findNonFinite names
// the first layer in forward order.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileGraph } from '../../compiler/compile.ts';
import { compileTraining } from '../../compiler/train/compile-training.ts';
import { findNonFinite } from '../../compiler/train/diagnose.ts';
import { load } from '../../runtime/node.ts';
import {
  arrayBatches,
  NonFiniteLossError,
  scoreLogits,
  Trainer,
  trainingSpec,
  wasmEvaluator,
  wasmStepRunner,
  type StepReport,
} from '../../runtime/train.ts';
import { digits, mlpGraph, TRAIN_N } from '../cli/train-fixtures.ts';

const d = digits();
const X = d.x.slice(0, TRAIN_N * 64),
  Y = Int32Array.from(d.y.slice(0, TRAIN_N));
const VX = d.x.slice(TRAIN_N * 64),
  VY = Int32Array.from(d.y.slice(TRAIN_N));
const BATCH = 32;
const compiled = compileTraining(mlpGraph(), BATCH, { optimizer: { kind: 'sgd', momentum: 0.9 } });
const batches = () => arrayBatches(X, Y, { batch: BATCH, sampleShape: [64], seed: 11 });
const val = arrayBatches(VX, VY, { batch: BATCH, sampleShape: [64], shuffle: false, dropLast: false });

async function trainer(): Promise<Trainer> {
  const m = await load(compiled.trainBundle, { build: 'simd' });
  return new Trainer(wasmStepRunner(m, compiled.spec), { evaluator: wasmEvaluator(await load(compiled.evalBundle)) });
}
const bytesOf = (m: Map<string, Float32Array>) =>
  [...m].map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')]);

test('trainingSpec reads the names off the bundle as compileTraining gives them', async () => {
  assert.equal(trainingSpec(await load(compiled.trainBundle)), compiled.spec);
  assert.equal(compiled.spec.params, ['w1', 'b1', 'w2', 'b2']);
  assert.equal(compiled.spec.moments, {
    w1: ['w1:velocity'],
    b1: ['b1:velocity'],
    w2: ['w2:velocity'],
    b2: ['b2:velocity'],
  });
});

test('fit: loss falls over 3 epochs, reports add up, validation equals scoring an inference bundle', async () => {
  const t = await trainer();
  const steps: StepReport[] = [];
  const r = await t.fit(batches(), {
    epochs: 3,
    lr: 0.05,
    validation: val,
    onStep: (s) => {
      steps.push(s);
    },
  });
  assert.is(r.status, 'done');
  assert.equal(r.position, { step: 135, epoch: 3, batch: 0 });
  assert.is(steps.length, 135);
  assert.equal(
    steps.slice(44, 46).map((s) => [s.step, s.epoch, s.batch]),
    [
      [44, 0, 44],
      [45, 1, 0],
    ],
  );
  const e = r.epochs;
  assert.ok(Math.abs(e[0]!.loss - steps.slice(0, 45).reduce((a, s) => a + s.loss, 0) / 45) < 1e-12);
  assert.is(e[0]!.accuracy, steps.slice(0, 45).reduce((a, s) => a + s.correct!, 0) / 1440);
  assert.ok(e[2]!.loss < 0.3 * e[0]!.loss, JSON.stringify(e.map((x) => x.loss)));
  // the validation report = scoring the logits of a plain inference bundle holding the trained weights
  const g = mlpGraph();
  g.tensors.get('x')!.shape = [VY.length, 64];
  g.outputs = ['logits'];
  g.nodes = g.nodes.filter((n) => n.op !== 'Softmax');
  for (const [k, w] of t.weights()) g.tensors.get(k)!.data = w;
  const plain = await load(compileGraph(g).bundle);
  const want = scoreLogits(plain.run({ x: VX }).logits as Float32Array, VY, VY.length);
  const got = e[2]!.validation!;
  assert.is(got.samples, 357);
  assert.is(got.accuracy, want.accuracy);
  assert.ok(Math.abs(got.loss! - want.loss!) < 1e-6, `${got.loss} vs ${want.loss}`);
  assert.ok(got.accuracy! > 0.8, String(got.accuracy));
});

test('stop at step k, continue from state() in a fresh instance: the bytes of an uninterrupted run', async () => {
  const full = await trainer();
  await full.fit(batches(), { epochs: 2, lr: (s) => 0.05 / (1 + s / 30) });
  for (const k of [1, 45, 67]) {
    const a = await trainer();
    const stop = new AbortController();
    const r = await a.fit(batches(), {
      epochs: 2,
      lr: (s) => 0.05 / (1 + s / 30),
      signal: stop.signal,
      onStep: (s) => {
        if (s.step === k - 1) stop.abort();
      },
    });
    assert.is(r.status, 'aborted');
    assert.is(r.position.step, k);
    const saved = a.state();
    const b = await trainer();
    b.restore(saved);
    const rest = await b.fit(batches(), { epochs: 2, lr: (s) => 0.05 / (1 + s / 30) });
    assert.is(rest.position.step, 90);
    assert.equal(bytesOf(b.runner.readVariables()), bytesOf(full.runner.readVariables()), `stopped at ${k}`);
  }
});

test('non-finite loss: the trainer is left at the state before the failing step', async () => {
  const t = await trainer();
  let err: NonFiniteLossError | undefined;
  try {
    await t.fit(batches(), { epochs: 1, lr: 1e20 });
  } catch (e) {
    err = e as NonFiniteLossError;
  }
  assert.instance(err, NonFiniteLossError);
  const k = err!.position.step;
  assert.ok(k >= 1, `step ${k}`);
  const ref = await trainer();
  const stop = new AbortController();
  await ref.fit(batches(), {
    epochs: 1,
    lr: 1e20,
    signal: stop.signal,
    onStep: (s) => {
      if (s.step === k - 1) stop.abort();
    },
  });
  assert.equal(bytesOf(err!.state.variables), bytesOf(ref.runner.readVariables()));
  assert.equal(bytesOf(t.runner.readVariables()), bytesOf(ref.runner.readVariables()));
  assert.is(t.position.step, k);
});

test('findNonFinite: the first layer in forward order, then the backward pass', async () => {
  const t = await trainer();
  const b = batches().batch(0, 0);
  const state = t.state();
  const poisoned = (name: string, at: number, v: number) => {
    const vars = new Map(state.variables);
    const w = Float32Array.from(vars.get(name)!);
    w[at] = v;
    vars.set(name, w);
    return { ...state, variables: vars };
  };
  assert.is(await findNonFinite(compiled.training, state, b, 0.05, 'simd'), undefined);
  assert.equal(await findNonFinite(compiled.training, poisoned('w1', 5, NaN), b, 0.05, 'simd'), {
    node: 'fc1',
    op: 'Dense',
    phase: 'forward',
  });
  assert.equal(await findNonFinite(compiled.training, poisoned('w2', 3, Infinity), b, 0.05, 'scalar'), {
    node: 'fc2',
    op: 'Dense',
    phase: 'forward',
  });
  const x = Float32Array.from(b.x);
  x[7] = NaN;
  assert.equal((await findNonFinite(compiled.training, state, { x, y: b.y }, 0.05, 'simd'))?.phase, 'input');
});

test.run();
