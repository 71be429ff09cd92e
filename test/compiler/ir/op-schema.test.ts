// Tests of the IR op table: defaults filled in place, and one ModelError per kind of bad node
// (unknown attr, wrong type, value outside the allowed set, wrong input/output counts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ModelError } from '../../../compiler/ir/graph.ts';
import type { AttrValue, Attrs, Node, OpType } from '../../../compiler/ir/graph.ts';
import { OP_SCHEMAS, validateNodeAttrs } from '../../../compiler/ir/op-schema.ts';
import { FLOAT32_MAX } from '../../../compiler/ir/ops/helpers.ts';

const FILE = 'net.json';

function node(op: string, attrs: Attrs = {}, inputs?: string[], outputs = ['y']): Node {
  const min = OP_SCHEMAS[op as OpType]?.inputs[0] ?? 1;
  return {
    name: 'n1',
    op: op as OpType,
    inputs: inputs ?? Array.from({ length: min }, (_, i) => `in${i}`),
    outputs,
    attrs,
  };
}

/** Runs validateNodeAttrs expecting a ModelError whose message contains every part. */
function rejects(n: Node, ...parts: string[]): ModelError {
  try {
    validateNodeAttrs(n, FILE);
  } catch (e) {
    assert.instance(e, ModelError);
    const err = e as ModelError;
    assert.is(err.file, FILE);
    assert.is(err.where, "node 'n1'");
    for (const p of parts) assert.ok(err.message.includes(p), `"${err.message}" lacks "${p}"`);
    return err;
  }
  assert.unreachable(`node ${JSON.stringify(n)} was accepted`);
  throw new Error('unreachable');
}

const REQUIRED: Partial<Record<OpType, Attrs>> = {
  MaxPool: { kernel: [3, 3] },
  AvgPool: { kernel: [3, 3] },
  Reshape: { shape: [1, -1] },
  Transpose: { perm: [0, 3, 1, 2] },
  Concat: { axis: 3 },
  Pad: { pads: [0, 1, 1, 0, 0, 1, 1, 0] },
  Slice: { starts: [0, 1], ends: [2, 3] },
};

test('every op: minimal node validates, and every schema attr is set afterwards', () => {
  for (const op of Object.keys(OP_SCHEMAS) as OpType[]) {
    const n = node(op, { ...(REQUIRED[op] ?? {}) });
    validateNodeAttrs(n, FILE);
    for (const attr of Object.keys(OP_SCHEMAS[op].attrs)) {
      assert.ok(n.attrs[attr] !== undefined, `${op}.${attr} not filled`);
    }
  }
});

test('defaults filled in place: Conv2D, BatchNorm, LeakyRelu, Clip, Softmax, Flatten, Pad', () => {
  const conv = node('Conv2D');
  validateNodeAttrs(conv, FILE);
  assert.equal(conv.attrs, {
    strides: [1, 1],
    dilations: [1, 1],
    padding: 'valid',
    groups: 1,
    activation: 'none',
    clip: [0, 6],
  });
  const cases: [string, Attrs, Attrs][] = [
    ['BatchNorm', {}, { epsilon: 1e-5 }],
    ['LeakyRelu', {}, { alpha: 0.01 }],
    ['Clip', { max: 6 }, { min: -FLOAT32_MAX, max: 6 }],
    ['Softmax', {}, { axis: -1 }],
    ['Flatten', {}, { axis: 1 }],
    ['Pad', { pads: [1, 1] }, { pads: [1, 1], value: 0 }],
    ['Dense', { activation: 'clip', clip: [-1, 1] }, { activation: 'clip', clip: [-1, 1] }],
    ['Add', {}, { activation: 'none', clip: [0, 6] }],
  ];
  for (const [op, given, want] of cases) {
    const n = node(op, { ...given });
    validateNodeAttrs(n, FILE);
    assert.equal(n.attrs, want, op);
  }
});

test('derived defaults: pool strides = kernel, Slice axes/steps', () => {
  const avg = node('AvgPool', { kernel: [2, 3] });
  validateNodeAttrs(avg, FILE);
  assert.equal(avg.attrs, { kernel: [2, 3], strides: [2, 3], padding: 'valid', countIncludePad: false });
  const maxp = node('MaxPool', { kernel: [3, 3], strides: [1, 1], padding: 'same' });
  validateNodeAttrs(maxp, FILE);
  assert.equal(maxp.attrs.strides, [1, 1]);
  const slice = node('Slice', { starts: [0, 1, 2], ends: [1, 2, 3] });
  validateNodeAttrs(slice, FILE);
  assert.equal(slice.attrs.axes, [0, 1, 2]);
  assert.equal(slice.attrs.steps, [1, 1, 1]);
});

