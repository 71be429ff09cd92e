// model.json loader tests: the fixtures load, and each class of bad model gives one ModelError
// naming the file, the node/tensor/input and the field, with expected vs found.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelError } from '../../../../compiler/ir/graph.ts';
import { loadModelJson, parseJsonText, parseModelJson } from '../../../../compiler/frontend/model-json/index.ts';
import { loadBlockModel } from '../../../../compiler/cli/branches.ts';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/model-json/', import.meta.url));
const FILE = 'tiny-cnn.json';

type Json = Record<string, any>;

/** A fresh deep copy of the hand-written base model to mutate. */
function base(): Json {
  return JSON.parse(readFileSync(join(FIXTURES, 'tiny-cnn.json'), 'utf8'));
}

function nodeNamed(m: Json, name: string): Json {
  return m.nodes.find((n: Json) => n.name === name);
}

/** Expects fn to throw a ModelError for FILE at `where` whose message contains every part. */
function fails(fn: () => unknown, where: string, ...parts: string[]): ModelError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ModelError)) throw e;
    assert.is(e.where, where, e.message);
    assert.ok(e.message.startsWith(`${e.file}: ${where}: `), e.message);
    for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" lacks "${p}"`);
    return e;
  }
  assert.unreachable('model was accepted');
  throw new Error('unreachable');
}

const parseFails = (m: unknown, where: string, ...parts: string[]): ModelError => {
  const e = fails(() => parseModelJson(m, undefined, FILE), where, ...parts);
  assert.is(e.file, FILE);
  return e;
};

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'edgec-model-json-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('tiny-cnn.json loads: inputs, outputs, constants with data, nodes in order', () => {
  const g = loadModelJson(join(FIXTURES, 'tiny-cnn.json'));
  assert.is(g.name, 'tiny-cnn');
  assert.equal(g.inputs, ['image']);
  assert.equal(g.outputs, ['probs']);
  assert.equal(g.tensors.get('image'), { name: 'image', dtype: 'float32', shape: [1, 4, 4, 2] });
  assert.equal(g.tensors.get('probs'), { name: 'probs', dtype: 'float32', shape: [1, 3] });
  const w = g.tensors.get('conv1.w')!;
  assert.instance(w.data, Float32Array);
  assert.equal([...(w.data as Float32Array)], [0.5, -0.25, 1, 0.75]);
  assert.equal([...(g.tensors.get('conv1.b')!.data as Float32Array)], [Math.fround(0.1), Math.fround(-0.1)]);
  assert.equal(
    g.nodes.map((n) => n.name),
    ['conv1', 'pool', 'flat', 'fc', 'softmax'],
  );
  assert.is(g.source, join(FIXTURES, 'tiny-cnn.json'));
});

test('attr defaults are filled by the loader', () => {
  const g = parseModelJson(base(), undefined, FILE);
  assert.equal(g.nodes[0].attrs, {
    padding: 'same',
    activation: 'relu',
    strides: [1, 1],
    dilations: [1, 1],
    groups: 1,
    clip: [0, 6],
  });
  assert.equal(g.nodes[3].attrs, { activation: 'none', clip: [0, 6] });
  assert.equal(g.nodes[4].attrs, { axis: -1 });
});

test('small-cnn.json loads its sidecar: data equals the bytes at offset, copied and aligned', () => {
  const path = join(FIXTURES, 'small-cnn.json');
  const g = loadModelJson(path);
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  const bin = new Uint8Array(readFileSync(join(FIXTURES, doc.weights)));
  for (const [name, t] of Object.entries<Json>(doc.tensors)) {
    const data = g.tensors.get(name)!.data!;
    assert.is(data.byteOffset % 4, 0);
    if (t.offset === undefined) continue;
    assert.equal(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      bin.subarray(t.offset, t.offset + t.length),
      name,
    );
    assert.is.not(data.buffer, bin.buffer);
  }
  assert.is(g.nodes.find((n) => n.name === 'dw')!.attrs.groups, 8);
});

test('error: not JSON reports line and column', () => {
  const text = '{\n  "format": "edgec-model",\n  "version": 1,\n}\n';
  const e = fails(() => parseJsonText(text, FILE), 'line 4, column 1', 'not valid JSON');
  assert.is(e.file, FILE);
  fails(() => parseJsonText('{"a": [1, 2', FILE), 'line 1, column 12', 'not valid JSON');
  withTempDir((dir) => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{\n  "format": "edgec-model"\n  "version": 1\n}');
    const err = fails(() => loadModelJson(path), 'line 3, column 3', 'not valid JSON');
    assert.is(err.file, path);
  });
});

