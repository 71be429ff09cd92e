// Each pass on a small graph: the node list after it (the rewrite happened, or was correctly
// refused) and evaluate() unchanged within 1e-6 relative (+1e-7 absolute for values near 0).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ModelError, type Graph } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { verify } from '../../../compiler/ir/verify.ts';
import { cloneGraph, compileGraph, PASS_NAMES } from '../../../compiler/compile.ts';
import { runPasses, type Pass } from '../../../compiler/passes/index.ts';
import { inferShapes } from '../../../compiler/passes/infer-shapes.ts';
import { canonicalize } from '../../../compiler/passes/canonicalize.ts';
import { foldConstants } from '../../../compiler/passes/fold-constants.ts';
import { foldBatchnorm } from '../../../compiler/passes/fold-batchnorm.ts';
import { fuseBias } from '../../../compiler/passes/fuse-bias.ts';
import { fuseActivation } from '../../../compiler/passes/fuse-activation.ts';
import { fusePad } from '../../../compiler/passes/fuse-pad.ts';
import { cancelTransposes } from '../../../compiler/passes/cancel-transposes.ts';
import { eliminateDead } from '../../../compiler/passes/eliminate-dead.ts';
import { GraphBuilder, closeness, inputsFor } from '../ir/build-graph.ts';

const ops = (g: Graph) => g.nodes.map((n) => n.op).join(' ');

/** Runs `passes` (after infer-shapes) on a copy; checks verify + values; returns the rewritten graph. */
function check(g: Graph, passes: Pass[], expectOps: string, expectChanged = true): Graph {
  inferShapes.run(g);
  verify(g);
  const inputs = inputsFor(g);
  const before = evaluate(g, inputs);
  const h = cloneGraph(g);
  let changed = false;
  for (const p of passes) {
    changed = p.run(h) || changed;
    verify(h, `after ${p.name}`);
  }
  assert.is(changed, expectChanged, 'changed flag');
  assert.is(ops(h), expectOps);
  const after = evaluate(h, inputs);
  for (const o of g.outputs) assert.ok(closeness(after[o]!, before[o]!, 1e-6, 1e-7) <= 1, `output ${o} changed`);
  return h;
}

test('infer-shapes fills shapes and reports no change the second time', () => {
  const b = new GraphBuilder();
  const g = b.output(
    b.node(
      'Conv2D',
      [b.input('x', [1, 5, 5, 3]), b.constant('w', [4, 3, 3, 3])],
      { padding: 'same', strides: [2, 2] },
      'y',
    ),
  );
  assert.ok(inferShapes.run(g));
  assert.equal(g.tensors.get('y')!.shape, [1, 3, 3, 4]);
  assert.not.ok(inferShapes.run(g));
});

test('infer-shapes refuses nodes out of topological order', () => {
  const b = new GraphBuilder();
  const g = b.output(b.node('Relu', [b.node('Exp', [b.input('x', [2])])], {}, 'y'));
  g.nodes.reverse();
  try {
    inferShapes.run(g);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ModelError);
    assert.match((e as Error).message, /node 'relu1' \(Relu\).*'exp0_out' is used before the node that computes it/);
  }
});

test('canonicalize: Relu6 → Clip, Flatten → Reshape, identity Reshape and 1-input Concat removed', () => {
  const b = new GraphBuilder();
  let t = b.node('Relu6', [b.input('x', [2, 3, 4])]);
  t = b.node('Reshape', [t], { shape: [0, 3, 4] });
  t = b.node('Concat', [t], { axis: 1 });
  t = b.node('Flatten', [t]);
  const h = check(b.output(b.node('Sigmoid', [t], {}, 'y')), [canonicalize], 'Clip Reshape Sigmoid');
  assert.equal(h.nodes[0]!.attrs, { min: 0, max: 6 });
  assert.equal(h.nodes[1]!.attrs, { shape: [2, 12] });
});

test('canonicalize keeps an identity Reshape between graph input and graph output', () => {
  const b = new GraphBuilder();
  check(b.output(b.node('Reshape', [b.input('x', [2, 3])], { shape: [2, 3] }, 'y')), [canonicalize], 'Reshape', false);
});

test('canonicalize removing an identity Reshape that is a graph output keeps the output name', () => {
  const b = new GraphBuilder();
  const r = b.node('Relu', [b.input('x', [2, 3])]);
  const h = check(b.output(b.node('Reshape', [r], { shape: [2, 3] }, 'y')), [canonicalize], 'Relu');
  assert.equal(h.nodes[0]!.outputs, ['y']);
});