test('filled array defaults are copies, not the schema arrays', () => {
  const a = node('Conv2D');
  const b = node('Conv2D');
  validateNodeAttrs(a, FILE);
  validateNodeAttrs(b, FILE);
  (a.attrs.strides as number[])[0] = 7;
  assert.equal(b.attrs.strides, [1, 1]);
  assert.equal(OP_SCHEMAS.Conv2D.attrs.strides.default, [1, 1]);
});

test('padding kind: valid, same, [t,l,b,r] ints >= 0; anything else rejected', () => {
  for (const padding of ['valid', 'same', [0, 1, 2, 3]] as AttrValue[])
    validateNodeAttrs(node('Conv2D', { padding }), FILE);
  rejects(node('Conv2D', { padding: 'full' }), "attr 'padding'", "'valid', 'same'", 'found string "full"');
  rejects(node('Conv2D', { padding: [1, 1] }), "attr 'padding'", 'found array [1,1]');
  rejects(node('Conv2D', { padding: [1, -1, 1, 1] }), "attr 'padding'", 'found array [1,-1,1,1]');
});

test('unknown attr names the attr and lists the known ones', () => {
  rejects(node('Conv2D', { stride: [2, 2] }), "attr 'stride'", 'unknown', "'strides'");
  rejects(node('Relu', { alpha: 1 }), "attr 'alpha'", 'Relu takes no attrs');
});

test('wrong attr types: expected vs found', () => {
  rejects(node('Conv2D', { groups: 1.5 }), "attr 'groups'", 'expected an integer ≥ 1', 'found number 1.5');
  rejects(node('Conv2D', { groups: 0 }), "attr 'groups'", 'found number 0');
  rejects(node('Conv2D', { strides: [2] }), "attr 'strides'", 'expected an array of 2 integers ≥ 1', 'found array [2]');
  rejects(node('Conv2D', { strides: '2' }), "attr 'strides'", 'found string "2"');
  rejects(node('BatchNorm', { epsilon: 'small' }), "attr 'epsilon'", 'expected a finite number');
  rejects(
    node('AvgPool', { kernel: [2, 2], countIncludePad: 1 }),
    "attr 'countIncludePad'",
    'expected true or false',
    'found number 1',
  );
  rejects(
    node('Dense', { clip: [0, 'x'] as unknown as number[] }),
    "attr 'clip'",
    'expected an array of 2 finite numbers',
  );
  rejects(node('Reshape', { shape: [1, -2] }), "attr 'shape'", 'integers ≥ -1');
});

test('string attr outside its values', () => {
  rejects(
    node('Conv2D', { activation: 'gelu' }),
    "attr 'activation'",
    "one of 'none', 'relu', 'clip'",
    'found string "gelu"',
  );
});

test('missing required attr', () => {
  rejects(node('MaxPool'), "attr 'kernel'", 'required by MaxPool', 'found nothing');
  rejects(node('Concat'), "attr 'axis'", 'required by Concat');
});

test('cross-attr checks: clip range, Reshape -1 count, perm, Slice lengths and steps, Pad parity', () => {
  rejects(node('Conv2D', { activation: 'clip', clip: [6, 0] }), "attr 'clip'", 'min ≤ max');
  rejects(node('Clip', { min: 1, max: 0 }), "attr 'min'");
  rejects(node('Reshape', { shape: [-1, -1] }), "attr 'shape'", 'at most one -1');
  rejects(node('Transpose', { perm: [0, 2, 2, 1] }), "attr 'perm'", 'permutation', 'found [0,2,2,1]');
  rejects(node('Slice', { starts: [0, 0], ends: [1] }), "attr 'ends'", 'expected 2 values', 'found 1');
  rejects(node('Slice', { starts: [0], ends: [1], steps: [0] }), "attr 'steps'", 'non-zero');
  rejects(node('Pad', { pads: [1, 1, 1] }), "attr 'pads'", 'even count', 'found 3');
});

test('input and output counts; absent optional inputs', () => {
  rejects(node('Conv2D', {}, ['x']), 'inputs', 'expected 2 to 3 inputs', 'found 1');
  rejects(node('Add', {}, ['a', 'b', 'c']), 'inputs', 'expected 2 inputs', 'found 3');
  rejects(node('Relu', {}, ['x'], ['y', 'z']), 'outputs', 'expected 1 output', 'found 2');
  rejects(node('Conv2D', {}, ['x', '', 'b']), 'inputs[1]', 'required');
  validateNodeAttrs(node('Conv2D', {}, ['x', 'w', '']), FILE);
  validateNodeAttrs(node('Concat', { axis: 1 }, ['a', 'b', 'c', 'd', 'e']), FILE);
});

test('unknown op', () => {
  rejects(node('Gelu'), 'op', 'found string "Gelu"');
});

test.run();