test('a UTF-8 byte-order mark before the json is accepted', () => {
  withTempDir((dir) => {
    const path = join(dir, 'bom.json');
    writeFileSync(path, `\ufeff${readFileSync(join(FIXTURES, 'tiny-cnn.json'), 'utf8')}`);
    assert.is(loadModelJson(path).nodes.length, 5);
  });
});

test('error: model file missing', () => {
  withTempDir((dir) => {
    fails(() => loadModelJson(join(dir, 'nope.json')), 'file', 'ENOENT');
  });
});

test('error: wrong format and wrong version', () => {
  const m = base();
  m.format = 'onnx';
  parseFails(m, 'model', 'format', 'expected "edgec-model"', 'found string "onnx"');
  const v = base();
  v.version = 2;
  parseFails(v, 'model', 'version', 'expected 1', 'found number 2');
  parseFails([1, 2], 'model', 'top level', 'expected an object', 'found array');
});

test('error: missing and mistyped fields', () => {
  const m = base();
  delete m.nodes;
  parseFails(m, 'model', 'nodes', 'expected an array', 'found nothing');
  const n = base();
  delete n.name;
  parseFails(n, 'model', 'name', 'expected a non-empty string', 'found nothing');
  const i = base();
  i.inputs[0].shape = '1x4x4x2';
  parseFails(i, "input 'image'", 'shape', 'expected an array', 'found string "1x4x4x2"');
  const node = base();
  nodeNamed(node, 'pool').inputs = 'conv1.out';
  parseFails(node, "node 'pool'", 'inputs', 'expected an array', 'found string "conv1.out"');
  const op = base();
  delete nodeNamed(op, 'fc').op;
  parseFails(op, "node 'fc'", 'op', 'expected a non-empty string', 'found nothing');
  const unnamed = base();
  delete unnamed.nodes[2].name;
  parseFails(unnamed, 'nodes[2]', 'name', 'found nothing');
  const typo = base();
  typo.wieghts = 'x.bin';
  parseFails(typo, 'model', 'wieghts', 'unknown field', "'weights'");
  const attrs = base();
  nodeNamed(attrs, 'conv1').attrs = [1];
  parseFails(attrs, "node 'conv1'", 'attrs', 'expected an object', 'found array [1]');
  const both = base();
  both.tensors['fc.b'].offset = 0;
  both.tensors['fc.b'].length = 12;
  parseFails(both, "tensor 'fc.b'", 'data', 'found both');
});

test('error: unknown dtype', () => {
  const m = base();
  m.tensors['fc.w'].dtype = 'float16';
  parseFails(m, "tensor 'fc.w'", 'dtype', "'float32'", 'found string "float16"');
  const i = base();
  i.inputs[0].dtype = 'f32';
  parseFails(i, "input 'image'", 'dtype', 'found string "f32"');
});

test('error: bad shape (non-integer, < 1, empty input shape)', () => {
  const m = base();
  m.tensors['fc.w'].shape = [3, 2.5];
  parseFails(m, "tensor 'fc.w'", 'shape[1]', 'expected an integer ≥ 1', 'found number 2.5');
  const z = base();
  z.inputs[0].shape = [1, 0, 4, 2];
  parseFails(z, "input 'image'", 'shape[1]', 'found number 0');
  const e = base();
  e.inputs[0].shape = [];
  parseFails(e, "input 'image'", 'shape', 'at least one dimension');
  const o = base();
  o.outputs[0].shape = [1, -3];
  parseFails(o, "output 'probs'", 'shape[1]', 'found number -3');
});

test('error: unknown ops are listed all at once with counts', () => {
  const m = base();
  nodeNamed(m, 'pool').op = 'Gelu';
  nodeNamed(m, 'flat').op = 'Swish';
  nodeNamed(m, 'softmax').op = 'Gelu';
  const e = parseFails(m, "node 'pool'", 'op', "'Gelu' ×2", "'Swish' ×1", 'supported: Conv2D');
  assert.ok(!e.message.includes("'Conv2D' ×"));
});

test('error: node attrs (unknown, wrong type, outside values, input count)', () => {
  const m = base();
  nodeNamed(m, 'conv1').attrs.stride = [2, 2];
  parseFails(m, "node 'conv1'", "attr 'stride'", 'unknown');
  const t = base();
  nodeNamed(t, 'conv1').attrs.groups = '1';
  parseFails(t, "node 'conv1'", "attr 'groups'", 'expected an integer', 'found string "1"');
  const v = base();
  nodeNamed(v, 'conv1').attrs.activation = 'swish';
  parseFails(v, "node 'conv1'", "attr 'activation'", "'none', 'relu', 'clip'");
  const c = base();
  nodeNamed(c, 'fc').inputs = ['flat.out'];
  parseFails(c, "node 'fc'", 'inputs', 'expected 2 to 3 inputs', 'found 1');
  const r = base();
  delete nodeNamed(r, 'flat').attrs;
  parseFails(r, "node 'flat'", "attr 'shape'", 'required by Reshape');
});

