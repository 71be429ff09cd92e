// The factorisation pass (compiler/compress/factorize.ts): each rewrite at full rank gives the original graph's
// outputs (float64 reference; factors stored as float32, so rtol 1e-5 + atol 1e-5) through strides, dilations,
// asymmetric padding, bias and fused activation; the keep/rewrite rule (MACs and measured time both down, a stub
// timer standing in for the wasm one); errors naming the layer; and end to end: a small conv net with a separable,
// a Tucker-2 and an SVD layer compiled float (simd = scalar within 1e-5 of the reference) and int8 (the dedicated
// k×1 / 1×k kernels, simd and scalar bytes equal to the integer reference).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as flatbuffers from 'flatbuffers';
import {
  factorizeGraph,
  planFactorization,
  spliceFactorization,
  type FactorizeMethod,
} from '../../../compiler/compress/factorize.ts';
import { wasmLayerTimer, type LayerTimer } from '../../../compiler/compress/layer-timing.ts';
import { keptEnergy, taiSvd } from '../../../compiler/compress/low-rank.ts';
import { cloneGraph, compileGraph } from '../../../compiler/compile.ts';
import { fb } from '../../../compiler/emit/bundle-writer.ts';
import { ModelError, type Attrs, type Graph } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { runPasses } from '../../../compiler/passes/index.ts';
import { quantize } from '../../../compiler/quantize/index.ts';
import { load } from '../../../runtime/node.ts';
import { closeness, GraphBuilder, inputsFor } from '../ir/build-graph.ts';

/** One layer on [1,9,11,ci] (odd, unequal sides) → Relu-free output, so the comparison sees the raw layer. */
function oneConv(ci: number, co: number, kh: number, kw: number, attrs: Attrs): Graph {
  const b = new GraphBuilder(`conv${kh}x${kw}`);
  const x = b.input('x', [1, 9, 11, ci]);
  return b.output(b.node('Conv2D', [x, b.constant('w', [co, kh, kw, ci]), b.constant('b', [co])], attrs));
}

function denseModel(): Graph {
  const b = new GraphBuilder('dense');
  const x = b.input('x', [3, 20]);
  return b.output(
    b.node('Dense', [x, b.constant('w', [12, 20]), b.constant('b', [12])], { activation: 'clip', clip: [-0.5, 0.75] }),
  );
}

const fullRankCases: [string, FactorizeMethod, () => Graph, number | [number, number]][] = [
  ['dense 20->12 clip', 'svd', denseModel, 12],
  [
    '1x1 conv 6->5 stride 2 pad [1,0,1,2] relu',
    'svd',
    () => oneConv(6, 5, 1, 1, { strides: [2, 2], padding: [1, 0, 1, 2], activation: 'relu' }),
    5,
  ],
  [
    '3x5 conv 3->4 stride [2,1] dilation [1,2] pad [1,2,0,3] relu',
    'separable',
    () => oneConv(3, 4, 3, 5, { strides: [2, 1], dilations: [1, 2], padding: [1, 2, 0, 3], activation: 'relu' }),
    9,
  ],
  ['7x7 conv 2->3 same stride 2', 'separable', () => oneConv(2, 3, 7, 7, { strides: [2, 2], padding: 'same' }), 14],
  ['3x3 conv 5->6 same', 'separable', () => oneConv(5, 6, 3, 3, { padding: 'same' }), 15],
  [
    '3x5 conv 3->4 stride [1,2] pad [2,1,2,1] relu',
    'tucker2',
    () => oneConv(3, 4, 3, 5, { strides: [1, 2], padding: [2, 1, 2, 1], activation: 'relu' }),
    [3, 4],
  ],
];

