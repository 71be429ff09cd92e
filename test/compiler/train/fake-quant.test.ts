// Quantisation-aware training: FakeQuant values against the int8 quantiser itself (compiler/quantize/params.ts),
// the straight-through gradient mask, one tracked step in the wasm against float64 (all four builds, byte-
// identical), and the test: the int8 bundle compiled with the learned ranges gives outputs within one
// quantisation step of the fake-quant graph's simulated outputs on ≥ 99.9 % of elements.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph, Node, Tensor } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { buildTrainingGraph, type TrainingGraph } from '../../../compiler/train/training-graph.ts';
import { insertFakeQuant, learnedRanges } from '../../../compiler/train/fake-quant.ts';
import { fakeQuantParams } from '../../../compiler/ir/ops/fake-quant.ts';
import { activationQuant, quantizeBias, quantizeValue, quantizeWeights } from '../../../compiler/quantize/params.ts';
import { quantize } from '../../../compiler/quantize/index.ts';
import { compileGraph, cloneGraph } from '../../../compiler/compile.ts';
import { runPasses } from '../../../compiler/passes/index.ts';
import { inferShapes } from '../../../compiler/passes/infer-shapes.ts';
import { load } from '../../../runtime/node.ts';
import type { TensorArray } from '../../../runtime/index.ts';
import { VARIANTS, rng, randF32 } from '../../assembly/harness.ts';

const f32 = Math.fround;

/** x [B,8,8,1] → Conv 3×3 same relu (6) → MaxPool 2 → Conv 3×3 valid relu (8) → Flatten → Dense 32→16 relu → Dense 16→5. */
function smallCnn(batch: number, seed = 11): Graph {
  const r = rng(seed);
  const he = (n: number, fanIn: number) => randF32(r, n, -Math.sqrt(6 / fanIn), Math.sqrt(6 / fanIn));
  const t = (name: string, shape: number[], data?: Float32Array): [string, Tensor] => [
    name,
    { name, dtype: 'float32', shape, data },
  ];
  const tensors = new Map<string, Tensor>([
    t('x', [batch, 8, 8, 1]),
    t('w1', [6, 3, 3, 1], he(54, 9)),
    t('b1', [6], randF32(r, 6, -0.1, 0.1)),
    t('w2', [8, 3, 3, 6], he(432, 54)),
    t('b2', [8], randF32(r, 8, -0.1, 0.1)),
    t('w3', [16, 32], he(512, 32)),
    t('b3', [16], randF32(r, 16, -0.1, 0.1)),
    t('w4', [5, 16], he(80, 16)),
    t('b4', [5], randF32(r, 5, -0.1, 0.1)),
  ]);
  const node = (name: string, op: Node['op'], inputs: string[], attrs: Node['attrs'] = {}): Node => ({
    name,
    op,
    inputs,
    outputs: [`${name}:y`],
    attrs,
  });
  const nodes: Node[] = [
    node('c1', 'Conv2D', ['x', 'w1', 'b1'], { padding: 'same', activation: 'relu' }),
    node('mp', 'MaxPool', ['c1:y'], { kernel: [2, 2] }),
    node('c2', 'Conv2D', ['mp:y', 'w2', 'b2'], { activation: 'relu' }),
    node('fl', 'Flatten', ['c2:y'], { axis: 1 }),
    node('d1', 'Dense', ['fl:y', 'w3', 'b3'], { activation: 'relu' }),
    node('d2', 'Dense', ['d1:y', 'w4', 'b4']),
  ];
  const g: Graph = { name: 'qat', tensors, nodes, inputs: ['x'], outputs: ['d2:y'], source: 'qat.json' };
  inferShapes.run(g);
  return g;
}

function feedOf(tg: TrainingGraph, seed: number, lr = 0.02): Record<string, TensorArray> {
  const r = rng(seed);
  const size = tg.graph.tensors.get(tg.x)!.shape.reduce((a, b) => a * b, 1);
  const B = tg.graph.tensors.get(tg.x)!.shape[0]!;
  return {
    [tg.x]: randF32(r, size, 0, 1),
    [tg.labels]: Int32Array.from({ length: B }, () => Math.floor(r() * 5)),
    [tg.lr]: Float32Array.of(lr),
  };
}

