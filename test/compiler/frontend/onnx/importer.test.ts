// Importer unit tests on small in-memory ONNX models (build-model.ts): layout handling (transposes
// only where needed, Flatten/Reshape see NCHW order), constant folding, opset-dependent forms, and
// the error messages. Oracle: onnxruntime (wasm CPU kernels, test/ort-oracle.ts) on the same bytes vs the IR reference evaluator,
// and the compiled bundle on both runtime builds, within 1e-4 (abs below 1, relative above).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ort, ortSession } from '../../../ort-oracle.ts';
import { parseOnnx } from '../../../../compiler/frontend/onnx/index.ts';
import type { OnnxImportOptions } from '../../../../compiler/frontend/onnx/index.ts';
import { evaluate } from '../../../../compiler/ir/reference.ts';
import { compileGraph } from '../../../../compiler/compile.ts';
import { load } from '../../../../runtime/node.ts';
import { ModelError, numElements } from '../../../../compiler/ir/graph.ts';
import type { Graph } from '../../../../compiler/ir/graph.ts';
import { encodeModel, seeded } from './build-model.ts';
import type { ModelSpec, InitSpec } from './build-model.ts';
import { maxScaledDiff } from './oracle-data.ts';

const TOL = 1e-4;
const w = (name: string, dims: number[], seed: number): InitSpec => ({
  name,
  dims,
  data: seeded(seed, numElements(dims)),
});
const ints = (name: string, data: number[]): InitSpec => ({ name, dims: [data.length], data, dtype: 'int64' });

/** Imports `spec`, runs it on onnxruntime and on the IR reference; asserts equal outputs; returns the graph. */
async function check(spec: ModelSpec, opts: OnnxImportOptions = {}): Promise<Graph> {
  const bytes = encodeModel(spec);
  const g = parseOnnx(bytes, 'test.onnx', opts);
  const feeds: Record<string, Float32Array> = {};
  const ortFeeds: Record<string, ort.Tensor> = {};
  spec.inputs.forEach((inp, i) => {
    if (spec.initializers?.some((t) => t.name === inp.name)) return;
    const shape = g.tensors.get(inp.name)!.shape;
    feeds[inp.name] = seeded(100 + i, numElements(shape));
    ortFeeds[inp.name] = new ort.Tensor('float32', feeds[inp.name], shape);
  });
  const session = await ortSession(bytes);
  const want = await session.run(ortFeeds);
  const got = evaluate(g, feeds);
  for (const o of spec.outputs) {
    assert.equal(g.tensors.get(o)!.shape, [...want[o].dims], `output '${o}' shape`);
    const diff = maxScaledDiff(got[o], want[o].data as Float32Array);
    assert.ok(diff <= TOL, `output '${o}': max scaled diff ${diff}`);
  }
  // The same graph compiled and run on both runtime builds.
  for (const build of ['simd', 'scalar'] as const) {
    const model = await load(compileGraph(g, { target: build }).bundle, { build });
    const out = model.run(feeds);
    for (const o of spec.outputs) {
      const diff = maxScaledDiff(out[o], want[o].data as Float32Array);
      assert.ok(diff <= TOL, `${build} build, output '${o}': max scaled diff ${diff}`);
    }
  }
  await session.release();
  return g;
}

const transposes = (g: Graph) => g.nodes.filter((n) => n.op === 'Transpose');

