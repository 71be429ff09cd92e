// One training step in the wasm (simd, scalar, and both with the reference twins) against the float64
// reference step of the same training graph; builds and twins byte-identical over many steps; reruns
// identical; the variables API; bundles that break the training contract refused at load.
// Tolerance of wasm (f32) vs float64: |got − want| ≤ 1e-6 · (1 + |want|) (measured ≤ 1e-7 on these cases).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  buildTrainingGraph,
  type TrainingGraph,
  type TrainingOptions,
} from '../../../compiler/train/training-graph.ts';
import { compileGraph, planLowered } from '../../../compiler/compile.ts';
import { lower } from '../../../compiler/lower/index.ts';
import { buildBundleSpec, compileMetadata } from '../../../compiler/emit/index.ts';
import { writeBundle, fb } from '../../../compiler/emit/bundle-writer.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { load } from '../../../runtime/node.ts';
import { BundleError, type TensorArray } from '../../../runtime/index.ts';
import { VARIANTS, rng, randF32 } from '../../assembly/harness.ts';
import { mlpGraph, broadcastGraph, cnnGraph } from './mlp.ts';

const TOL = 1e-6;

function batchOf(fwd: Graph, classes: number, seed: number) {
  const r = rng(seed);
  const shape = fwd.tensors.get(fwd.inputs[0]!)!.shape;
  const x = randF32(
    r,
    shape.reduce((a, b) => a * b, 1),
    -1.5,
    1.5,
  );
  const labels = Int32Array.from({ length: shape[0]! }, () => Math.floor(r() * classes));
  return { x, labels };
}

/** Every input of one training step: x, the loss target (labels, targets or teacher logits), lr, step. */
function feedOf(tg: TrainingGraph, fwd: Graph, seed: number, k = 1, lr = 0.05): Record<string, TensorArray> {
  const classes = tg.graph.tensors.get(tg.logits)!.shape[1]!;
  const { x, labels } = batchOf(fwd, classes, seed);
  const target = tg.graph.tensors.get(tg.labels)!;
  const feed: Record<string, TensorArray> = {
    [tg.x]: x,
    [tg.lr]: Float32Array.of(lr),
    [tg.labels]:
      target.dtype === 'int32'
        ? labels
        : randF32(
            rng(seed + 1),
            target.shape.reduce((a, b) => a * b, 1),
            -2,
            2,
          ),
  };
  if (tg.step) feed[tg.step] = Float32Array.of(k);
  return feed;
}

function close(label: string, got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.is(got.length, want.length, `${label}: length`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!));
    worst = Math.max(worst, err);
    if (!(err <= TOL)) assert.unreachable(`${label}[${i}]: got ${got[i]} want ${want[i]}`);
  }
  return worst;
}

const CASES: [string, () => Graph, TrainingOptions][] = [
  ['mlp sgd momentum 0.9', () => mlpGraph(6), { optimizer: { kind: 'sgd', momentum: 0.9 } }],
  [
    'mlp sgd nesterov wd 0.01, smoothing 0.1',
    () => mlpGraph(3),
    {
      optimizer: { kind: 'sgd', momentum: 0.8, nesterov: true, weightDecay: 0.01 },
      loss: { kind: 'softmax-cross-entropy', labelSmoothing: 0.1 },
    },
  ],
  ['broadcast plain sgd', () => broadcastGraph(4), { optimizer: { kind: 'sgd' } }],
  ['cnn sgd momentum 0.9 wd 1e-3', () => cnnGraph(3), { optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 1e-3 } }],
  ['mlp adam, clip 0.5', () => mlpGraph(5), { optimizer: { kind: 'adam', weightDecay: 1e-2 }, clipNorm: 0.5 }],
  [
    'cnn adamw, KL T=2 (teacher logits)',
    () => cnnGraph(2),
    { optimizer: { kind: 'adamw' }, loss: { kind: 'kl', temperature: 2 } },
  ],
  [
    'broadcast sgd, MSE targets, clip 0.1',
    () => broadcastGraph(3),
    { optimizer: { kind: 'sgd', momentum: 0.5 }, loss: { kind: 'mse' }, clipNorm: 0.1 },
  ],
];

for (const [name, make, opts] of CASES) {
  test(`${name}: one step (loss, logits, every weight and moment) matches the float64 step in all four builds`, async () => {
    const fwd = make();
    const tg = buildTrainingGraph(fwd, opts);
    const { bundle } = compileGraph(tg.graph, { skipPasses: true });
    const feed = feedOf(tg, fwd, 3);
    const want = evaluate(tg.graph, feed, { all: true });
    // the value each state tensor has after the step: the update node's matching output
    const next = new Map<string, string>();
    for (const n of tg.graph.nodes) {
      if (n.op === 'SgdUpdate') {
        next.set(n.inputs[0]!, n.outputs[0]!);
        if (n.outputs[1]) next.set(n.inputs[2]!, n.outputs[1]);
      }
      if (n.op === 'AdamUpdate') [0, 2, 3].forEach((i, k) => next.set(n.inputs[i]!, n.outputs[k]!));
    }
    assert.is(next.size, tg.graph.state!.size);
    for (const v of VARIANTS) {
      const m = await load(bundle, v);
      const out = m.run(feed);
      const tag = `${v.build}${v.reference ? '-ref' : ''}`;
      close(`${tag} loss`, out[tg.loss]!, want[tg.loss]!);
      close(`${tag} logits`, out[tg.logits]!, want[tg.logits]!);
      for (const [s, after] of next) close(`${tag} ${s}`, m.readVariable(s), want[after]!);
    }
  });
}

