// QOperator models (QLinearConv, QLinearMatMul, com.microsoft QLinearAdd / QGemm, uint8 activations)
// through --quantize int8 with their own scales: the int8 graph (integer reference and both wasm
// builds) is within one output step of onnxruntime's integer result on every element.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ort, ortSession } from '../../ort-oracle.ts';
import { parseOnnx } from '../../../compiler/frontend/onnx/index.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { compileGraph } from '../../../compiler/compile.ts';
import { load } from '../../../runtime/node.ts';
import { numElements } from '../../../compiler/ir/graph.ts';
import { quantize } from '../../../compiler/quantize/index.ts';
import { encodeModel, seeded } from '../frontend/onnx/build-model.ts';
import type { InitSpec, ModelSpec } from '../frontend/onnx/build-model.ts';

const f32 = (name: string, v: number): InitSpec => ({ name, dims: [], data: [v] });
const u8 = (name: string, v: number): InitSpec => ({ name, dims: [], data: [v], dtype: 'uint8' });
const ints = (
  name: string,
  dims: number[],
  seed: number,
  lo: number,
  hi: number,
  dtype: InitSpec['dtype'],
): InitSpec => ({
  name,
  dims,
  dtype,
  data: Array.from(seeded(seed, numElements(dims)), (r) => Math.round(lo + ((r + 1) / 2) * (hi - lo))),
});

// x (u8, zp 128) → QLinearConv (per-channel s8 weights, int32 bias) → QLinearAdd with itself → QGemm
// (flattened, per-row s8 weights) → DequantizeLinear; weights in [−63, 63] (see the importer's test).
const SPEC: ModelSpec = {
  domains: { 'com.microsoft': 1 },
  inputs: [{ name: 'x', dims: [1, 2, 6, 6] }],
  outputs: ['add', 'gemm'],
  initializers: [
    f32('xs', 0.02),
    u8('xzp', 128),
    ints('w', [3, 2, 3, 3], 1, -63, 63, 'int8'),
    { name: 'ws', dims: [3], data: [0.011, 0.007, 0.013] },
    { name: 'wzp', dims: [3], data: [0, 0, 0], dtype: 'int8' },
    ints('b', [3], 2, -500, 500, 'int32'),
    f32('ys', 0.05),
    u8('yzp', 10),
    f32('as', 0.08),
    u8('azp', 3),
    { name: 'shape', dims: [2], data: [1, 108], dtype: 'int64' },
    ints('g', [4, 108], 4, -63, 63, 'int8'),
    { name: 'gs', dims: [4], data: [0.001, 0.002, 0.0015, 0.0012] },
    { name: 'gzp', dims: [4], data: [0, 0, 0, 0], dtype: 'int8' },
    ints('gc', [4], 5, -300, 300, 'int32'),
    f32('gos', 0.02),
    u8('gozp', 128),
  ],
  nodes: [
    { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xzp'], outputs: ['xq'] },
    {
      op: 'QLinearConv',
      inputs: ['xq', 'xs', 'xzp', 'w', 'ws', 'wzp', 'ys', 'yzp', 'b'],
      outputs: ['cq'],
      attrs: { pads: [1, 1, 1, 1] },
    },
    {
      op: 'QLinearAdd',
      domain: 'com.microsoft',
      inputs: ['cq', 'ys', 'yzp', 'cq', 'ys', 'yzp', 'as', 'azp'],
      outputs: ['aq'],
    },
    { op: 'DequantizeLinear', inputs: ['aq', 'as', 'azp'], outputs: ['add'] },
    { op: 'Reshape', inputs: ['aq', 'shape'], outputs: ['fq'] },
    {
      op: 'QGemm',
      domain: 'com.microsoft',
      inputs: ['fq', 'as', 'azp', 'g', 'gs', 'gzp', 'gc', 'gos', 'gozp'],
      outputs: ['gq'],
      attrs: { transB: 1 },
    },
    { op: 'DequantizeLinear', inputs: ['gq', 'gos', 'gozp'], outputs: ['gemm'] },
  ],
};
const STEP: Record<string, number> = { add: 0.08, gemm: 0.02 };

test("QLinearConv → QLinearAdd → QGemm: int8 IR with the model's params = onnxruntime within one step", async () => {
  const bytes = encodeModel(SPEC);
  const g = parseOnnx(bytes, 'qlinear.onnx');
  const x = Float32Array.from(seeded(10, 72), (r) =>
    Math.fround((Math.round(((r + 1) / 2) * 255) - 128) * Math.fround(0.02)),
  );
  const session = await ortSession(bytes);
  const want = await session.run({ x: new ort.Tensor('float32', x, [1, 2, 6, 6]) });
  const { graph: q, report } = await quantize(g);
  assert.equal(report.floatNodes, []);
  assert.ok(
    q.nodes.some((n) => n.op === 'Conv2D') &&
      q.nodes.some((n) => n.op === 'Add') &&
      q.nodes.some((n) => n.op === 'Dense'),
  );
  const runs: [string, Record<string, ArrayLike<number>>][] = [['reference', evaluate(q, { x })]];
  for (const build of ['simd', 'scalar'] as const) {
    runs.push([build, (await load(compileGraph(q, { skipPasses: true, target: build }).bundle, { build })).run({ x })]);
  }
  for (const [who, got] of runs) {
    for (const o of SPEC.outputs) {
      const w = want[o]!.data as Float32Array;
      assert.is(got[o]!.length, w.length, `${who} ${o}: size`);
      for (let i = 0; i < w.length; i++)
        assert.ok(Math.abs(got[o]![i]! - w[i]!) <= STEP[o]! * 1.0001, `${who} ${o}[${i}]: ${got[o]![i]} vs ${w[i]}`);
    }
  }
});

test('asymmetric uint8 QGemm weights (zero points ≠ 0) keep that layer float; still within one step', async () => {
  const spec: ModelSpec = {
    ...SPEC,
    // q − zp within ±60 (onnxruntime's u8 kernels saturate int16 pair sums beyond, see above)
    initializers: SPEC.initializers!.map((i) =>
      i.name === 'g'
        ? ints('g', [4, 108], 4, 70, 170, 'uint8')
        : i.name === 'gzp'
          ? { name: 'gzp', dims: [4], data: [110, 120, 125, 130], dtype: 'uint8' }
          : i,
    ),
  };
  const bytes = encodeModel(spec);
  const g = parseOnnx(bytes, 'qlinear-u8w.onnx');
  const x = Float32Array.from(seeded(12, 72), (r) =>
    Math.fround((Math.round(((r + 1) / 2) * 255) - 128) * Math.fround(0.02)),
  );
  const session = await ortSession(bytes);
  const want = (await session.run({ x: new ort.Tensor('float32', x, [1, 2, 6, 6]) })).gemm!.data as Float32Array;
  const { graph: q, report } = await quantize(g);
  assert.is(report.floatNodes.length, 1);
  assert.is(q.nodes.find((n) => n.name === report.floatNodes[0])!.op, 'Dense');
  assert.ok(q.nodes.some((n) => n.op === 'Conv2D' && q.tensors.get(n.outputs[0]!)!.dtype === 'int8'));
  const got = evaluate(q, { x }).gemm!;
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i]! - want[i]!) <= STEP.gemm! * 1.0001, `gemm[${i}]: ${got[i]} vs ${want[i]}`);
});

test.run();
