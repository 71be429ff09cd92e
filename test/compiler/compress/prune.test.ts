// Channel pruning against the float64 reference: for every topology, the pruned model equals the original
// with the removed channels' consumer columns zeroed (adding x·0 to a float64 sum is exact, so the
// comparison is exact: 0 tolerance), its groups are the expected ones, its kernels are smaller (MACs and
// step shapes of the compiled bundle), and bad input is refused naming the layer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileGraph } from '../../../compiler/compile.ts';
import { summarizeBundle } from '../../../compiler/cli/inspect.ts';
import { ModelError, type Graph } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { inferShapes } from '../../../compiler/passes/infer-shapes.ts';
import { dependencyGroups, type DepGraph } from '../../../compiler/compress/groups.ts';
import { unitScores } from '../../../compiler/compress/importance.ts';
import {
  applyPruning,
  chooseUnits,
  graphMacs,
  keptCount,
  keptUnits,
  pruneUniform,
  type KeepRule,
} from '../../../compiler/compress/prune.ts';
import { GraphBuilder, inputsFor } from '../ir/build-graph.ts';
import { zeroRemoved } from './models.ts';

const RULE8: KeepRule = { roundTo: 8, maxRatio: 0.9 };

/** Prunes `ratio` of every prunable group; checks exact equality with the zeroed original and returns both. */
function pruneAndCheck(g: Graph, ratio: number, rule: KeepRule = RULE8, keep: string[] = []) {
  inferShapes.run(g);
  const dep = dependencyGroups(g, keep);
  const ratios = new Map(dep.groups.filter((x) => x.fixed === undefined).map((x) => [x.name, ratio]));
  const kept = keptUnits(g, { dep, ratios, importance: 'l1', rule });
  const pruned = applyPruning(g, dep, kept);
  const x = inputsFor(g);
  const want = evaluate(zeroRemoved(g, dep, kept), x),
    got = evaluate(pruned, x);
  for (const o of g.outputs) {
    assert.equal(got[o]!.length, want[o]!.length, `output ${o} size`);
    const diff = got[o]!.findIndex((v, i) => v !== want[o]![i]);
    assert.is(diff, -1, `output ${o}[${diff}]: pruned ${got[o]![diff]} vs zeroed original ${want[o]![diff]}`);
  }
  return { dep, kept, pruned };
}

const shapeOf = (g: Graph, t: string) => g.tensors.get(t)!.shape;
const groupNames = (dep: DepGraph) =>
  dep.groups
    .filter((x) => x.fixed === undefined)
    .map((x) => `${x.name}:${x.units.length}`)
    .sort();

function chain(): Graph {
  const b = new GraphBuilder('chain');
  const x = b.input('x', [1, 6, 6, 3]);
  const c0 = b.node('Conv2D', [x, b.constant('w0', [16, 3, 3, 3]), b.constant('b0', [16])], { padding: 'same' });
  const bn = b.node('BatchNorm', [
    c0,
    b.constant('s', [16]),
    b.constant('bb', [16]),
    b.constant('m', [16]),
    b.constant('v', [16], undefined, 0.5, 2),
  ]);
  const r = b.node('Relu', [bn]);
  const c1 = b.node('Conv2D', [r, b.constant('w1', [16, 3, 3, 16]), b.constant('b1', [16])], {
    padding: 'same',
    activation: 'relu',
  });
  const p = b.node('Pad', [c1], { pads: [0, 1, 1, 0, 0, 1, 1, 0] });
  const mp = b.node('MaxPool', [p], { kernel: [2, 2] });
  const f = b.node('Flatten', [mp], { axis: 1 });
  return b.output(b.node('Dense', [f, b.constant('wd', [10, 256]), b.constant('bd', [10])]));
}