const NESTEROV: TrainingOptions = { optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-3 } };
const ADAMW: TrainingOptions = {
  optimizer: { kind: 'adamw' },
  clipNorm: 1,
  loss: { kind: 'softmax-cross-entropy', labelSmoothing: 0.1 },
};
for (const [name, make, steps, opts] of [
  ['mlp sgd nesterov', () => mlpGraph(8), 30, NESTEROV],
  ['cnn sgd nesterov', () => cnnGraph(4), 8, NESTEROV],
  ['cnn adamw clip 1 smoothing 0.1', () => cnnGraph(4), 8, ADAMW],
] as const) {
  test(`${name}, ${steps} steps: simd, scalar and both reference-twin runs give byte-identical weights, moments and losses; a rerun too`, async () => {
    const fwd = make();
    const tg = buildTrainingGraph(fwd, opts);
    const { bundle } = compileGraph(tg.graph, { skipPasses: true });
    const run = async (v: (typeof VARIANTS)[number]) => {
      const m = await load(bundle, v);
      const losses: TensorArray[] = [];
      // one batch again and again: the loss must fall (labels are random, so only memorising helps)
      for (let k = 0; k < steps; k++) losses.push(m.run(feedOf(tg, fwd, 100, k + 1, 0.05 / (1 + k / 10)))[tg.loss]!);
      return {
        losses: Float32Array.from(losses.map((l) => l[0]!)),
        state: m.variables.map((t) => Array.from(new Uint8Array(m.readVariable(t.name).buffer))),
      };
    };
    const first = await run(VARIANTS[0]);
    assert.ok(
      first.losses[steps - 1]! < first.losses[0]!,
      `loss fell: ${first.losses[0]} → ${first.losses[steps - 1]}`,
    );
    for (const v of [...VARIANTS, VARIANTS[0]]) {
      const r = await run(v);
      assert.equal(
        Array.from(new Uint8Array(r.losses.buffer)),
        Array.from(new Uint8Array(first.losses.buffer)),
        `${v.build} ref=${v.reference}: losses`,
      );
      assert.equal(r.state, first.state, `${v.build} ref=${v.reference}: state bytes`);
    }
  });
}

test('variables: names and shapes, read, write (a step then runs from the written weights), reset', async () => {
  const fwd = mlpGraph(4);
  const tg = buildTrainingGraph(fwd, { optimizer: { kind: 'sgd', momentum: 0.5 } });
  const { bundle } = compileGraph(tg.graph, { skipPasses: true });
  const m = await load(bundle, { build: 'simd' });
  assert.equal(
    m.variables.map((v) => v.name),
    ['w1', 'b1', 'w2', 'b2', 'w3', 'w1:velocity', 'b1:velocity', 'w2:velocity', 'b2:velocity', 'w3:velocity'],
  );
  assert.equal(m.variables[0]!.shape, [8, 6]);
  assert.equal(Array.from(m.readVariable('w1')), Array.from(fwd.tensors.get('w1')!.data as Float32Array));
  assert.equal(Array.from(m.readVariable('w1:velocity')), new Array(48).fill(0));
  const w3 = randF32(rng(9), 15);
  m.writeVariable('w3', w3);
  const { x, labels } = batchOf(fwd, 3, 4);
  const out = m.run({ [tg.x]: x, [tg.labels]: labels, [tg.lr]: Float32Array.of(0.1) });
  const g2 = { ...tg.graph, state: new Map(tg.graph.state) };
  g2.state.set('w3', w3);
  const want = evaluate(g2, { [tg.x]: x, [tg.labels]: labels, [tg.lr]: Float32Array.of(0.1) });
  close('loss from written w3', out[tg.loss]!, want[tg.loss]!);
  m.resetVariables();
  assert.equal(Array.from(m.readVariable('w3')), Array.from(fwd.tensors.get('w3')!.data as Float32Array));
  assert.equal(Array.from(m.readVariable('w3:velocity')), new Array(15).fill(0));
  assert.throws(
    () => m.readVariable('nope'),
    (e: Error) => e instanceof BundleError && /variable 'nope' is not in this bundle/.test(e.message),
  );
  assert.throws(
    () => m.writeVariable('w3', new Float32Array(3)),
    /writeVariable: 'w3' needs a Float32Array of 15 elements/,
  );
});