test('FakeQuant / FakeQuantWeight / FakeQuantBias are the int8 quantiser (params.ts) element for element; the gradient is the in-range mask', () => {
  const r = rng(5);
  const x = Float64Array.from(randF32(r, 400, -3, 5));
  const g: Graph = {
    name: 'fq',
    source: 'fq.json',
    inputs: ['x', 'dy'],
    outputs: ['fq:0', 'fq:1', 'g:0', 'fw:0', 'fb:0'],
    state: new Map([['range', Float32Array.of(-1.25, 2.5)]]),
    tensors: new Map<string, Tensor>([
      ['x', { name: 'x', dtype: 'float32', shape: [400] }],
      ['dy', { name: 'dy', dtype: 'float32', shape: [400] }],
      ['range', { name: 'range', dtype: 'float32', shape: [2] }],
      ['w', { name: 'w', dtype: 'float32', shape: [4, 100], data: randF32(r, 400, -0.7, 0.7) }],
      ['b', { name: 'b', dtype: 'float32', shape: [4], data: randF32(r, 4, -0.5, 0.5) }],
    ]),
    nodes: [
      { name: 'fq', op: 'FakeQuant', inputs: ['x', 'range'], outputs: ['fq:0', 'fq:1'], attrs: { momentum: 0 } },
      { name: 'g', op: 'FakeQuantGrad', inputs: ['x', 'fq:1', 'dy'], outputs: ['g:0'], attrs: {} },
      { name: 'fw', op: 'FakeQuantWeight', inputs: ['w'], outputs: ['fw:0'], attrs: {} },
      { name: 'fb', op: 'FakeQuantBias', inputs: ['b', 'w', 'fq:1'], outputs: ['fb:0'], attrs: {} },
    ],
  };
  inferShapes.run(g);
  const dy = Float64Array.from({ length: 400 }, (_, i) => i + 1);
  const out = evaluate(g, { x, dy });
  const q = activationQuant({ min: -1.25, max: 2.5 });
  assert.equal(fakeQuantParams(-1.25, 2.5), { scale: q.scale[0]!, zp: q.zeroPoint[0]! });
  let clipped = 0;
  for (let i = 0; i < 400; i++) {
    const qi = quantizeValue(x[i]!, q.scale[0]!, q.zeroPoint[0]!);
    assert.is(out['fq:0']![i], f32(f32(qi - q.zeroPoint[0]!) * q.scale[0]!), `y[${i}]`);
    const inside = x[i]! >= -1.25 - q.scale[0]! / 2 && x[i]! <= 2.5 + q.scale[0]! / 2;
    if (!inside) clipped++;
    assert.is(out['g:0']![i], inside ? dy[i] : 0, `dx[${i}] (x = ${x[i]})`);
  }
  assert.ok(clipped > 50, `${clipped} values outside the range`);
  const wq = quantizeWeights(g.tensors.get('w')!.data as Float32Array, 4);
  for (let i = 0; i < 400; i++)
    assert.is(out['fw:0']![i], f32(wq.data[i]! * wq.quant.scale[Math.floor(i / 100)]!), `w[${i}]`);
  const bq = quantizeBias(g.tensors.get('b')!.data as Float32Array, 4, q.scale[0]!, wq.quant.scale);
  for (let c = 0; c < 4; c++) assert.is(out['fb:0']![c], f32(bq.data[c]! * bq.quant.scale[c]!), `b[${c}]`);
});

