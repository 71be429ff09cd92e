// Bad TF.js files: each gets one ModelError naming the file and the weight / layer / node at fault — missing
// shard, shards shorter or longer than the manifest, unknown dtypes, shard paths leading out of the model's
// folder, unsupported layers / activations / ops (all listed in one message) — and edgec's own model.json is
// never taken for a TF.js one. Also: float16 decoding is exact, and --shape fixes a dynamic input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  appendFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTfjs, tfjsFormat, tfjsFormatOf } from '../../../../compiler/frontend/tfjs/index.ts';
import { halfToFloat } from '../../../../compiler/frontend/tfjs/weights.ts';
import { ModelError } from '../../../../compiler/ir/graph.ts';
import { floatToHalf } from '../../../fixtures/tfjs/float16.ts';

const FIXTURES = join(import.meta.dirname, '../../../fixtures/tfjs');
const tmp = mkdtempSync(join(tmpdir(), 'edgec-tfjs-'));

/** A copy of fixture `name` in a fresh folder, with `edit` applied to its parsed model.json. */
function copy(name: string, edit?: (j: Record<string, any>) => void): string {
  const dir = mkdtempSync(join(tmp, `${name}-`));
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  const path = join(dir, 'model.json');
  if (edit) {
    const j = JSON.parse(readFileSync(path, 'utf8'));
    edit(j);
    writeFileSync(path, JSON.stringify(j));
  }
  return path;
}

function fails(path: string, ...parts: (string | RegExp)[]): void {
  try {
    loadTfjs(path);
  } catch (e) {
    assert.instance(e, ModelError);
    const msg = (e as Error).message;
    assert.ok(!msg.includes('\n'), `one line: ${msg}`);
    assert.ok(msg.startsWith(`${path}: `), `names the file: ${msg}`);
    for (const p of parts) assert.ok(typeof p === 'string' ? msg.includes(p) : p.test(msg), `'${p}' in: ${msg}`);
    return;
  }
  assert.unreachable(`${path} loaded`);
}

test('missing shard: names the path and the weight it starts in', () => {
  const path = copy('layers-cnn');
  rmSync(join(path, '../group1-shard2of2.bin'));
  fails(
    path,
    'weightsManifest[0].paths[1]',
    "shard 'group1-shard2of2.bin': no such file",
    "bytes from 1589 on, starting in weight 'sep/pointwise_kernel'",
  );
});

test('shards shorter than the manifest: names the weight that is cut', () => {
  const path = copy('graph-model');
  truncateSync(join(path, '../group1-shard1of1.bin'), 100);
  fails(path, 'weightsManifest[0]', 'shard size', 'hold 100', "weight 'c1/w' (bytes 4..868) is cut at byte 100");
});

test('shards longer than the manifest: names the last weight', () => {
  const path = copy('graph-model');
  appendFileSync(join(path, '../group1-shard1of1.bin'), new Uint8Array(8));
  fails(path, 'shard size', "8 bytes follow the last weight 'edge/axis'");
});

test('unknown dtype and quantisation dtype: names the weight', () => {
  fails(
    copy('graph-model', (j) => (j.weightsManifest[0].weights[2].dtype = 'complex64')),
    "weight 'c1/b'",
    'dtype: expected float32, int32 or bool, found "complex64"',
  );
  fails(
    copy('graph-model-uint8', (j) => (j.weightsManifest[0].weights[1].quantization.dtype = 'int4')),
    "weight 'c1/w'",
    'quantization.dtype: expected uint8, uint16 or float16, found "int4"',
  );
  fails(
    copy('graph-model-uint8', (j) => delete j.weightsManifest[0].weights[1].quantization.scale),
    "weight 'c1/w'",
    'scale',
  );
});

test('shard paths must stay inside the model folder: .., absolute, symlink out', () => {
  const outside = join(tmp, 'outside.bin');
  cpSync(join(FIXTURES, 'graph-model/group1-shard1of1.bin'), outside);
  fails(
    copy('graph-model', (j) => (j.weightsManifest[0].paths = ['../outside.bin'])),
    'paths[0]',
    "inside the model's folder",
    'leads outside',
  );
  fails(
    copy('graph-model', (j) => (j.weightsManifest[0].paths = [outside])),
    'leads outside',
  );
  const path = copy('graph-model', (j) => (j.weightsManifest[0].paths = ['link.bin']));
  symlinkSync(outside, join(path, '../link.bin'));
  fails(path, 'a symlink to', 'outside it');
});

test('unsupported layers and activations: all listed in one error', () => {
  const path = copy('layers-cnn', (j) => {
    const layers = j.modelTopology.config.layers;
    layers[1].class_name = 'Conv2DTranspose';
    layers[2].class_name = 'LSTM';
    layers[8].config.activation = 'elu';
    layers[10].config.activation = 'elu';
  });
  fails(
    path,
    'found 3 unsupported',
    "Conv2DTranspose ×1 ('dw')",
    "LSTM ×1 ('sep')",
    "activation 'elu' ×2 ('conv2', 'fc1')",
  );
});