test('a label outside the classes stops the run with a message naming the node and the sample', async () => {
  const fwd = mlpGraph(4);
  const tg = buildTrainingGraph(fwd);
  const { bundle } = compileGraph(tg.graph, { skipPasses: true });
  for (const v of VARIANTS) {
    const m = await load(bundle, v);
    const { x } = batchOf(fwd, 3, 1);
    assert.throws(
      () => m.run({ [tg.x]: x, [tg.labels]: Int32Array.of(0, 1, 7, 2), [tg.lr]: Float32Array.of(0.1) }),
      (e: Error) =>
        e instanceof BundleError &&
        /node 'loss\/SoftmaxCrossEntropy'\): label 7 of sample 2 is outside \[0, 3\)/.test(e.message),
    );
  }
});

test('memory plan: variables pinned (no other tensor shares their bytes), activations reused; arena bytes', () => {
  const tg = buildTrainingGraph(mlpGraph(32), { optimizer: { kind: 'sgd', momentum: 0.9 } });
  const l = lower(tg.graph);
  const plan = planLowered(l);
  const size = (i: number) => l.tensors[i]!.shape.reduce((a, b) => a * b, 1) * 4;
  const arena = l.tensors.map((t, i) => i).filter((i) => !l.tensors[i]!.data && l.tensors[i]!.aliasOf === undefined);
  for (const v of arena.filter((i) => l.tensors[i]!.variable)) {
    for (const o of arena) {
      if (o === v) continue;
      const a0 = plan.offsets[v]!,
        a1 = a0 + size(v),
        b0 = plan.offsets[o]!,
        b1 = b0 + size(o);
      assert.ok(a1 <= b0 || b1 <= a0, `variable '${l.tensors[v]!.name}' overlaps '${l.tensors[o]!.name}'`);
    }
  }
  const total = arena.reduce((s, i) => s + size(i), 0);
  assert.ok(plan.arenaSize < total, `arena ${plan.arenaSize} reuses space (all tensors ${total})`);
});

test('training bundles that break the contract are refused at load', async () => {
  const tg = buildTrainingGraph(mlpGraph(2), { optimizer: { kind: 'sgd', momentum: 0.9 } });
  const l = lower(tg.graph);
  const spec = () => buildBundleSpec(l, planLowered(l), compileMetadata({}, 'm'));
  const refused = async (s: ReturnType<typeof spec>, re: RegExp) => {
    for (const build of ['simd', 'scalar'] as const) {
      await load(writeBundle(s), { build }).then(
        () => assert.unreachable(`accepted (${re})`),
        (e: Error) => assert.match(e.message, re),
      );
    }
  };
  let s = spec();
  const w1 = s.tensors.findIndex((t) => t.name === 'w1');
  s.tensors[w1]!.init = s.tensors.findIndex((t) => t.name === 'b1');
  await refused(s, /variable \d+ 'w1': init '.*' must be a constant of 192 bytes/);
  s = spec();
  s.tensors[w1]!.init = 10_000;
  await refused(s, /variable \d+ 'w1': init names tensor 10000, out of range/);
  s = spec();
  const upd = s.steps.findIndex((st) => st.node === 'w1/SgdUpdate');
  s.steps[upd]!.outputs[0] = s.steps[upd]!.inputs[1]!;
  await refused(s, /SgdUpdate_F32, node 'w1\/SgdUpdate'\): output 0 must be the same bytes as w/);
  s = spec();
  const ce = s.steps.findIndex((st) => st.node === 'loss/SoftmaxCrossEntropy');
  s.steps[ce]!.params = { type: 'train', labelSmoothing: 1 };
  await refused(s, /label_smoothing must be in \[0, 1\)/);
  const cl = lower(buildTrainingGraph(cnnGraph(2)).graph);
  s = buildBundleSpec(cl, planLowered(cl), compileMetadata({}, 'm'));
  const gf = s.steps.find((st) => st.kernel === fb.KernelId.Conv2DGradFilter_F32 && st.node?.startsWith('c3/'))!;
  gf.params = { ...gf.params!, type: 'conv', groups: 1 } as typeof gf.params;
  await refused(s, /Conv2DGradFilter_F32, node 'c3\/grad\/Conv2DGradFilter'\): weights \[6,1,3,2\] are not OHWI/);
  s = buildBundleSpec(cl, planLowered(cl), compileMetadata({}, 'm'));
  const mp = s.steps.find((st) => st.kernel === fb.KernelId.MaxPoolGrad_F32)!;
  mp.params = { ...mp.params!, type: 'pool', strideH: 1 } as typeof mp.params;
  await refused(
    s,
    /MaxPoolGrad_F32, node 'mp\/grad\/MaxPoolGrad'\): dy \[2,3,2,6\] is not the window output of \[2,7,3,6\]/,
  );
});

test.run();
