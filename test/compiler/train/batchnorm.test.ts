// BatchNorm in training: the BatchNormTrain / BatchNormGrad rule against float64 central differences (train and
// frozen modes); one wasm step against the float64 step, running statistics included, in all four builds; many steps
// byte-identical across builds and twins; a trained model exported to ONNX, re-imported and compiled for inference
// (BN folded) against the float64 reference in eval mode. Tolerances: gradients 1e-6·(1 + |g|) with h = 1e-5;
// wasm vs float64 1e-5·(1 + |v|) (batch statistics of f32 sums).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ModelError, type Graph, type Node, type Tensor } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import {
  buildTrainingGraph,
  withTrainedState,
  type TrainingGraph,
  type TrainingOptions,
} from '../../../compiler/train/training-graph.ts';
import { compileGraph } from '../../../compiler/compile.ts';
import { inferShapes } from '../../../compiler/passes/infer-shapes.ts';
import { exportOnnx } from '../../../compiler/export/onnx.ts';
import { parseOnnx } from '../../../compiler/frontend/onnx/index.ts';
import { load } from '../../../runtime/node.ts';
import type { TensorArray } from '../../../runtime/index.ts';
import { VARIANTS, rng, randF32 } from '../../assembly/harness.ts';

/**
 * x [B,5,5,2] → Conv 3×3 same (3) → bn1 → Relu → GlobalAvgPool → Flatten → Dense 3→4 → bn2 (rank 2) → Relu →
 * Dense 4→3 logits. BatchNorm on NHWC (M = B·25 rows) and on [B, C] (M = B).
 */
function bnGraph(batch: number, seed = 4): Graph {
  const r = rng(seed);
  const t = (name: string, shape: number[], data?: Float32Array): [string, Tensor] => [
    name,
    { name, dtype: 'float32', shape, data },
  ];
  const tensors = new Map<string, Tensor>([
    t('x', [batch, 5, 5, 2]),
    t('cw', [3, 3, 3, 2], randF32(r, 54, -0.5, 0.5)),
    t('cb', [3], randF32(r, 3, -0.2, 0.2)),
    t('g1', [3], randF32(r, 3, 0.5, 1.5)),
    t('be1', [3], randF32(r, 3, -0.3, 0.3)),
    t('m1', [3], randF32(r, 3, -0.2, 0.2)),
    t('v1', [3], randF32(r, 3, 0.5, 2)),
    t('w1', [4, 3], randF32(r, 12, -0.8, 0.8)),
    t('b1', [4], randF32(r, 4, -0.2, 0.2)),
    t('g2', [4], randF32(r, 4, 0.5, 1.5)),
    t('be2', [4], randF32(r, 4, -0.3, 0.3)),
    t('m2', [4], randF32(r, 4, -0.2, 0.2)),
    t('v2', [4], randF32(r, 4, 0.5, 2)),
    t('w2', [3, 4], randF32(r, 12, -0.8, 0.8)),
  ]);
  const node = (name: string, op: Node['op'], inputs: string[], attrs: Node['attrs'] = {}): Node => ({
    name,
    op,
    inputs,
    outputs: [`${name}:y`],
    attrs,
  });
  const nodes: Node[] = [
    node('conv', 'Conv2D', ['x', 'cw', 'cb'], { padding: 'same' }),
    node('bn1', 'BatchNorm', ['conv:y', 'g1', 'be1', 'm1', 'v1'], { epsilon: 1e-3 }),
    node('relu1', 'Relu', ['bn1:y']),
    node('gap', 'GlobalAvgPool', ['relu1:y']),
    node('flat', 'Flatten', ['gap:y'], { axis: 1 }),
    node('fc1', 'Dense', ['flat:y', 'w1', 'b1']),
    node('bn2', 'BatchNorm', ['fc1:y', 'g2', 'be2', 'm2', 'v2'], { epsilon: 1e-5 }),
    node('relu2', 'Relu', ['bn2:y']),
    node('fc2', 'Dense', ['relu2:y', 'w2', '']),
  ];
  const g: Graph = { name: 'bn', tensors, nodes, inputs: ['x'], outputs: ['fc2:y'], source: 'bn.json' };
  inferShapes.run(g);
  return g;
}

function feedOf(tg: TrainingGraph, batch: number, seed: number, lr = 0.05): Record<string, TensorArray> {
  const r = rng(seed);
  return {
    [tg.x]: randF32(r, batch * 50, -1.5, 1.5),
    [tg.labels]: Int32Array.from({ length: batch }, (_, i) => (i * 5 + seed) % 3),
    [tg.lr]: Float32Array.of(lr),
  };
}

