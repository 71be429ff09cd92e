// ONNX export (compiler/export/onnx.ts): the exported file of examples/mnist, the ONNX fixtures after
// import, and a graph using every exportable op runs in onnxruntime (wasm CPU kernels, test/ort-oracle.ts) within 1e-5 of edgec's float64
// reference and of the edgec runtime; re-importing it with edgec's own frontend gives the same
// optimised compute graph and the same float64 outputs (1e-9); quantised graphs are refused by name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { ort, ortSession } from '../../ort-oracle.ts';
import { loadModelJson, parseModelJson } from '../../../compiler/frontend/model-json/index.ts';
import { loadOnnx, parseOnnx } from '../../../compiler/frontend/onnx/index.ts';
import { exportOnnx } from '../../../compiler/export/onnx.ts';
import { decodeModel } from '../../../compiler/frontend/onnx/decode.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { compileGraph } from '../../../compiler/compile.ts';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { Pcg32 } from '../../../compiler/train/data/pcg32.ts';
import { cloneGraph } from '../../../compiler/compile.ts';
import { inferShapes } from '../../../compiler/passes/infer-shapes.ts';
import { quantize, splitSamples } from '../../../compiler/quantize/index.ts';
import { loadNpy } from '../../../compiler/io/npy.ts';
import { load } from '../../../runtime/node.ts';

const ROOT = join(import.meta.dirname, '../../..');
const FIX = join(ROOT, 'test/fixtures/onnx');

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function sampleInput(g: Graph, seed: number): Float32Array {
  const t = g.tensors.get(g.inputs[0]!)!;
  const rng = new Pcg32(seed, 9);
  return Float32Array.from({ length: t.shape.reduce((a, b) => a * b, 1) }, () => rng.nextFloat() * 2 - 1);
}

/** The compute ops of the optimised graph with their constant inputs' shapes (layout ops left out). */
function computeSignature(g: Graph): string[] {
  const opt = compileGraph(g).graph;
  return opt.nodes
    .filter((n) => !['Transpose', 'Reshape', 'Flatten'].includes(n.op))
    .map(
      (n) =>
        `${n.op}(${n.inputs.map((i) => (opt.tensors.get(i)?.data ? `[${opt.tensors.get(i)!.shape}]` : 'x')).join(',')})`,
    );
}

async function checkExport(name: string, g: Graph): Promise<void> {
  const bytes = exportOnnx(g);
  const model = decodeModel(bytes, `${name}.onnx`);
  assert.is(model.opset, 13, name);
  const session = await ortSession(bytes);
  const runtime = await load(compileGraph(g).bundle, { build: 'simd' });
  const input = g.tensors.get(g.inputs[0]!)!;
  const back = parseOnnx(bytes, `${name}.onnx`);
  const shaped = cloneGraph(g);
  inferShapes.run(shaped);
  assert.equal(back.inputs, g.inputs, name);
  assert.equal(back.outputs, g.outputs, name);
  for (const seed of [1, 2]) {
    const x = sampleInput(g, seed);
    const ref = evaluate(g, { [g.inputs[0]!]: x });
    const got = await session.run({ [g.inputs[0]!]: new ort.Tensor('float32', x, input.shape) });
    const rt = runtime.run({ [g.inputs[0]!]: x });
    for (const o of g.outputs) {
      const ortOut = got[o]!.data as Float32Array;
      assert.equal(got[o]!.dims, shaped.tensors.get(o)!.shape, `${name} ${o} shape`);
      assert.ok(
        maxDiff(ortOut, ref[o]!) <= 1e-5,
        `${name} ${o}: onnxruntime vs float64 reference ${maxDiff(ortOut, ref[o]!)}`,
      );
      assert.ok(
        maxDiff(ortOut, rt[o] as Float32Array) <= 1e-5,
        `${name} ${o}: onnxruntime vs edgec runtime ${maxDiff(ortOut, rt[o] as Float32Array)}`,
      );
      const again = evaluate(back, { [g.inputs[0]!]: x })[o]!;
      assert.ok(
        maxDiff(again, ref[o]!) <= 1e-9,
        `${name} ${o}: re-imported graph vs original ${maxDiff(again, ref[o]!)}`,
      );
    }
  }
  assert.equal(computeSignature(back), computeSignature(g), `${name}: compute graph after re-import`);
}

test('examples/mnist/model.json: onnxruntime and re-import agree with edgec', async () => {
  await checkExport('mnist', loadModelJson(join(ROOT, 'examples/mnist/model.json')));
});

for (const f of ['fashion_cnn', 'kws_dscnn', 'iris_mlp', 'cnn_small']) {
  test(`${f}.onnx imported then exported: onnxruntime and re-import agree with edgec`, async () => {
    await checkExport(f, loadOnnx(join(FIX, `${f}.onnx`)));
  });
}