test('error: an input that names nothing', () => {
  const m = base();
  nodeNamed(m, 'fc').inputs[1] = 'fc.weight';
  parseFails(m, "node 'fc'", 'inputs[1]', "found 'fc.weight', which names nothing");
});

test('error: a node uses a tensor before the node that defines it (topological order)', () => {
  const m = base();
  [m.nodes[1], m.nodes[2]] = [m.nodes[2], m.nodes[1]];
  parseFails(
    m,
    "node 'flat'",
    'inputs[0]',
    'topological order',
    "'pool.out'",
    "node 'pool' (nodes[2], this is nodes[1])",
  );
});

test('error: duplicate names (node, tensor vs input, node output)', () => {
  const m = base();
  nodeNamed(m, 'flat').name = 'pool';
  parseFails(m, "node 'pool'", 'name', 'unique node name', 'nodes[1]', 'nodes[2]');
  const t = base();
  t.tensors.image = { dtype: 'float32', shape: [1], data: [0] };
  parseFails(t, "tensor 'image'", 'name', "'image' already defined by graph input 0");
  const o = base();
  nodeNamed(o, 'pool').outputs = ['conv1.out'];
  parseFails(o, "node 'pool'", 'outputs[0]', "'conv1.out' already defined by node 'conv1'");
  const c = base();
  nodeNamed(c, 'softmax').outputs = ['fc.w'];
  parseFails(c, "node 'softmax'", 'outputs[0]', '\'fc.w\' already defined by the "tensors" table');
  const out = base();
  out.outputs.push({ name: 'probs' });
  parseFails(out, "output 'probs'", 'name', 'twice');
});

test('error: a graph output produced by no node', () => {
  const m = base();
  m.outputs[0].name = 'prob';
  parseFails(m, "output 'prob'", 'name', 'produced by a node', "'prob', which is no tensor");
  const i = base();
  i.outputs = [{ name: 'image' }];
  parseFails(i, "output 'image'", 'name', 'which is a graph input or constant');
});

test('error: a declared output shape or dtype the ops do not produce', () => {
  const m = base();
  m.outputs[0].shape = [1, 4];
  parseFails(m, "output 'probs'", 'shape', 'expected float32 [1,3]', "node 'softmax'", 'found declared [1,4]');
  const d = base();
  d.outputs[0].dtype = 'int8';
  parseFails(d, "output 'probs'", 'dtype', 'expected float32 [1,3]', 'found declared int8 [1,3]');
  const dtypeOnly = base();
  delete dtypeOnly.outputs[0].shape;
  dtypeOnly.outputs[0].dtype = 'int32';
  parseFails(dtypeOnly, "output 'probs'", 'dtype', 'expected float32 [1,3]', 'found declared int32');
  dtypeOnly.outputs[0].dtype = 'float32';
  assert.is(parseModelJson(dtypeOnly, undefined, FILE).tensors.has('probs'), false);
  const undeclared = base();
  delete undeclared.outputs[0].shape;
  assert.is(parseModelJson(undeclared, undefined, FILE).tensors.has('probs'), false);
});

test('error: inline data count differs from the shape; too much inline data; bad values', () => {
  const m = base();
  m.tensors['fc.b'].data = [0, 1];
  parseFails(m, "tensor 'fc.b'", 'data', 'expected 3 values', 'shape [3]', 'found 2');
  const big = base();
  big.tensors['fc.b'] = { dtype: 'float32', shape: [65], data: new Array(65).fill(0) };
  parseFails(big, "tensor 'fc.b'", 'data', 'at most 64 inline values', 'found 65');
  const i8 = base();
  i8.tensors.q = { dtype: 'int8', shape: [2], data: [1, 200] };
  parseFails(i8, "tensor 'q'", 'data[1]', 'integer in [-128, 127]', 'found number 200');
  const f = base();
  f.tensors['fc.b'].data = [0, 'x', 1];
  parseFails(f, "tensor 'fc.b'", 'data[1]', 'found string "x"');
  const r = base();
  r.tensors['fc.b'].data = [0, 1e39, 1];
  parseFails(r, "tensor 'fc.b'", 'data[1]', 'float32 range');
});

/** Base model with fc.w moved to a sidecar of `binBytes` bytes at `offset`. */
function sidecarModel(offset: number, length = 24): Json {
  const m = base();
  m.weights = 'tiny-cnn.bin';
  m.tensors['fc.w'] = { dtype: 'float32', shape: [3, 2], offset, length };
  return m;
}

