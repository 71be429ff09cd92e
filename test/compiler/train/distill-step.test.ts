// Distillation training steps in the wasm (simd, scalar, and both with the reference twins): soft-target KD
// with labels, FitNets hints (regressor, pooled teacher feature) and the relational distance / angle kernels,
// against the float64 reference step; every build and twin byte-identical over several steps.
// Tolerance of wasm (f32) vs float64: |got − want| ≤ 1e-6 · (1 + |want|) (measured ≤ 4e-7, the hint case).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  buildTrainingGraph,
  type TrainingGraph,
  type TrainingOptions,
} from '../../../compiler/train/training-graph.ts';
import { prepareHints, relationalLosses } from '../../../compiler/train/distill-loss.ts';
import { compileGraph } from '../../../compiler/compile.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { load } from '../../../runtime/node.ts';
import type { TensorArray } from '../../../runtime/index.ts';
import { VARIANTS, rng, randF32 } from '../../assembly/harness.ts';
import { mlpGraph, cnnGraph } from './mlp.ts';

const TOL = 1e-6;

function feedOf(tg: TrainingGraph, seed: number, k = 1): Record<string, TensorArray> {
  const r = rng(seed);
  const classes = tg.graph.tensors.get(tg.logits)!.shape[1]!;
  const size = (n: string) => tg.graph.tensors.get(n)!.shape.reduce((a, b) => a * b, 1);
  const feed: Record<string, TensorArray> = {
    [tg.x]: randF32(r, size(tg.x), -1.5, 1.5),
    [tg.lr]: Float32Array.of(0.05),
  };
  for (const t of tg.targets) {
    feed[t] =
      tg.graph.tensors.get(t)!.dtype === 'int32'
        ? Int32Array.from({ length: size(t) }, () => Math.floor(r() * classes))
        : randF32(r, size(t), -2, 2);
  }
  if (tg.step) feed[tg.step] = Float32Array.of(k);
  return feed;
}

const CASES: [string, () => { fwd: Graph; opts: TrainingOptions }][] = [
  [
    'mlp KD α 0.7 T 4 with labels, momentum 0.9',
    () => ({
      fwd: mlpGraph(6),
      opts: { loss: { kind: 'kd', alpha: 0.7, temperature: 4 }, optimizer: { kind: 'sgd', momentum: 0.9 } },
    }),
  ],
  [
    'cnn KD α 1 + hints (1×1 regressor on a 2×2-pooled teacher; identity)',
    () => {
      const p = prepareHints(cnnGraph(3), [
        { student: 'c2:y', teacher: 'tb2', teacherShape: [3, 8, 6, 5], weight: 0.5 },
        { student: 'c1:y', teacher: 'tb1', teacherShape: [3, 7, 7, 4], weight: 1 },
      ]);
      return {
        fwd: p.graph,
        opts: { loss: { kind: 'kd', temperature: 2 }, extraLosses: p.losses, optimizer: { kind: 'adam' } },
      };
    },
  ],
  [
    'mlp KD + RKD distance 25 + angle 50 (embeddings [6,8] vs teacher [6,5])',
    () => ({
      fwd: mlpGraph(6),
      opts: {
        loss: { kind: 'kd', alpha: 0.9, temperature: 2 },
        extraLosses: relationalLosses(
          'sig:y',
          'emb',
          [6, 5],
          [
            { kind: 'distance', weight: 25 },
            { kind: 'angle', weight: 50 },
          ],
        ),
      },
    }),
  ],
];

for (const [name, make] of CASES) {
  test(`${name}: one step matches float64 in all four builds; 5 steps byte-identical across builds and twins`, async () => {
    const { fwd, opts } = make();
    const tg = buildTrainingGraph(fwd, opts);
    const { bundle } = compileGraph(tg.graph, { skipPasses: true });
    const feed = feedOf(tg, 3);
    const want = evaluate(tg.graph, feed, { all: true });
    const next = new Map<string, string>();
    for (const n of tg.graph.nodes) {
      if (n.op === 'SgdUpdate') next.set(n.inputs[0]!, n.outputs[0]!);
      if (n.op === 'AdamUpdate') next.set(n.inputs[0]!, n.outputs[0]!);
    }
    const close = (label: string, got: ArrayLike<number>, w: ArrayLike<number>) => {
      assert.is(got.length, w.length, label);
      for (let i = 0; i < w.length; i++) {
        const err = Math.abs(got[i]! - w[i]!) / (1 + Math.abs(w[i]!));
        if (!(err <= TOL)) assert.unreachable(`${label}[${i}]: got ${got[i]} want ${w[i]}`);
      }
    };
    let first: number[][] | undefined;
    for (const v of VARIANTS) {
      const m = await load(bundle, v);
      const out = m.run(feed);
      const tag = `${v.build}${v.reference ? '-ref' : ''}`;
      close(`${tag} loss`, out[tg.loss]!, want[tg.loss]!);
      for (const [s, after] of next) close(`${tag} ${s}`, m.readVariable(s), want[after]!);
      const losses = [out[tg.loss]![0]!];
      for (let k = 2; k <= 5; k++) losses.push(m.run(feedOf(tg, 3, k))[tg.loss]![0]!);
      const bytes = [
        Array.from(new Uint8Array(Float32Array.from(losses).buffer)),
        ...m.variables.map((t) => Array.from(new Uint8Array(m.readVariable(t.name).buffer))),
      ];
      if (!first) first = bytes;
      else assert.equal(bytes, first, `${tag}: losses and state bytes`);
    }
  });
}

test.run();