function gradCheck(opts: TrainingOptions, batch: number): { worst: number; count: number } {
  const tg = buildTrainingGraph(bnGraph(batch), opts);
  const g = { ...tg.graph, inputs: [...tg.graph.inputs, ...tg.params], state: new Map(tg.graph.state) };
  for (const p of tg.params) g.state.delete(p);
  const feed: Record<string, Float64Array> = Object.fromEntries(
    Object.entries(feedOf(tg, batch, 2)).map(([k, v]) => [k, Float64Array.from(v)]),
  );
  for (const p of tg.params) feed[p] = Float64Array.from(tg.graph.state!.get(p)!);
  const all = evaluate(g, feed, { all: true });
  const h = 1e-5;
  let worst = 0,
    count = 0;
  for (const p of tg.params) {
    const analytic = all[g.nodes.find((n) => n.op === 'SgdUpdate' && n.inputs[0] === p)!.inputs[1]!]!;
    for (let i = 0; i < analytic.length; i++) {
      const at = (d: number) => {
        const w = Float64Array.from(feed[p]!);
        w[i]! += d;
        return evaluate(g, { ...feed, [p]: w })[tg.loss]![0]!;
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      const err = Math.abs(analytic[i]! - numeric) / (1 + Math.abs(analytic[i]!));
      worst = Math.max(worst, err);
      count++;
      if (!(err <= 1e-6)) assert.unreachable(`d loss / d ${p}[${i}]: analytic ${analytic[i]} numeric ${numeric}`);
    }
  }
  return { worst, count };
}

test('BatchNorm train mode: every weight, gamma and beta gradient matches float64 central differences', () => {
  const { count } = gradCheck({}, 3);
  // conv 54 + 3, bn1 3 + 3, fc1 12 + 4, bn2 4 + 4, fc2 12
  assert.is(count, 99);
});

test('BatchNorm frozen mode (fixed affine): gradients through it match central differences; gamma/beta not trained', () => {
  const tg = buildTrainingGraph(bnGraph(3), { batchNorm: 'frozen' });
  assert.equal(tg.params, ['cw', 'cb', 'w1', 'b1', 'w2']);
  assert.equal(tg.runningStats, []);
  assert.is(gradCheck({ batchNorm: 'frozen' }, 3).count, 85);
  // one BatchNorm frozen by name, the other trained
  const one = buildTrainingGraph(bnGraph(3), { frozen: ['bn1'] });
  assert.equal(one.params, ['cw', 'cb', 'w1', 'b1', 'g2', 'be2', 'w2']);
  assert.equal(one.runningStats, ['m2', 'v2']);
});

/** The value each state tensor has after one step: the matching output of its update node. */
function nextState(tg: TrainingGraph): Map<string, string> {
  const next = new Map<string, string>();
  for (const n of tg.graph.nodes) {
    if (n.op === 'SgdUpdate') {
      next.set(n.inputs[0]!, n.outputs[0]!);
      if (n.outputs[1]) next.set(n.inputs[2]!, n.outputs[1]);
    }
    if (n.op === 'BatchNormTrain') {
      next.set(n.inputs[3]!, n.outputs[3]!);
      next.set(n.inputs[4]!, n.outputs[4]!);
    }
  }
  return next;
}

test('one step in the wasm (loss, weights, gamma/beta, running mean/var) matches the float64 step in all four builds', async () => {
  const tg = buildTrainingGraph(bnGraph(4), { optimizer: { kind: 'sgd', momentum: 0.9 }, batchNormMomentum: 0.2 });
  const { bundle } = compileGraph(tg.graph, { skipPasses: true });
  const feed = feedOf(tg, 4, 7);
  const want = evaluate(tg.graph, feed, { all: true });
  const next = nextState(tg);
  assert.is(next.size, tg.graph.state!.size);
  const close = (label: string, got: ArrayLike<number>, w: ArrayLike<number>) => {
    assert.is(got.length, w.length, label);
    for (let i = 0; i < w.length; i++) {
      if (!(Math.abs(got[i]! - w[i]!) <= 1e-5 * (1 + Math.abs(w[i]!))))
        assert.unreachable(`${label}[${i}]: got ${got[i]} want ${w[i]}`);
    }
  };
  for (const v of VARIANTS) {
    const m = await load(bundle, v);
    const out = m.run(feed);
    const tag = `${v.build}${v.reference ? '-ref' : ''}`;
    close(`${tag} loss`, out[tg.loss]!, want[tg.loss]!);
    for (const [s, after] of next) close(`${tag} ${s}`, m.readVariable(s), want[after]!);
  }
  // the running variance moved towards the unbiased batch variance (PyTorch): check bn2's against its definition
  const fc1 = want['fc1:y']!,
    v2 = tg.graph.state!.get('v2')!;
  for (let c = 0; c < 4; c++) {
    const col = [0, 1, 2, 3].map((k) => fc1[k * 4 + c]!);
    const mean = col.reduce((a, b) => a + b) / 4;
    const unbiased = col.reduce((a, b) => a + (b - mean) ** 2, 0) / 3;
    assert.ok(Math.abs(want[next.get('v2')!]![c]! - (0.8 * v2[c]! + 0.2 * unbiased)) < 1e-12, `v2[${c}]`);
  }
});

test('10 steps: simd, scalar and both reference-twin runs give byte-identical state and losses', async () => {
  const tg = buildTrainingGraph(bnGraph(6), { optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true } });
  const { bundle } = compileGraph(tg.graph, { skipPasses: true });
  const run = async (v: (typeof VARIANTS)[number]) => {
    const m = await load(bundle, v);
    const losses: number[] = [];
    for (let k = 0; k < 10; k++) losses.push(m.run(feedOf(tg, 6, 30 + (k % 3), 0.05))[tg.loss]![0]!);
    return {
      losses: Array.from(new Uint8Array(Float32Array.from(losses).buffer)),
      state: m.variables.map((t) => Array.from(new Uint8Array(m.readVariable(t.name).buffer))),
    };
  };
  const first = await run(VARIANTS[0]);
  assert.is(first.state.length, tg.graph.state!.size, 'weights, velocities and running statistics');
  assert.is(tg.graph.state!.size, 2 * tg.params.length + 4);
  for (const v of VARIANTS.slice(1)) {
    const r = await run(v);
    assert.equal(r.losses, first.losses, `${v.build} ref=${v.reference}: losses`);
    assert.equal(r.state, first.state, `${v.build} ref=${v.reference}: state bytes`);
  }
});