test('sidecar: offset/length read the right bytes, unaligned offset allowed', () => {
  const values = new Float32Array([1, 2, 3, 4, 5, 6]);
  const bin = new Uint8Array(40);
  bin.set(new Uint8Array(values.buffer), 5);
  const g = parseModelJson(sidecarModel(5), bin, FILE);
  assert.equal(g.tensors.get('fc.w')!.data, values);
});

test('error: sidecar missing', () => {
  parseFails(sidecarModel(0), "tensor 'fc.w'", 'offset', "sidecar 'tiny-cnn.bin'", 'sidecar missing');
  const noField = sidecarModel(0);
  delete noField.weights;
  parseFails(noField, "tensor 'fc.w'", 'offset', 'found no "weights" field');
  withTempDir((dir) => {
    const path = join(dir, 'tiny-cnn.json');
    writeFileSync(path, JSON.stringify(sidecarModel(0)));
    const e = fails(
      () => loadModelJson(path),
      'model',
      'weights',
      "sidecar 'tiny-cnn.bin'",
      join(dir, 'tiny-cnn.bin'),
      'sidecar missing',
    );
    assert.is(e.file, path);
  });
});

test('sidecar paths stay inside the model folder: .., absolute and escaping symlinks refused, subfolders read', () => {
  const values = new Float32Array([1, 2, 3, 4, 5, 6]);
  const bin = new Uint8Array(values.buffer);
  withTempDir((root) => {
    const dir = join(root, 'model');
    mkdirSync(join(dir, 'weights'), { recursive: true });
    writeFileSync(join(root, 'outside.bin'), bin);
    writeFileSync(join(dir, 'weights', 'w.bin'), bin);
    symlinkSync(join(root, 'outside.bin'), join(dir, 'link-out.bin'));
    symlinkSync(join(dir, 'weights', 'w.bin'), join(dir, 'link-in.bin'));
    const path = join(dir, 'tiny-cnn.json');
    const withWeights = (w: string) => {
      const m = sidecarModel(0);
      m.weights = w;
      writeFileSync(path, JSON.stringify(m));
    };
    for (const w of [
      '../outside.bin',
      '../../../../etc/passwd',
      join(root, 'outside.bin'),
      'weights/../../outside.bin',
    ]) {
      withWeights(w);
      const e = fails(
        () => loadModelJson(path),
        'model',
        'weights',
        `sidecar '${w}'`,
        "inside the model's folder",
        'leads outside it',
      );
      assert.is(e.file, path);
    }
    withWeights('link-out.bin');
    fails(
      () => loadModelJson(path),
      'model',
      'weights',
      "sidecar 'link-out.bin'",
      'a symlink to',
      join(root, 'outside.bin'),
    );
    for (const w of ['weights/w.bin', 'link-in.bin', './weights/../weights/w.bin']) {
      withWeights(w);
      assert.equal(loadModelJson(path).tensors.get('fc.w')!.data, values, w);
    }
    // models with Branch blocks read their sidecar through the same check
    const block = sidecarModel(0);
    block.weights = '../outside.bin';
    block.nodes.push({ name: 'blk', op: 'Branch', inputs: ['probs'], outputs: ['m'] });
    writeFileSync(path, JSON.stringify(block));
    fails(() => loadBlockModel(path), 'model', 'weights', "sidecar '../outside.bin'", 'leads outside it');
  });
});

test('error: offset/length past the end of the sidecar', () => {
  const bin = new Uint8Array(30);
  fails(
    () => parseModelJson(sidecarModel(8), bin, FILE),
    "tensor 'fc.w'",
    'offset',
    'offset + length ≤ 30',
    'found 8 + 24 = 32',
  );
  parseModelJson(sidecarModel(6), bin, FILE);
  withTempDir((dir) => {
    const path = join(dir, 'tiny-cnn.json');
    writeFileSync(path, JSON.stringify(sidecarModel(8)));
    writeFileSync(join(dir, 'tiny-cnn.bin'), bin);
    fails(() => loadModelJson(path), "tensor 'fc.w'", 'offset', 'found 8 + 24 = 32');
  });
});

test('error: length differs from product(shape) x element size', () => {
  parseFails(sidecarModel(0, 6), "tensor 'fc.w'", 'length', 'expected 24 bytes', '6 × 4-byte float32', 'found 6');
  const m = sidecarModel(0);
  m.tensors['fc.w'].offset = -4;
  parseFails(m, "tensor 'fc.w'", 'offset', 'expected an integer ≥ 0', 'found number -4');
});

test.run();