for (const [label, method, make, full] of fullRankCases) {
  test(`${method} at full rank ${JSON.stringify(full)}: ${label} gives the original outputs (rtol 1e-5, atol 1e-5)`, () => {
    const g = runPasses(make());
    const n = g.nodes.find((k) => k.op === 'Conv2D' || k.op === 'Dense')!;
    const f = cloneGraph(g);
    const p = planFactorization(
      f,
      f.nodes.find((k) => k.name === n.name)!,
      method,
      { rank: full },
    );
    assert.equal(p.rank, full);
    assert.equal(p.fullRank, full);
    assert.ok(Math.abs(p.energyKept - 1) < 1e-12);
    spliceFactorization(
      f,
      f.nodes.find((k) => k.name === n.name)!,
      p,
    );
    const fg = runPasses(f);
    assert.is(fg.nodes.length, method === 'tucker2' ? 3 : 2);
    const xs = inputsFor(g);
    const want = evaluate(g, xs)[g.outputs[0]!]!,
      got = evaluate(fg, xs)[g.outputs[0]!]!;
    assert.ok(closeness(got, want, 1e-5, 1e-5) <= 1, `closeness ${closeness(got, want, 1e-5, 1e-5)}`);
  });
}

test('planFactorization: MACs and parameters of the rewrites (separable 3x3 5->6 rank 4 on 9x11 same; tucker2 ranks [2,3])', () => {
  const g = runPasses(oneConv(5, 6, 3, 3, { padding: 'same' }));
  const p = planFactorization(g, g.nodes[0]!, 'separable', { rank: 4 });
  // k×1: 9·11 pixels × 4 × 3·5; 1×k: 9·11 × 6 × 3·4; params: 4·3·5 + 6·3·4 + bias 6
  assert.is(p.macs, 99 * 4 * 15 + 99 * 6 * 12);
  assert.is(p.params, 60 + 72 + 6);
  const t = planFactorization(g, g.nodes[0]!, 'tucker2', { rank: [2, 3] });
  assert.is(t.macs, 99 * 2 * 5 + 99 * 3 * 9 * 2 + 99 * 6 * 3);
  assert.is(t.params, 10 + 54 + 18 + 6);
});

/** A timer that reports fixed times and counts its calls. */
function stubTimer(before: number, after: number): LayerTimer & { calls: number } {
  const t = Object.assign(
    async () => {
      t.calls++;
      return { before, after, ratio: after / before };
    },
    { calls: 0 },
  );
  return t;
}

function convNet(): Graph {
  const b = new GraphBuilder('convnet');
  let x = b.input('x', [1, 12, 12, 3]);
  x = b.node('Conv2D', [x, b.constant('w7', [16, 7, 7, 3]), b.constant('b7', [16])], {
    padding: 'same',
    activation: 'relu',
  });
  x = b.node('Conv2D', [x, b.constant('w3', [16, 3, 3, 16]), b.constant('b3', [16])], {
    padding: 'same',
    strides: [2, 2],
    activation: 'relu',
  });
  x = b.node('Conv2D', [x, b.constant('dw', [16, 3, 3, 1])], { padding: 'same', groups: 16 });
  x = b.node('GlobalAvgPool', [x]);
  x = b.node('Flatten', [x]);
  return b.output(b.node('Dense', [x, b.constant('wd', [10, 16]), b.constant('bd', [10])]));
}