test('fold-constants: constant subgraph becomes one float32 constant', () => {
  const b = new GraphBuilder();
  const c = b.node('Mul', [b.constant('a', [3]), b.node('Exp', [b.constant('b', [3])])]);
  const g = b.output(b.node('Add', [b.input('x', [2, 3]), c], {}, 'y'));
  const h = check(g, [foldConstants], 'Add');
  const k = h.tensors.get(h.nodes[0]!.inputs[1]!)!;
  assert.instance(k.data, Float32Array);
  assert.equal(k.shape, [3]);
});

test('fold-batchnorm: Conv2D + BatchNorm → Conv2D with new weights and bias', () => {
  const b = new GraphBuilder();
  const c = b.node('Conv2D', [b.input('x', [1, 5, 5, 3]), b.constant('w', [4, 3, 3, 3])], { padding: 'same' });
  const bn = b.node(
    'BatchNorm',
    [
      c,
      b.constant('s', [4], undefined, 0.5, 2),
      b.constant('bb', [4]),
      b.constant('m', [4]),
      b.constant('v', [4], undefined, 0.1, 2),
    ],
    { epsilon: 1e-3 },
    'y',
  );
  const h = check(b.output(bn), [foldBatchnorm], 'Conv2D');
  assert.equal(h.nodes[0]!.inputs.length, 3);
  assert.equal(h.nodes[0]!.outputs, ['y']);
});

test('fold-batchnorm: Dense + BatchNorm folds; BatchNorm after a twice-used conv becomes Mul + Add', () => {
  const b = new GraphBuilder();
  const d = b.node('Dense', [b.input('x', [2, 5]), b.constant('w', [3, 5]), b.constant('db', [3])]);
  check(
    b.output(
      b.node(
        'BatchNorm',
        [d, b.constant('s', [3]), b.constant('bb', [3]), b.constant('m', [3]), b.constant('v', [3], undefined, 0.5, 1)],
        {},
        'y',
      ),
    ),
    [foldBatchnorm],
    'Dense',
  );

  const b2 = new GraphBuilder();
  const c = b2.node('Conv2D', [b2.input('x', [1, 3, 3, 2]), b2.constant('w', [2, 1, 1, 2])]);
  const bn = b2.node(
    'BatchNorm',
    [c, b2.constant('s', [2]), b2.constant('bb', [2]), b2.constant('m', [2]), b2.constant('v', [2], undefined, 0.5, 1)],
    {},
    'y',
  );
  check(b2.output(bn, c), [foldBatchnorm], 'Conv2D Mul Add');
});

test('fuse-bias: Add of a [1,1,1,Co] constant joins the bias; a full-shape constant does not', () => {
  const b = new GraphBuilder();
  const c = b.node('Conv2D', [b.input('x', [1, 4, 4, 3]), b.constant('w', [5, 3, 3, 3])], { padding: 'same' });
  const h = check(
    b.output(b.node('Add', [c, b.constant('k', [1, 1, 1, 5])], { activation: 'relu' }, 'y')),
    [fuseBias],
    'Conv2D',
  );
  assert.is(h.nodes[0]!.attrs.activation, 'relu');

  const b2 = new GraphBuilder();
  const d = b2.node('Dense', [b2.input('x', [1, 4]), b2.constant('w', [2, 4]), b2.constant('db', [2])]);
  check(b2.output(b2.node('Add', [b2.constant('k', [2]), d], {}, 'y')), [fuseBias], 'Dense');

  const b3 = new GraphBuilder();
  const c3 = b3.node('Conv2D', [b3.input('x', [1, 2, 2, 3]), b3.constant('w', [3, 1, 1, 3])]);
  check(b3.output(b3.node('Add', [c3, b3.constant('k', [1, 2, 2, 3])], {}, 'y')), [fuseBias], 'Conv2D Add', false);
});

