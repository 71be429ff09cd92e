// Layer pruning on the float64 reference: a dropped residual block equals the original with the block's
// last conv zeroed (Add(x, 0) = x exactly, its fused relu kept), an identity-shaped conv becomes its
// activation of the input, and the cheapest candidate by measured error goes first; MobileNetV2's inverted
// residual block (1×1 expand relu6 → 3×3 depthwise relu6 → 1×1 project, Add with no activation) likewise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { inferShapes } from '../../../compiler/passes/infer-shapes.ts';
import { chooseLayers, dropLayers, layerCandidates } from '../../../compiler/compress/layers.ts';
import { agreement } from '../../../compiler/compress/measure.ts';
import { GraphBuilder, inputsFor } from '../ir/build-graph.ts';

/** stem → block A (weights × scaleA) → block B → conv 8→8 identity-shaped → pool → dense. */
function resnet(scaleA: number): Graph {
  const b = new GraphBuilder('res');
  const x = b.input('x', [1, 5, 5, 3]);
  let h = b.node('Conv2D', [x, b.constant('stem', [8, 1, 1, 3])], { activation: 'relu' });
  for (const [k, s] of [
    ['a', scaleA],
    ['b', 1],
  ] as const) {
    const c1 = b.node('Conv2D', [h, b.constant(`${k}1`, [8, 3, 3, 8])], { padding: 'same', activation: 'relu' });
    const w2 = b.constant(`${k}2`, [8, 3, 3, 8]);
    b.g.tensors.get(w2)!.data = (b.g.tensors.get(w2)!.data as Float32Array).map((v) => v * s);
    const c2 = b.node('Conv2D', [c1, w2, b.constant(`${k}2b`, [8], new Float32Array(8).fill(0.01 * s))], {
      padding: 'same',
    });
    h = b.node('Add', [c2, h], { activation: 'relu' });
  }
  const id = b.node('Conv2D', [h, b.constant('idw', [8, 1, 1, 8])], { activation: 'relu' });
  const gp = b.node('GlobalAvgPool', [id]);
  const g = b.output(b.node('Dense', [b.node('Flatten', [gp]), b.constant('wd', [4, 8])]));
  inferShapes.run(g);
  return g;
}

test('candidates: both residual blocks (their branch nodes) and the identity-shaped convs', () => {
  const g = resnet(1);
  const c = layerCandidates(g);
  assert.equal(
    c.filter((x) => x.kind === 'residual').map((x) => [x.node, x.nodes]),
    [
      ['add3', ['conv2d1', 'conv2d2']],
      ['add6', ['conv2d4', 'conv2d5']],
    ],
  );
  assert.equal(
    c.filter((x) => x.kind === 'identity').map((x) => x.node),
    ['conv2d1', 'conv2d2', 'conv2d4', 'conv2d5', 'conv2d7'],
  );
});

test('a dropped block = the original with its last conv zeroed, exactly', () => {
  const g = resnet(1);
  const block = layerCandidates(g).find((x) => x.node === 'add3')!;
  const dropped = dropLayers(g, [block]);
  assert.is(dropped.nodes.length, g.nodes.length - 2);
  const zeroed = resnet(0);
  const x = inputsFor(g);
  const want = evaluate(zeroed, x),
    got = evaluate(dropped, x);
  const o = g.outputs[0]!;
  assert.equal(Array.from(got[o]!), Array.from(want[o]!));
});

/** MobileNetV2's shape: stem → inverted residual block (expand ×4, depthwise, project; project × scale) → dense. */
function invertedResidual(scale: number): Graph {
  const b = new GraphBuilder('mbv2');
  const x = b.input('x', [1, 6, 6, 3]);
  const relu6 = { activation: 'clip', clip: [0, 6] };
  const h = b.node('Conv2D', [x, b.constant('stem', [8, 1, 1, 3])], relu6);
  const e = b.node('Conv2D', [h, b.constant('exp', [32, 1, 1, 8]), b.constant('expb', [32])], relu6);
  const d = b.node('Conv2D', [e, b.constant('dw', [32, 3, 3, 1]), b.constant('dwb', [32])], {
    ...relu6,
    padding: 'same',
    groups: 32,
  });
  const wp = b.constant('proj', [8, 1, 1, 32]);
  b.g.tensors.get(wp)!.data = (b.g.tensors.get(wp)!.data as Float32Array).map((v) => v * scale);
  const pb = b.constant('projb', [8], new Float32Array(8).fill(0.02 * scale));
  const a = b.node('Add', [h, b.node('Conv2D', [d, wp, pb])]);
  const g = b.output(b.node('Dense', [b.node('Flatten', [b.node('GlobalAvgPool', [a])]), b.constant('wd', [4, 8])]));
  inferShapes.run(g);
  return g;
}

test('inverted residual (MobileNetV2): the block is a candidate; dropped = project conv zeroed, exactly', () => {
  const g = invertedResidual(1);
  const c = layerCandidates(g);
  const block = c.find((x) => x.kind === 'residual')!;
  assert.equal([block.node, block.nodes, block.input], ['add4', ['conv2d1', 'conv2d2', 'conv2d3'], 'conv2d0_out']);
  assert.ok(
    c.some((x) => x.kind === 'identity' && x.node === 'conv2d2'),
    'the stride-1 depthwise conv is identity-shaped',
  );
  const dropped = dropLayers(g, [block]);
  assert.equal(
    dropped.nodes.map((n) => n.op),
    ['Conv2D', 'Reshape', 'GlobalAvgPool', 'Flatten', 'Dense'],
  );
  const x = inputsFor(g);
  const o = g.outputs[0]!;
  assert.equal(Array.from(evaluate(dropped, x)[o]!), Array.from(evaluate(invertedResidual(0), x)[o]!));
});

test('chooseLayers: the block that changes the output least goes first; auto stops at 99 % agreement', async () => {
  const g = resnet(1e-4);
  const x = [inputsFor(g, 1), inputsFor(g, 2), inputsFor(g, 3)];
  const o = g.outputs[0]!;
  const ref = x.map((s) => evaluate(g, s)[o]!);
  const measure = async (h: Graph) =>
    agreement(
      ref,
      x.map((s) => evaluate(h, s)[o]!),
    );
  const one = await chooseLayers(g, 1, measure);
  assert.equal(
    one.dropped.map((c) => c.node),
    ['add3'],
  );
  assert.is(one.costs.length, layerCandidates(g).length);
  const auto = await chooseLayers(g, 'auto', measure);
  assert.ok(auto.dropped.some((c) => c.node === 'add3'));
  const all = await measure(dropLayers(g, auto.dropped));
  assert.ok(all.top1 >= 0.99, `auto kept agreement ${all.top1}`);
});

test.run();