test('QAT step: ranges tracked (first batch, then EMA), wasm = float64 within 1e-6, builds and twins byte-identical', async () => {
  const fq = insertFakeQuant(runPasses(cloneGraph(smallCnn(4))), 0.1);
  assert.equal([...fq.ranges.keys()], ['x', 'c1:y', 'c2:y', 'd1:y', 'd2:y']);
  const tg = buildTrainingGraph(fq.graph, { optimizer: { kind: 'sgd', momentum: 0.9 } });
  assert.equal(tg.params, ['w1', 'b1', 'w2', 'b2', 'w3', 'b3', 'w4', 'b4']);
  const { bundle } = compileGraph(tg.graph, { skipPasses: true });
  const feed = feedOf(tg, 1);
  const want = evaluate(tg.graph, feed, { all: true });
  let first: number[][] | undefined;
  for (const v of VARIANTS) {
    const m = await load(bundle, v);
    const out = m.run(feed);
    const lw = want[tg.loss]![0]!;
    assert.ok(Math.abs(out[tg.loss]![0]! - lw) <= 1e-6 * (1 + Math.abs(lw)), `loss ${out[tg.loss]![0]} vs ${lw}`);
    // the input's range is exact (its values are fed); later ones follow f32 vs float64 activations
    for (const [t, r] of fq.ranges) {
      const got = m.readVariable(r),
        w = want[`${t}:range'`]!;
      for (let i = 0; i < 2; i++)
        assert.ok(
          t === 'x' ? got[i] === w[i] : Math.abs(got[i]! - w[i]!) <= 1e-6 * (1 + Math.abs(w[i]!)),
          `range of ${t}: ${got[i]} vs ${w[i]}`,
        );
    }
    const losses = [out[tg.loss]![0]!];
    for (let k = 2; k <= 6; k++) losses.push(m.run(feedOf(tg, k))[tg.loss]![0]!);
    const bytes = [
      Array.from(new Uint8Array(Float32Array.from(losses).buffer)),
      ...m.variables.map((t) => Array.from(new Uint8Array(m.readVariable(t.name).buffer))),
    ];
    if (!first) first = bytes;
    else assert.equal(bytes, first, `${v.build} ref=${v.reference}`);
  }
});

test('int8 bundle with the learned ranges = the fake-quant graph within one output step on ≥ 99.9 % of elements', async () => {
  const B = 8;
  const opt = runPasses(cloneGraph(smallCnn(B)));
  const fq = insertFakeQuant(opt, 0.05);
  const tg = buildTrainingGraph(fq.graph, { optimizer: { kind: 'sgd', momentum: 0.9 } });
  const m = await load(compileGraph(tg.graph, { skipPasses: true }).bundle, { build: 'simd' });
  for (let k = 0; k < 60; k++) m.run(feedOf(tg, 100 + k));
  const ranges = learnedRanges(fq, (r) => m.readVariable(r));
  const trained = cloneGraph(opt);
  trained.tensors = new Map(
    [...trained.tensors].map(([k, t]) => [
      k,
      tg.params.includes(k) ? { ...t, data: Float32Array.from(m.readVariable(k)) } : t,
    ]),
  );

  // the frozen fake-quant graph's outputs (lr 0: the step changes nothing)
  const frozen = insertFakeQuant(trained, 0, ranges);
  const ftg = buildTrainingGraph(frozen.graph, { optimizer: { kind: 'sgd' } });
  const sim = await load(compileGraph(ftg.graph, { skipPasses: true }).bundle, { build: 'simd' });
  const { graph: int8 } = await quantize(trained, { ranges });
  assert.ok(
    int8.nodes
      .filter((n) => n.op === 'Conv2D' || n.op === 'Dense')
      .every((n) => int8.tensors.get(n.outputs[0]!)!.dtype === 'int8'),
    'every layer on int8',
  );
  const q8 = await load(compileGraph(int8, { skipPasses: true }).bundle, { build: 'simd' });
  const out = activationQuant(ranges.get('d2:y')!).scale[0]!;
  let total = 0,
    within = 0,
    exact = 0;
  for (let k = 0; k < 150; k++) {
    const feed = feedOf(ftg, 1000 + k, 0);
    const s = sim.run(feed)[ftg.logits]!,
      y = q8.run({ [int8.inputs[0]!]: feed[ftg.x]! })[int8.outputs[0]!]!;
    for (let i = 0; i < s.length; i++) {
      total++;
      const d = Math.abs(y[i]! - s[i]!);
      if (d <= out * (1 + 1e-6)) within++;
      if (d === 0) exact++;
    }
  }
  console.log(
    `  int8 vs fake-quant: ${within}/${total} within one step (${((100 * exact) / total).toFixed(2)} % identical), output step ${out}`,
  );
  assert.ok(within / total >= 0.999, `${within}/${total} within one step`);
});

test.run();