test('keep/rewrite rule: rewritten only when MACs and measured time both go down; records say why', async () => {
  const g = convNet();
  const slow = stubTimer(1, 2);
  const a = await factorizeGraph(g, { factorize: ['separable', 'svd'], rank: 2, timer: slow });
  assert.equal(
    a.layers.map((r) => [r.layer, r.method, r.factorised]),
    [
      ['conv2d0', 'separable', false],
      ['conv2d1', 'separable', false],
      ['conv2d2', null, false],
      ['dense5', 'svd', false],
    ],
  );
  assert.match(a.layers[0]!.reason, 'measured time would not go down');
  assert.match(a.layers[2]!.reason, 'no method of separable, svd applies to a 3x3/g16 Conv2D');
  assert.is(slow.calls, 3);
  assert.equal(
    a.graph.nodes.map((n) => n.name),
    runPasses(cloneGraph(g)).nodes.map((n) => n.name),
  );
  const fast = stubTimer(2, 1);
  const b = await factorizeGraph(g, {
    factorize: ['separable', 'svd'],
    rank: 2,
    timer: fast,
    layers: { dense5: { method: 'none' } },
  });
  assert.equal(
    b.layers.map((r) => r.factorised),
    [true, true, false, false],
  );
  assert.is(b.layers[3]!.reason, 'kept by its per-layer setting');
  assert.equal(
    b.graph.nodes.map((n) => n.op).join(' '),
    'Conv2D Conv2D Conv2D Conv2D Conv2D GlobalAvgPool Reshape Dense',
  );
  const r0 = b.layers[0]!;
  assert.equal(
    [r0.macsBefore, r0.macsAfter, r0.paramsBefore, r0.paramsAfter, r0.msBefore, r0.msAfter],
    [144 * 16 * 147, 144 * 2 * 21 + 144 * 16 * 14, 16 * 147 + 16, 2 * 21 + 16 * 14 + 16, 2, 1],
  );
  // rank 18 on the 7x7 layer (break-even 17.7): more MACs than the original, so it is kept without timing it
  const big = stubTimer(2, 1);
  const c = await factorizeGraph(g, { factorize: 'separable', rank: 2, timer: big, layers: { conv2d0: { rank: 18 } } });
  assert.is(c.layers[0]!.factorised, false);
  assert.match(
    c.layers[0]!.reason,
    `MACs would not go down (${144 * 16 * 147} → ${144 * 18 * 21 + 144 * 16 * 126} at rank 18)`,
  );
  assert.is(big.calls, 1);
});

test('energy picks the smallest rank keeping that share of Σ s²; the record states the share kept', async () => {
  const g = convNet();
  const w7 = g.tensors.get('w7')!.data as Float32Array;
  const { s } = taiSvd(w7, { co: 16, kh: 7, kw: 7, ci: 3 });
  for (const e of [0.5, 0.8, 0.95]) {
    const r = await factorizeGraph(g, { factorize: 'separable', energy: e, timer: stubTimer(2, 1) });
    const rec = r.layers[0]!,
      rank = rec.rank as number;
    assert.ok(keptEnergy(s, rank) >= e && keptEnergy(s, rank - 1) < e, `energy ${e}: rank ${rank}`);
    assert.ok(Math.abs(rec.energyKept! - keptEnergy(s, rank)) < 1e-12);
  }
  // Tucker-2: each channel mode keeps ≥ e, so the projection keeps ≥ 1 − 2(1 − e) of ‖W‖²
  const t = (await factorizeGraph(g, { factorize: 'tucker2', energy: 0.9, timer: stubTimer(2, 1) })).layers[1]!;
  const [rIn, rOut] = t.rank as [number, number];
  assert.ok(rIn < 16 && rOut < 16 && t.energyKept! >= 0.8 && t.energyKept! < 1, JSON.stringify(t));
  const one = await factorizeGraph(g, { factorize: 'separable', energy: 1, timer: stubTimer(2, 1) });
  assert.equal(one.layers[0]!.rank, 21);
  assert.is(one.layers[0]!.factorised, false); // full rank: more MACs
});