test('chain conv → BN → relu → conv → pad → pool → flatten → dense: groups, exact outputs, smaller kernels', () => {
  const g = chain();
  const { dep, pruned } = pruneAndCheck(g, 0.5);
  assert.equal(groupNames(dep), ['conv2d0:16', 'conv2d3:16']);
  assert.equal(shapeOf(pruned, 'w0'), [8, 3, 3, 3]);
  assert.equal(shapeOf(pruned, 's'), [8]);
  assert.equal(shapeOf(pruned, 'w1'), [8, 3, 3, 8]);
  assert.equal(shapeOf(pruned, 'wd'), [10, 128], 'flatten → dense: 4·4 spatial blocks of 8 kept channels');
  const before = summarizeBundle(compileGraph(g).bundle),
    after = summarizeBundle(compileGraph(pruned).bundle);
  assert.ok(after.macs < before.macs, `MACs ${before.macs} → ${after.macs}`);
  assert.ok(graphMacs(pruned) < graphMacs(g));
  assert.equal(after.steps, before.steps, 'same steps, smaller shapes');
  assert.equal(
    after.rows.filter((r) => r.kernel.startsWith('Conv2D')).map((r) => r.shapes),
    ['1x6x6x3 -> 1x6x6x8', '1x6x6x8 -> 1x6x6x8'],
  );
});

test('residual: the convs feeding Add are one group; the skip keeps it aligned', () => {
  const b = new GraphBuilder('res');
  const x = b.input('x', [1, 5, 5, 4]);
  const c0 = b.node('Conv2D', [x, b.constant('w0', [16, 1, 1, 4])], { activation: 'relu' });
  const c1 = b.node('Conv2D', [c0, b.constant('w1', [16, 3, 3, 16]), b.constant('b1', [16])], {
    padding: 'same',
    activation: 'relu',
  });
  const c2 = b.node('Conv2D', [c1, b.constant('w2', [16, 3, 3, 16]), b.constant('b2', [16])], { padding: 'same' });
  const a = b.node('Add', [c2, c0], { activation: 'relu' });
  const mul = b.node('Mul', [a, b.constant('gain', [16])]);
  const gp = b.node('GlobalAvgPool', [mul]);
  const rs = b.node('Reshape', [gp], { shape: [1, 16] });
  const g = b.output(b.node('Dense', [rs, b.constant('wd', [3, 16])]));
  const { dep, pruned } = pruneAndCheck(g, 0.5);
  assert.equal(groupNames(dep), ['conv2d0+conv2d2:16', 'conv2d1:16']);
  assert.equal(shapeOf(pruned, 'gain'), [8], 'per-channel constant of Mul follows');
  assert.equal(pruned.nodes.find((n) => n.op === 'Reshape')!.attrs.shape, [1, 8]);
  assert.equal(shapeOf(pruned, 'wd'), [3, 8]);
});

test('depthwise: in = out channels, filters and groups follow; grouped conv cuts every group alike', () => {
  const b = new GraphBuilder('dw');
  const x = b.input('x', [1, 6, 6, 3]);
  const c0 = b.node('Conv2D', [x, b.constant('w0', [16, 1, 1, 3])], { activation: 'clip', clip: [0, 6] });
  const dw = b.node('Conv2D', [c0, b.constant('wdw', [16, 3, 3, 1]), b.constant('bdw', [16])], {
    groups: 16,
    padding: 'same',
  });
  const gc = b.node('Conv2D', [dw, b.constant('wg', [16, 1, 1, 8])], { groups: 2 });
  const r = b.node('Relu6', [gc]);
  const gp = b.node('GlobalAvgPool', [r]);
  const g = b.output(b.node('Dense', [b.node('Flatten', [gp]), b.constant('wd', [4, 16])]));
  const { dep, kept, pruned } = pruneAndCheck(g, 0.5, { roundTo: 2, maxRatio: 0.9 });
  assert.equal(groupNames(dep), ['conv2d0:16', 'conv2d2:16']);
  assert.equal(shapeOf(pruned, 'wdw'), [8, 3, 3, 1]);
  assert.is(pruned.nodes[1]!.attrs.groups, 8);
  assert.equal(shapeOf(pruned, 'wg'), [8, 1, 1, 4], 'grouped conv: 2 groups of 4 in, 4 out');
  for (const [grp, units] of kept) {
    const blocks = units.map((u) => grp.blockOf?.[u] ?? 0);
    assert.is(
      blocks.filter((v) => v === 0).length,
      blocks.filter((v) => v === 1).length,
      `${grp.name}: equal per group`,
    );
  }
});