test('conv 3x3 pad 1 → Flatten → Gemm: one transpose in, one back to NCHW before the flatten', async () => {
  const g = await check({
    inputs: [{ name: 'x', dims: [1, 2, 5, 5] }],
    outputs: ['y'],
    initializers: [w('W', [4, 2, 3, 3], 1), w('B', [4], 2), w('G', [3, 100], 3), w('C', [3], 4)],
    nodes: [
      { op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
      { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'Flatten', inputs: ['r'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'G', 'C'], outputs: ['y'], attrs: { transB: 1, alpha: 0.5, beta: { float: 2 } } },
    ],
  });
  assert.equal(
    transposes(g).map((n) => n.attrs.perm),
    [
      [0, 2, 3, 1],
      [0, 3, 1, 2],
    ],
  );
  assert.equal(g.tensors.get('x')!.shape, [1, 2, 5, 5], 'graph input keeps its NCHW shape');
  const conv = g.nodes.find((n) => n.op === 'Conv2D')!;
  assert.equal(g.tensors.get(conv.inputs[1])!.shape, [4, 3, 3, 2], 'weights OHWI');
});

test('Transpose NCHW→NHWC after conv is absorbed by the layout (no Transpose node at all)', async () => {
  const g = await check({
    inputs: [{ name: 'x', dims: [1, 1, 6, 6] }],
    outputs: ['y'],
    initializers: [w('W', [3, 1, 3, 3], 5), ints('shape', [1, -1])],
    nodes: [
      { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'], attrs: { strides: [2, 2], auto_pad: 'SAME_UPPER' } },
      { op: 'Transpose', inputs: ['c'], outputs: ['t'], attrs: { perm: [0, 2, 3, 1] } },
      { op: 'Reshape', inputs: ['t', 'shape'], outputs: ['y'] },
    ],
  });
  assert.equal(transposes(g).length, 0);
});

test('torch flatten chain Shape→Gather→Unsqueeze→Concat→Reshape folds to a static Reshape (opset 11)', async () => {
  const g = await check({
    opset: 11,
    inputs: [{ name: 'x', dims: [1, 2, 4, 4] }],
    outputs: ['y'],
    initializers: [
      w('W', [3, 2, 3, 3], 6),
      { name: 'zero', dims: [], data: [0], dtype: 'int64' },
      ints('minus1', [-1]),
    ],
    nodes: [
      { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'] },
      { op: 'Shape', inputs: ['c'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'zero'], outputs: ['n'], attrs: { axis: 0 } },
      { op: 'Unsqueeze', inputs: ['n'], outputs: ['n1'], attrs: { axes: [0] } },
      { op: 'Concat', inputs: ['n1', 'minus1'], outputs: ['shape'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['c', 'shape'], outputs: ['y'] },
    ],
  });
  assert.equal(
    g.nodes.map((n) => n.op),
    ['Transpose', 'Conv2D', 'Transpose', 'Reshape'],
  );
});

test('Concat of two convs on channels + Softmax opset 11 axis 1 (coerce to 2-D)', async () => {
  await check({
    opset: 11,
    inputs: [{ name: 'x', dims: [1, 3, 4, 5] }],
    outputs: ['y'],
    initializers: [w('W1', [2, 3, 1, 1], 7), w('W2', [3, 3, 3, 3], 8)],
    nodes: [
      { op: 'Conv', inputs: ['x', 'W1'], outputs: ['a'] },
      { op: 'Conv', inputs: ['x', 'W2'], outputs: ['b'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Concat', inputs: ['a', 'b'], outputs: ['c'], attrs: { axis: 1 } },
      { op: 'Softmax', inputs: ['c'], outputs: ['y'], attrs: { axis: 1 } },
    ],
  });
});

test('Pad (constant inputs) + Slice on channels + MaxPool ceil_mode on NHWC data', async () => {
  const g = await check({
    inputs: [{ name: 'x', dims: [1, 2, 7, 7] }],
    outputs: ['y'],
    initializers: [
      w('W', [4, 2, 3, 3], 9),
      ints('pads', [0, 0, 1, 2, 0, 0, 2, 1]),
      { name: 'v', dims: [], data: [0.5] },
      ints('st', [1]),
      ints('en', [-1]),
      ints('ax', [1]),
    ],
    nodes: [
      { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'] },
      { op: 'Pad', inputs: ['c', 'pads', 'v'], outputs: ['p'] },
      { op: 'Slice', inputs: ['p', 'st', 'en', 'ax'], outputs: ['s'] },
      { op: 'MaxPool', inputs: ['s'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 } },
    ],
  });
  assert.equal(transposes(g).length, 2, 'in and out only');
});

test('BatchNorm, Add [C,1,1], Mul with the NCHW input, Clip inputs, GAP, Squeeze input axes (opset 13)', async () => {
  await check({
    inputs: [{ name: 'x', dims: [1, 3, 4, 4] }],
    outputs: ['y'],
    initializers: [
      w('W', [3, 3, 3, 3], 10),
      w('s', [3], 11),
      w('b', [3], 12),
      w('m', [3], 13),
      { name: 'var', dims: [3], data: [0.5, 1.5, 2] },
      w('k', [3, 1, 1], 14),
      { name: 'lo', dims: [], data: [-0.25] },
      { name: 'hi', dims: [], data: [0.3] },
      ints('axes', [2, 3]),
    ],
    nodes: [
      { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'BatchNormalization', inputs: ['c', 's', 'b', 'm', 'var'], outputs: ['bn'], attrs: { epsilon: 1e-3 } },
      { op: 'Add', inputs: ['bn', 'k'], outputs: ['a'] },
      { op: 'Mul', inputs: ['x', 'a'], outputs: ['mu'] },
      { op: 'Clip', inputs: ['mu', 'lo', 'hi'], outputs: ['cl'] },
      { op: 'GlobalAveragePool', inputs: ['cl'], outputs: ['gap'] },
      { op: 'Squeeze', inputs: ['gap', 'axes'], outputs: ['y'] },
    ],
  });
});

test('opset 7 forms: Clip attrs, Squeeze attrs, AveragePool count_include_pad, LeakyRelu, depthwise conv', async () => {
  await check({
    opset: 7,
    inputs: [{ name: 'x', dims: [1, 4, 6, 6] }],
    outputs: ['y'],
    initializers: [w('W', [4, 1, 3, 3], 15), w('B', [4], 16)],
    nodes: [
      {
        op: 'Conv',
        inputs: ['x', 'W', 'B'],
        outputs: ['c'],
        attrs: { group: 4, dilations: [2, 2], pads: [2, 2, 2, 2] },
      },
      { op: 'LeakyRelu', inputs: ['c'], outputs: ['l'], attrs: { alpha: 0.2 } },
      { op: 'Clip', inputs: ['l'], outputs: ['cl'], attrs: { min: { float: -0.5 }, max: { float: 0.75 } } },
      {
        op: 'AveragePool',
        inputs: ['cl'],
        outputs: ['ap'],
        attrs: { kernel_shape: [6, 6], pads: [1, 1, 1, 1], strides: [2, 2], count_include_pad: 1 },
      },
      { op: 'Squeeze', inputs: ['ap'], outputs: ['y'], attrs: { axes: [0] } },
    ],
  });
});

test('MatMul with a 3-D activation and constant B; Gemm transA with row-varying C', async () => {
  await check({
    inputs: [
      { name: 'x', dims: [2, 3, 4] },
      { name: 'z', dims: [5, 2] },
    ],
    outputs: ['y', 'g'],
    initializers: [w('B', [4, 6], 17), w('G', [5, 3], 18), w('C', [2, 3], 19)],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'B'], outputs: ['y'] },
      { op: 'Gemm', inputs: ['z', 'G', 'C'], outputs: ['g'], attrs: { transA: 1, beta: 0.5 } },
    ],
  });
});

test('a graph input that is also an initializer is a constant; a symbolic batch dim becomes 1', async () => {
  const g = await check({
    inputs: [
      { name: 'x', dims: ['N', 4] },
      { name: 'G', dims: [3, 4] },
    ],
    outputs: ['y'],
    initializers: [w('G', [3, 4], 20)],
    nodes: [{ op: 'Gemm', inputs: ['x', 'G'], outputs: ['y'], attrs: { transB: 1 } }],
  });
  assert.equal(g.inputs, ['x']);
  assert.equal(g.tensors.get('x')!.shape, [1, 4]);
});

test('Conv1D + MaxPool1D via 2-D forms; HardSwish, HardSigmoid, Sum on NHWC data; ReduceMean over H,W', async () => {
  await check({
    opset: 14,
    inputs: [
      { name: 'a', dims: [1, 3, 12] },
      { name: 'x', dims: [1, 2, 5, 5] },
    ],
    outputs: ['y1', 'y2'],
    initializers: [w('W1', [4, 3, 3], 21), w('B1', [4], 22), w('W2', [3, 2, 3, 3], 23), w('k', [3, 1, 1], 24)],
    nodes: [
      { op: 'Conv', inputs: ['a', 'W1', 'B1'], outputs: ['c1'], attrs: { pads: [1, 0], strides: [2] } },
      { op: 'MaxPool', inputs: ['c1'], outputs: ['y1'], attrs: { kernel_shape: [2], strides: [2], ceil_mode: 1 } },
      { op: 'Conv', inputs: ['x', 'W2'], outputs: ['c2'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'HardSwish', inputs: ['c2'], outputs: ['h'] },
      { op: 'HardSigmoid', inputs: ['c2'], outputs: ['hs'], attrs: { alpha: { float: 0.3 }, beta: { float: 0.4 } } },
      { op: 'Sum', inputs: ['h', 'hs', 'k'], outputs: ['s'] },
      { op: 'ReduceMean', inputs: ['s'], outputs: ['y2'], attrs: { axes: [2, 3], keepdims: 0 } },
    ],
  });
});

test('NHWC model (tf2onnx style): Transpose in, Conv, Transpose out leaves no Transpose after compiling', async () => {
  const g = await check({
    inputs: [{ name: 'x', dims: [1, 5, 5, 2] }],
    outputs: ['y'],
    initializers: [w('W', [4, 2, 3, 3], 25), w('B', [4], 26)],
    nodes: [
      { op: 'Transpose', inputs: ['x'], outputs: ['xt'], attrs: { perm: [0, 3, 1, 2] } },
      { op: 'Conv', inputs: ['xt', 'W', 'B'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'Transpose', inputs: ['r'], outputs: ['y'], attrs: { perm: [0, 2, 3, 1] } },
    ],
  });
  assert.equal(
    compileGraph(g)
      .graph.nodes.filter((n) => n.op === 'Transpose')
      .map((n) => n.attrs.perm),
    [],
  );
});

function importError(spec: ModelSpec, opts: OnnxImportOptions = {}): ModelError {
  try {
    parseOnnx(encodeModel(spec), 'bad.onnx', opts);
  } catch (e) {
    assert.instance(e, ModelError);
    return e as ModelError;
  }
  throw new Error('expected a ModelError');
}

test('unsupported ops: one message with every op type, its count and first node names', () => {
  const e = importError({
    inputs: [{ name: 'x', dims: [1, 4] }],
    outputs: ['y'],
    nodes: [
      { op: 'Erf', inputs: ['x'], outputs: ['a'], name: 'erf_a' },
      { op: 'Relu', inputs: ['a'], outputs: ['b'] },
      { op: 'Erf', inputs: ['b'], outputs: ['c'], name: 'erf_b' },
      { op: 'Hardmax', inputs: ['c'], outputs: ['y'], name: 'hm' },
    ],
  });
  assert.match(e.message, /bad\.onnx/);
  assert.match(e.message, /2 unsupported op type/);
  assert.match(e.message, /Erf ×2 \('erf_a', 'erf_b'\)/);
  assert.match(e.message, /Hardmax ×1 \('hm'\)/);
});

test('dynamic non-batch dims: message names the input and the --shape fix; opts.shapes makes it static', async () => {
  const spec: ModelSpec = {
    inputs: [{ name: 'img', dims: [1, 3, 'H', 'W'] }],
    outputs: ['y'],
    nodes: [{ op: 'Relu', inputs: ['img'], outputs: ['y'] }],
  };
  const e = importError(spec);
  assert.match(e.message, /input 'img'/);
  assert.match(e.message, /--shape img=1x3x1x1/);
  const g = parseOnnx(encodeModel(spec), 'ok.onnx', { shapes: { img: [1, 3, 8, 8] } });
  assert.equal(g.tensors.get('img')!.shape, [1, 3, 8, 8]);
  assert.match(importError(spec, { shapes: { img: [2, 3, 8, 8] } }).message, /dim 0 is 1 in the model, found 2/);
});

test('computed conv weights, int64 inputs and bad bytes are refused with the field named', () => {
  const e1 = importError({
    inputs: [
      { name: 'x', dims: [1, 1, 4, 4] },
      { name: 'W', dims: [1, 1, 3, 3] },
    ],
    outputs: ['y'],
    nodes: [{ op: 'Conv', inputs: ['x', 'W'], outputs: ['y'], name: 'conv1' }],
  });
  assert.match(e1.message, /node 'conv1' \(Conv\): inputs\[1\]: expected weights W as a constant/);
  const e2 = importError({ inputs: [{ name: 'ids', dims: [1, 4], elemType: 7 }], outputs: ['ids'], nodes: [] });
  assert.match(e2.message, /input 'ids': dtype: expected float32 data, found int64/);
  for (const bytes of [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), new TextEncoder().encode('hello, not onnx')]) {
    try {
      parseOnnx(bytes, 'junk.onnx');
      assert.unreachable('decoded junk');
    } catch (e) {
      assert.instance(e, ModelError);
      assert.match((e as Error).message, /^junk\.onnx: file: expected an ONNX model/);
    }
  }
});

test.run();