test('unsupported layers inside a nested model are listed too', () => {
  const path = copy('layers-nested', (j) => {
    const [trunk, head] = j.modelTopology.config.layers;
    trunk.config.layers[1].class_name = 'Conv3D';
    head.config.layers[0].config.activation = 'selu';
  });
  fails(path, 'found 2 unsupported', "Conv3D ×1 ('trunk_conv')", "activation 'selu' ×1 ('head_fc1')");
});

test('unsupported graph ops: all listed in one error', () => {
  const path = copy('graph-model', (j) => {
    const nodes = j.modelTopology.node as { op: string; name: string }[];
    nodes.find((n) => n.name === 'sig')!.op = 'Elu';
    nodes.find((n) => n.name === 'add')!.op = 'SquaredDifference';
    nodes.find((n) => n.name === 'feat')!.op = 'Elu';
  });
  fails(path, 'modelTopology: ops:', 'found 2 unsupported', "Elu ×2 ('sig', 'feat')", "SquaredDifference ×1 ('add')");
});

test('ResizeBilinear, DepthToSpace, Conv2DBackpropInput: bad attrs name the node and what was expected', () => {
  const edit = (name: string, attr: Record<string, unknown>) =>
    copy('graph-image', (j) => Object.assign(j.modelTopology.node.find((n: any) => n.name === name).attr, attr));
  fails(
    edit('deconv_same', { dilations: { list: { i: ['1', '2', '2', '1'] } } }),
    "node 'deconv_same' (Conv2DBackpropInput)",
    "attr 'dilations': expected [1, 1, 1, 1], found [1, 2, 2, 1]",
  );
  fails(
    edit('deconv_valid', { strides: { list: { i: ['1', '3', '3', '1'] } } }),
    "node 'deconv_valid' (Conv2DBackpropInput)",
    "input[2]: expected dy of 4×5 pixels (the forward conv's output), found 6×7",
  );
  fails(
    edit('up_half', { align_corners: { b: true } }),
    "node 'up_half' (ResizeBilinear)",
    "attr 'half_pixel_centers': expected false when align_corners is true",
  );
  fails(edit('d2s', { block_size: { i: '3' } }), "node 'd2s' (DepthToSpace)", 'whose square divides the 4 channels');
});

test('a missing weight and a bad layer config name the layer', () => {
  fails(
    copy('layers-cnn', (j) => (j.weightsManifest[0].weights[0].name = 'other/kernel')),
    "layer 'conv1' (Conv2D)",
    "weight 'conv1/kernel'",
  );
  fails(
    copy('layers-cnn', (j) => (j.modelTopology.config.layers[0].config.data_format = 'channels_first')),
    "layer 'conv1' (Conv2D)",
    'data_format: expected channels_last',
  );
  fails(
    copy(
      'graph-model',
      (j) => (j.modelTopology.node.find((n: { name: string }) => n.name === 'mean').input[1] = 'nowhere'),
    ),
    "node 'mean' (Mean)",
    "'nowhere'",
  );
});

test("edgec's own model.json is told apart by content, whatever its name", () => {
  assert.is(tfjsFormat(join(FIXTURES, '../model-json/tiny-cnn.json')), undefined);
  assert.is(tfjsFormat(join(FIXTURES, 'layers-cnn/model.json')), 'tfjs layers-model');
  assert.is(tfjsFormat(join(FIXTURES, 'human-gender/gender.json')), 'tfjs graph-model');
  assert.is(tfjsFormatOf({ format: 'edgec-model', modelTopology: {} }), undefined);
  assert.is(tfjsFormatOf({ modelTopology: { node: [] } }), 'tfjs graph-model');
});

test('float16: every finite half decodes exactly (round trip through float32 → half)', () => {
  for (let h = 0; h < 0x10000; h++) {
    const v = halfToFloat(h);
    if (Number.isNaN(v)) continue;
    assert.is(floatToHalf(v), h, `half 0x${h.toString(16)}`);
    assert.is(Math.fround(v), v);
  }
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});

test('--shape fixes a dynamic dim; a wrong one is refused', () => {
  const path = copy('graph-model', (j) => {
    j.modelTopology.node[0].attr.shape.shape.dim[1].size = '-1';
  });
  fails(path, "input 'x'", 'not static', '--shape x=1x1x9x3');
  const g = loadTfjs(path, { shapes: { x: [1, 9, 9, 3] } });
  assert.equal(g.tensors.get('x')!.shape, [1, 9, 9, 3]);
  assert.throws(() => loadTfjs(path, { shapes: { x: [1, 9, 8, 3] } }), /dim 2 is 9 in the model, found 8/);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