test('trained model exported to ONNX, re-imported and compiled (BN folded) matches the float64 eval-mode reference', async () => {
  const fwd = bnGraph(4);
  const tg = buildTrainingGraph(fwd, { optimizer: { kind: 'sgd', momentum: 0.9 } });
  const m = await load(compileGraph(tg.graph, { skipPasses: true }).bundle, { build: 'simd' });
  for (let k = 0; k < 4; k++) m.run(feedOf(tg, 4, 50 + k, 0.1));
  const trained = withTrainedState(fwd, tg, (name) => m.readVariable(name) as Float32Array);
  for (const s of ['g1', 'be1', 'm1', 'v1', 'm2', 'v2', 'cw']) {
    const before = fwd.tensors.get(s)!.data as Float32Array,
      after = trained.tensors.get(s)!.data as Float32Array;
    assert.ok(
      after.some((v, i) => v !== before[i]),
      `${s} changed by training`,
    );
    assert.equal(Array.from(after), Array.from(m.readVariable(s)), `${s} carried into the model`);
  }
  const reimported = parseOnnx(exportOnnx(trained), 'trained.onnx');
  const { bundle, graph } = compileGraph(reimported);
  assert.not.ok(
    graph.nodes.some((n) => n.op === 'BatchNorm'),
    'BatchNorm folded for inference',
  );
  const x = randF32(rng(99), 4 * 50, -1.5, 1.5);
  const want = evaluate(trained, { x })[trained.outputs[0]!]!;
  const inf = await load(bundle, { build: 'scalar' });
  const got = inf.run({ [reimported.inputs[0]!]: x })[reimported.outputs[0]!] as Float32Array;
  assert.is(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= 1e-5 * (1 + Math.abs(want[i]!))))
      assert.unreachable(`logit ${i}: got ${got[i]} want ${want[i]}`);
  }
});

test('BatchNorm training refusals name the node', () => {
  const g = bnGraph(2);
  // bn1's mean computed by a node instead of a constant
  g.tensors.set('m1c', { ...g.tensors.get('m1')!, name: 'm1c' });
  g.tensors.get('m1')!.data = undefined;
  g.nodes.unshift({ name: 'mean', op: 'Relu', inputs: ['m1c'], outputs: ['m1'], attrs: {} });
  assert.throws(
    () => buildTrainingGraph(g),
    (e: Error) =>
      e instanceof ModelError &&
      /node 'bn1' \(BatchNorm\): training needs float32 constant scale, bias, mean and var/.test(e.message),
  );
  // batch 1 through the dense BatchNorm: one value per channel has no batch variance
  assert.throws(
    () => buildTrainingGraph(bnGraph(1)),
    (e: Error) =>
      e instanceof ModelError &&
      /node 'bn2' \(BatchNormTrain\): batch statistics need more than one value per channel/.test(e.message),
  );
  assert.ok(
    buildTrainingGraph(bnGraph(1), { batchNorm: 'frozen' }).params.length === 5,
    'frozen mode trains at batch 1',
  );
});

test.run();