test('fuse-activation: Relu / Relu6 / Clip into Conv2D, Dense, Add; not when the output has two consumers', () => {
  for (const [op, attrs, act] of [
    ['Relu', {}, 'relu'],
    ['Relu6', {}, 'clip'],
    ['Clip', { min: -1, max: 0.5 }, 'clip'],
  ] as const) {
    const b = new GraphBuilder();
    const a = b.node('Add', [b.input('x', [2, 3]), b.input('z', [3])]);
    const h = check(b.output(b.node(op, [a], { ...attrs }, 'y')), [fuseActivation], 'Add');
    assert.is(h.nodes[0]!.attrs.activation, act);
  }
  const b = new GraphBuilder();
  const d = b.node('Dense', [b.input('x', [1, 4]), b.constant('w', [2, 4])]);
  check(b.output(b.node('Relu', [d], {}, 'y'), d), [fuseActivation], 'Dense Relu', false);
  const b2 = new GraphBuilder();
  const m = b2.node('Mul', [b2.input('x', [1, 4]), b2.input('z', [1, 4])]);
  check(b2.output(b2.node('Relu', [m], {}, 'y')), [fuseActivation], 'Mul Relu', false);
});

test('fuse-activation composes clamps: relu then Clip [-1, 4] → clip [0, 4]; clip then Relu', () => {
  const b = new GraphBuilder();
  const c = b.node('Conv2D', [b.input('x', [1, 3, 3, 2]), b.constant('w', [3, 1, 1, 2])], { activation: 'relu' });
  const h = check(b.output(b.node('Clip', [c], { min: -1, max: 4 }, 'y')), [fuseActivation], 'Conv2D');
  assert.equal([h.nodes[0]!.attrs.activation, h.nodes[0]!.attrs.clip], ['clip', [0, 4]]);
  const b2 = new GraphBuilder();
  const a = b2.node('Add', [b2.input('x', [4]), b2.input('z', [4])], { activation: 'clip', clip: [-2, 3] });
  const h2 = check(b2.output(b2.node('Relu', [a], {}, 'y')), [fuseActivation], 'Add');
  assert.equal([h2.nodes[0]!.attrs.activation, h2.nodes[0]!.attrs.clip], ['clip', [0, 3]]);
});

test('fuse-pad: zero H/W Pad before a same/strided conv joins its padding; channel or non-zero pads stay', () => {
  const b = new GraphBuilder();
  const p = b.node('Pad', [b.input('x', [1, 5, 6, 3])], { pads: [0, 1, 2, 0, 0, 0, 1, 0] });
  const h = check(
    b.output(b.node('Conv2D', [p, b.constant('w', [4, 3, 3, 3])], { padding: 'same', strides: [2, 2] }, 'y')),
    [fusePad],
    'Conv2D',
  );
  assert.is(h.nodes[0]!.inputs[0], 'x');
  for (const attrs of [{ pads: [0, 1, 1, 1, 0, 1, 1, 1] }, { pads: [0, 1, 1, 0, 0, 1, 1, 0], value: 1 }] as {
    pads: number[];
    value?: number;
  }[]) {
    const b2 = new GraphBuilder();
    const p2 = b2.node('Pad', [b2.input('x', [1, 4, 4, 2])], attrs);
    const cin = attrs.pads[3] ? 4 : 2;
    check(
      b2.output(b2.node('Conv2D', [p2, b2.constant('w', [2, 3, 3, cin])], {}, 'y')),
      [fusePad],
      'Pad Conv2D',
      false,
    );
  }
});

test('cancel-transposes: NHWC→NCHW→NHWC pair removed, also across a Relu', () => {
  const b = new GraphBuilder();
  let t = b.node('Relu', [b.input('x', [1, 4, 5, 3])]);
  t = b.node('Transpose', [t], { perm: [0, 3, 1, 2] });
  t = b.node('Transpose', [t], { perm: [0, 2, 3, 1] });
  check(b.output(b.node('Sigmoid', [t], {}, 'y')), [cancelTransposes], 'Relu Sigmoid');

  const b2 = new GraphBuilder();
  let u = b2.node('Transpose', [b2.input('x', [1, 3, 4, 5])], { perm: [0, 2, 3, 1] });
  u = b2.node('Conv2D', [u, b2.constant('w', [2, 1, 1, 3])]);
  u = b2.node('Transpose', [u], { perm: [0, 3, 1, 2] });
  u = b2.node('Tanh', [u]);
  u = b2.node('Transpose', [u], { perm: [0, 2, 3, 1] });
  u = b2.node('Relu', [u]);
  const g2 = b2.output(b2.node('Transpose', [u], { perm: [0, 3, 1, 2] }, 'y'));
  const h = check(g2, [cancelTransposes, cancelTransposes, eliminateDead], 'Transpose Conv2D Tanh Relu Transpose');
  assert.equal(h.outputs, ['y']);
});