test('concat along channels: each input its own group, offsets into the consumer', () => {
  const b = new GraphBuilder('cat');
  const x = b.input('x', [1, 4, 4, 2]);
  const ca = b.node('Conv2D', [x, b.constant('wa', [8, 1, 1, 2])], { activation: 'relu' });
  const cb = b.node('Conv2D', [x, b.constant('wb', [16, 3, 3, 2])], { padding: 'same', activation: 'relu' });
  const cat = b.node('Concat', [ca, cb], { axis: 3 });
  const t = b.node('Transpose', [cat], { perm: [0, 2, 1, 3] });
  const c = b.node('Conv2D', [t, b.constant('wc', [8, 1, 1, 24]), b.constant('bc', [8])]);
  const g = b.output(b.node('Dense', [b.node('Flatten', [c]), b.constant('wd', [2, 128])]));
  const { dep, pruned } = pruneAndCheck(g, 0.5, { roundTo: 4, maxRatio: 0.9 });
  assert.equal(groupNames(dep), ['conv2d0:8', 'conv2d1:16', 'conv2d4:8']);
  assert.equal(shapeOf(pruned, 'wc'), [4, 1, 1, 12]);
});

test('transpose moving channels (NCHW flatten before a Dense): followed to the Dense columns, exact', () => {
  // examples/mnist's tail: NHWC conv → Transpose to NCHW → Reshape [1, C·H·W] → Dense
  const b = new GraphBuilder('nchw');
  const x = b.input('x', [1, 4, 4, 2]);
  const c0 = b.node('Conv2D', [x, b.constant('w0', [16, 3, 3, 2]), b.constant('b0', [16])], {
    padding: 'same',
    activation: 'relu',
  });
  const t = b.node('Transpose', [c0], { perm: [0, 3, 1, 2] });
  const r = b.node('Reshape', [t], { shape: [1, 256] });
  const g = b.output(b.node('Dense', [r, b.constant('wd', [3, 256]), b.constant('bd', [3])]));
  const { dep, pruned } = pruneAndCheck(g, 0.5);
  assert.equal(groupNames(dep), ['conv2d0:16']);
  assert.equal(dep.boundaries, []);
  assert.equal(shapeOf(pruned, 'wd'), [3, 128]);
  assert.equal(pruned.nodes.find((n) => n.op === 'Reshape')!.attrs.shape, [1, 128]);

  // there and back (NCHW → NHWC), through a Flatten; a Relu between the transposes is elementwise in any layout
  const m = new GraphBuilder('round');
  const y = m.input('x', [1, 4, 4, 2]);
  const d0 = m.node('Conv2D', [y, m.constant('w0', [8, 1, 1, 2])]);
  const there = m.node('Transpose', [d0], { perm: [0, 3, 1, 2] });
  const back = m.node('Transpose', [there], { perm: [0, 2, 3, 1] });
  const d1 = m.node('Conv2D', [back, m.constant('w1', [8, 3, 3, 8])], { padding: 'same' });
  const f = m.node('Flatten', [m.node('Transpose', [d1], { perm: [0, 3, 1, 2] })]);
  const h = m.output(m.node('Dense', [f, m.constant('wd', [2, 128])]));
  const rt = pruneAndCheck(h, 0.5, { roundTo: 4, maxRatio: 0.9 });
  assert.equal(groupNames(rt.dep), ['conv2d0:8', 'conv2d3:8']);
  assert.equal(shapeOf(rt.pruned, 'w1'), [4, 3, 3, 4]);
  assert.equal(shapeOf(rt.pruned, 'wd'), [2, 64]);
});

test('an op whose rule follows channels on the last axis only is a boundary after a moving transpose', () => {
  const b = new GraphBuilder('nchwpool');
  const x = b.input('x', [1, 4, 4, 2]);
  const c0 = b.node('Conv2D', [x, b.constant('w0', [8, 1, 1, 2])]);
  const t = b.node('Transpose', [c0], { perm: [0, 3, 1, 2] });
  const p = b.node('MaxPool', [t], { kernel: [2, 2] });
  const g = b.output(b.node('Dense', [b.node('Flatten', [p]), b.constant('wd', [2, 32])]));
  inferShapes.run(g);
  const dep = dependencyGroups(g);
  assert.equal(
    dep.boundaries.map((x) => x.node),
    ['maxpool2'],
  );
  assert.match(dep.boundaries[0]!.why, /reads 'transpose1_out' with its channels on axis 1, not the last/);
  assert.match(dep.groups.find((x) => x.name === 'conv2d0')!.fixed!, /maxpool2/);
});