for (const [opts, where, detail] of [
  [{ rank: 22 }, "node 'conv2d0'", 'rank 22 is above the full rank 21 of its (Ci·KH)x(Co·KW) = 21x112 matrix'],
  [{ energy: 0 }, 'options', 'energy must be in (0, 1]'],
  [{ energy: 1.5 }, 'options', 'energy must be in (0, 1]'],
  [{ rank: 2, layers: { conv2d1: { energy: -1 } } }, "node 'conv2d1'", 'energy must be in (0, 1]'],
  [{ rank: 2.5 }, 'options', 'rank must be a positive integer'],
  [{ rank: 2, energy: 0.9 }, 'options', 'give rank or energy, not both'],
  [
    { rank: 2, layers: { nope: { rank: 1 } } },
    'layers.nope',
    "no Dense or Conv2D node with constant weights is named 'nope'",
  ],
  [
    { rank: 2, layers: { conv2d2: { method: 'separable' } } },
    "node 'conv2d2'",
    'method separable does not apply to a 3x3/g16 Conv2D',
  ],
  [{}, "node 'conv2d0'", 'no rank or energy given for it'],
] as const) {
  test(`error: ${JSON.stringify(opts)} → ${where}: ${detail}`, async () => {
    try {
      await factorizeGraph(convNet(), { factorize: 'separable', timer: stubTimer(2, 1), ...opts } as Parameters<
        typeof factorizeGraph
      >[1]);
      assert.unreachable('no error');
    } catch (e) {
      assert.instance(e, ModelError);
      assert.is((e as ModelError).where, where);
      assert.match((e as ModelError).detail, detail);
    }
  });
}

const kernelsOf = (bundle: Uint8Array): number[] => {
  const b = fb.Bundle.getRootAsBundle(new flatbuffers.ByteBuffer(bundle));
  return Array.from({ length: b.stepsLength() }, (_, i) => b.steps(i)!.kernel());
};

test('end to end: conv net factorised by all three methods compiles and runs float (simd, scalar) and int8 (1xk / kx1 kernels)', async () => {
  const g = convNet();
  const { graph: f, layers } = await factorizeGraph(g, {
    factorize: ['separable', 'svd'],
    rank: 3,
    timer: stubTimer(2, 1),
    layers: { conv2d1: { method: 'tucker2', rank: [4, 5] } },
  });
  assert.equal(
    layers.map((r) => [r.method, r.factorised]),
    [
      ['separable', true],
      ['tucker2', true],
      [null, false],
      ['svd', true],
    ],
  );
  const xs = inputsFor(g);
  const ref = evaluate(f, xs)[f.outputs[0]!]!;
  for (const build of ['simd', 'scalar'] as const) {
    const m = await load(compileGraph(f, { target: build }).bundle, { build });
    const y = m.run(xs)[f.outputs[0]!] as Float32Array;
    assert.ok(closeness(y, ref, 1e-5, 1e-5) <= 1, `${build}: ${closeness(y, ref, 1e-5, 1e-5)}`);
  }
  const samples = { input: 'x', data: [0, 1, 2, 3].map((s) => inputsFor(g, 100 + s).x!) };
  const q = await quantize(f, { samples });
  const outs: Float32Array[] = [];
  for (const build of ['simd', 'scalar'] as const) {
    const bundle = compileGraph(q.graph, { skipPasses: true, target: build }).bundle;
    const ks = kernelsOf(bundle);
    assert.ok(ks.includes(fb.KernelId.ConvKx1_QS8) && ks.includes(fb.KernelId.Conv1xK_QS8), `kernels ${ks}`);
    outs.push((await load(bundle, { build })).run(xs)[f.outputs[0]!] as Float32Array);
  }
  const want = Float32Array.from(evaluate(q.graph, xs)[f.outputs[0]!]!);
  assert.equal(new Uint8Array(outs[0]!.buffer), new Uint8Array(want.buffer));
  assert.equal(new Uint8Array(outs[1]!.buffer), new Uint8Array(want.buffer));
});

test('wasmLayerTimer: times both one-layer bundles (float and int8) and returns positive medians', async () => {
  const g = runPasses(oneConv(4, 8, 3, 3, { padding: 'same' }));
  const f = cloneGraph(g);
  spliceFactorization(f, f.nodes[0]!, planFactorization(f, f.nodes[0]!, 'separable', { rank: 2 }));
  for (const dtype of ['float32', 'int8'] as const) {
    const t = await wasmLayerTimer({ dtype, rounds: 3, batchMs: 0.5 })(g, runPasses(f));
    assert.ok(
      [t.before, t.after, t.ratio].every((v) => v > 0 && Number.isFinite(v)),
      JSON.stringify(t),
    );
  }
});

test.run();