test('cancel-transposes pushes through a binary op with an NCHW constant or a same-perm transposed operand', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [1, 4, 5, 3]);
  let t = b.node('Transpose', [x], { perm: [0, 3, 1, 2] });
  t = b.node('Add', [t, b.constant('k', [3, 1, 1])], { activation: 'relu' });
  const z = b.node('Transpose', [b.input('z', [1, 4, 5, 3])], { perm: [0, 3, 1, 2] });
  t = b.node('Mul', [z, t]);
  t = b.node('PRelu', [t, b.constant('slope', [3, 4, 1])]);
  const h = check(
    b.output(b.node('Transpose', [t], { perm: [0, 2, 3, 1] }, 'y')),
    [cancelTransposes, cancelTransposes, cancelTransposes, eliminateDead],
    'Add Mul PRelu',
  );
  assert.equal(h.tensors.get(h.nodes[0]!.inputs[1]!)!.shape, [1, 1, 1, 3]);
  assert.equal(h.nodes[1]!.inputs, ['z', h.nodes[0]!.outputs[0]]);
});

test('cancel-transposes merges two non-inverse transposes into one', () => {
  const b = new GraphBuilder();
  const t = b.node('Transpose', [b.input('x', [2, 3, 4])], { perm: [1, 0, 2] });
  const h = check(b.output(b.node('Transpose', [t], { perm: [2, 0, 1] }, 'y')), [cancelTransposes], 'Transpose');
  assert.equal(h.nodes[0]!.attrs.perm, [2, 1, 0]);
});

test('cancel-transposes: NCHW flatten before Dense becomes permuted Dense weights', () => {
  const b = new GraphBuilder();
  const t = b.node('Transpose', [b.node('Relu', [b.input('x', [2, 3, 4, 5])])], { perm: [0, 3, 1, 2] });
  const r = b.node('Reshape', [t], { shape: [2, -1] });
  const h = check(
    b.output(b.node('Dense', [r, b.constant('w', [7, 60])], {}, 'y')),
    [cancelTransposes, eliminateDead],
    'Relu Reshape Dense',
  );
  assert.is.not(h.nodes[2]!.inputs[1], 'w');
});

test('eliminate-dead drops unused nodes and constants', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [3]);
  b.node('Exp', [b.node('Mul', [x, b.constant('unused', [3])])]);
  const h = check(b.output(b.node('Relu', [x], {}, 'y')), [eliminateDead], 'Relu');
  assert.not.ok(h.tensors.has('unused'));
});

test('pipeline: fixed point fuses conv-bias-bn-relu6 and dumps after a named pass', () => {
  const b = new GraphBuilder();
  let t = b.node('Conv2D', [b.input('x', [1, 6, 6, 3]), b.constant('w', [4, 3, 3, 3])], { padding: 'same' });
  t = b.node('Add', [t, b.constant('k', [4])]);
  t = b.node('BatchNorm', [
    t,
    b.constant('s', [4]),
    b.constant('bb', [4]),
    b.constant('m', [4]),
    b.constant('v', [4], undefined, 0.5, 1),
  ]);
  t = b.node('Relu6', [t]);
  const g = b.output(b.node('Flatten', [t], {}, 'y'));
  inferShapes.run(g);
  const inputs = inputsFor(g);
  const before = evaluate(g, inputs);
  const dumps: [string, string][] = [];
  const { graph } = compileGraph(g, { dumpAfter: 'fuse-activation', onDump: (p, s) => dumps.push([p, s]) });
  assert.is(ops(graph), 'Conv2D Reshape');
  assert.ok(closeness(evaluate(graph, inputs).y!, before.y!, 1e-6, 1e-7) <= 1);
  assert.ok(dumps.length >= 1 && dumps.every(([p]) => p === 'fuse-activation'));
  assert.match(dumps[0]![1], /Conv2D\(x, .*activation="clip"/);
  assert.is(ops(g), 'Conv2D Add BatchNorm Relu6 Flatten', 'caller graph untouched');
  assert.equal(PASS_NAMES, [
    'infer-shapes',
    'canonicalize',
    'fold-constants',
    'fuse-bias',
    'fold-batchnorm',
    'fuse-activation',
    'fuse-pad',
    'cancel-transposes',
    'eliminate-dead',
  ]);
  try {
    runPasses(cloneGraph(g), { dumpAfter: 'nope' });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ModelError);
    assert.match((e as Error).message, /unknown pass 'nope'/);
  }
});

test.run();