/** A model.json using every exportable op; weights from PCG32, all in a sidecar. */
function allOpsModel(): Graph {
  const rng = new Pcg32(5, 5);
  const tensors: Record<string, unknown> = {};
  const chunks: Float32Array[] = [];
  let offset = 0;
  const t = (name: string, shape: number[], f: () => number = () => rng.nextFloat() - 0.5) => {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, f);
    tensors[name] = { dtype: 'float32', shape, offset, length: data.byteLength };
    chunks.push(data);
    offset += data.byteLength;
  };
  t('w1', [8, 3, 3, 4]);
  t('b1', [8]);
  t('wd', [8, 3, 3, 1]);
  t('bn.s', [8], () => 0.5 + rng.nextFloat());
  t('bn.b', [8]);
  t('bn.m', [8]);
  t('bn.v', [8], () => 0.2 + rng.nextFloat());
  t('slope', [8]);
  t('c8', [8]);
  t('c1118', [1, 1, 1, 8]);
  t('two', [1], () => 2);
  t('bn2.s', [8], () => 0.5 + rng.nextFloat());
  t('bn2.b', [8]);
  t('bn2.m', [8]);
  t('bn2.v', [8], () => 0.2 + rng.nextFloat());
  t('wf', [5, 8]);
  t('bf', [5]);
  const sidecar = new Uint8Array(offset);
  let o = 0;
  for (const c of chunks) {
    sidecar.set(new Uint8Array(c.buffer), o);
    o += c.byteLength;
  }
  const node = (name: string, op: string, inputs: string[], attrs: Record<string, unknown> = {}) => ({
    name,
    op,
    inputs,
    outputs: [name],
    attrs,
  });
  const json = {
    format: 'edgec-model',
    version: 1,
    name: 'all-ops',
    weights: 'all-ops.bin',
    inputs: [{ name: 'x', shape: [1, 6, 6, 4], dtype: 'float32' }],
    outputs: [{ name: 'sm' }, { name: 'cat' }],
    tensors,
    nodes: [
      node('c1', 'Conv2D', ['x', 'w1', 'b1'], { padding: 'same', activation: 'relu' }),
      node('dw', 'Conv2D', ['c1', 'wd'], {
        groups: 8,
        dilations: [2, 2],
        padding: [2, 2, 2, 2],
        activation: 'clip',
        clip: [0, 6],
      }),
      node('bn', 'BatchNorm', ['dw', 'bn.s', 'bn.b', 'bn.m', 'bn.v'], { epsilon: 1e-3 }),
      node('pr', 'PRelu', ['bn', 'slope']),
      node('lk', 'LeakyRelu', ['pr'], { alpha: 0.2 }),
      node('ap', 'AvgPool', ['lk'], { kernel: [3, 3], strides: [2, 2], padding: 'same' }),
      node('mp', 'MaxPool', ['lk'], { kernel: [2, 2], strides: [2, 2], padding: [1, 1, 0, 0] }),
      node('add', 'Add', ['ap', 'mp'], { activation: 'relu' }),
      node('sub', 'Sub', ['add', 'c8']),
      node('mul', 'Mul', ['sub', 'c1118']),
      node('div', 'Div', ['mul', 'two']),
      node('sig', 'Sigmoid', ['add']),
      node('th', 'Tanh', ['mul']),
      node('cl', 'Clip', ['th'], { min: -0.5, max: 0.5 }),
      node('ex', 'Exp', ['cl']),
      node('r6', 'Relu6', ['div']),
      node('mx', 'Max', ['r6', 'ex']),
      node('mn', 'Min', ['mx', 'sig']),
      node('rl', 'Relu', ['sub']),
      node('cat', 'Concat', ['mn', 'th', 'rl'], { axis: -1 }),
      node('pad', 'Pad', ['cat'], { pads: [0, 1, 1, 0, 0, 0, 0, 0], value: 0.5 }),
      node('sl', 'Slice', ['pad'], { starts: [1, 0], ends: [4, 24], axes: [1, 3], steps: [1, 3] }),
      node('gap', 'GlobalAvgPool', ['sl']),
      node('tr', 'Transpose', ['gap'], { perm: [0, 3, 1, 2] }),
      node('fl', 'Flatten', ['tr'], { axis: 1 }),
      node('rs', 'Reshape', ['fl'], { shape: [2, -1] }),
      node('rs2', 'Reshape', ['rs'], { shape: [1, 8] }),
      node('bn2', 'BatchNorm', ['rs2', 'bn2.s', 'bn2.b', 'bn2.m', 'bn2.v']),
      node('fc', 'Dense', ['bn2', 'wf', 'bf'], { activation: 'clip', clip: [-1, 1] }),
      node('sm', 'Softmax', ['fc']),
    ],
  };
  return parseModelJson(json, sidecar, 'all-ops.json');
}

test('every exportable op (conv groups/dilation/same, pools, BN rank 4 and 2, elementwise, pad, slice …)', async () => {
  const g = allOpsModel();
  const ops = new Set(g.nodes.map((n) => n.op));
  for (const op of [
    'Conv2D',
    'Dense',
    'BatchNorm',
    'Add',
    'Sub',
    'Mul',
    'Div',
    'Max',
    'Min',
    'PRelu',
    'Relu',
    'Relu6',
    'Clip',
    'LeakyRelu',
    'Sigmoid',
    'Tanh',
    'Exp',
    'MaxPool',
    'AvgPool',
    'GlobalAvgPool',
    'Reshape',
    'Flatten',
    'Transpose',
    'Concat',
    'Softmax',
    'Pad',
    'Slice',
  ]) {
    assert.ok(ops.has(op as never), op);
  }
  await checkExport('all-ops', g);
});

test('quantised graphs (the int8 IR of examples/mnist) are refused by name', async () => {
  const g = loadModelJson(join(ROOT, 'examples/mnist/model.json'));
  const x = loadNpy(join(ROOT, 'examples/mnist/images.npy'));
  const { graph: q } = await quantize(g, {
    method: 'minmax',
    samples: splitSamples(g, (x.data as Float32Array).subarray(0, 20 * 784), [20, 1, 28, 28], 'images.npy'),
  });
  assert.throws(() => exportOnnx(q), /model\.json: tensor '.*': is (u?int8|int32): ONNX export writes float32 graphs/);
});

test.run();