test('rounding, ceiling, importance: kept counts are multiples of round-to and never below 1 − max-ratio', () => {
  const g = chain();
  inferShapes.run(g);
  const dep = dependencyGroups(g);
  const grp = dep.groups.find((x) => x.name === 'conv2d0')!;
  assert.is(keptCount(grp, 0.3, RULE8), 8, '16·0.7 = 11.2 → 8');
  assert.is(keptCount(grp, 0.2, RULE8), 16, '16·0.8 = 12.8 → 16 = all');
  assert.is(keptCount(grp, 0.95, RULE8), 8, 'never below one multiple');
  assert.is(keptCount(grp, 0.75, { roundTo: 1, maxRatio: 0.5 }), 8, 'max-ratio 0.5 keeps half');
  assert.is(keptCount(grp, 0, RULE8), 16);
  // l1 keeps the filters with the largest Σ|w|
  const s = unitScores(g, dep, grp, 'l1');
  const chosen = chooseUnits(grp, s, 8);
  const worstKept = Math.min(...chosen.map((i) => s[i]!));
  assert.ok([...s.keys()].filter((i) => !chosen.includes(i)).every((i) => s[i]! <= worstKept));
  for (const kind of ['l2', 'fpgm'] as const) assert.is(unitScores(g, dep, grp, kind).length, 16);
});

test('--keep and graph outputs keep their shape; everything protected is a clear error', () => {
  const g = chain();
  inferShapes.run(g);
  const { dep, pruned } = pruneAndCheck(g, 0.5, RULE8, ['conv2d3']);
  assert.equal(groupNames(dep), []);
  assert.equal(shapeOf(pruned, 'w1'), [16, 3, 3, 16]);
  assert.match(dep.groups.find((x) => x.name === 'conv2d3')!.fixed!, /--keep 'conv2d3'/);
  try {
    pruneUniform(g, 0.5, 'l1', RULE8, ['conv2d0', 'conv2d3']);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ModelError);
    assert.match((e as Error).message, /no channel can be pruned.*conv2d0: --keep 'conv2d0'/);
  }
  assert.throws(() => dependencyGroups(g, ['nope']), /--keep 'nope': no node of that name/);
});

test('boundaries: softmax over channels and an op with no channel rule stop the group, named', () => {
  const b = new GraphBuilder('bnd');
  const x = b.input('x', [1, 4, 4, 2]);
  const c0 = b.node('Conv2D', [x, b.constant('w0', [8, 1, 1, 2])]);
  const sm = b.node('Softmax', [c0]);
  const g = b.output(b.node('Conv2D', [sm, b.constant('w1', [4, 1, 1, 8])]));
  inferShapes.run(g);
  const err = (() => {
    try {
      pruneUniform(g, 0.5, 'l1', RULE8);
    } catch (e) {
      return e as Error;
    }
    return undefined;
  })();
  assert.instance(err, ModelError);
  assert.match(err!.message, /conv2d0: node 'softmax1' \(Softmax\) normalises over the channel axis/);
  const m = new GraphBuilder('mm');
  const y = m.input('y', [2, 4]);
  const d = m.node('Dense', [y, m.constant('wd', [8, 4])]);
  const mm = m.output(m.node('MatMul', [d, m.constant('k', [8, 8])]));
  inferShapes.run(mm);
  const dep = dependencyGroups(mm);
  assert.equal(dep.boundaries, [{ node: 'matmul1', op: 'MatMul', why: 'MatMul has no channel rule' }]);
  assert.match(
    dep.groups.find((x) => x.name === 'dense0')!.fixed!,
    /node 'matmul1' \(MatMul\) MatMul has no channel rule/,
  );
});

test.run();
