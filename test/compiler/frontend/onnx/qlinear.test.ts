// QOperator int8 ops (QLinearConv, QLinearMatMul, com.microsoft QLinearAdd / QGemm) imported as
// float ops between exact dequantised weights and a range Clip, with every scale / zero point
// recorded. Inputs lie on the quantisation grid, so the only difference from onnxruntime's integer
// result is its final rounding: asserted ≤ one output step (scale) per element, on the IR reference
// and on both runtime builds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ort, ortSession } from '../../../ort-oracle.ts';
import { parseOnnx } from '../../../../compiler/frontend/onnx/index.ts';
import { evaluate } from '../../../../compiler/ir/reference.ts';
import { compileGraph } from '../../../../compiler/compile.ts';
import { load } from '../../../../runtime/node.ts';
import { numElements } from '../../../../compiler/ir/graph.ts';
import { encodeModel, seeded } from './build-model.ts';
import type { InitSpec, ModelSpec } from './build-model.ts';

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

/** Input values on the grid of (scale, zp): exact under QuantizeLinear. */
function gridInput(n: number, seed: number, scale: number, zp: number): Float32Array {
  return Float32Array.from(seeded(seed, n), (r) =>
    Math.fround((Math.round(((r + 1) / 2) * 255) - zp) * Math.fround(scale)),
  );
}

// Weights stay in [−63, 63]: onnxruntime's u8×s8 kernels on CPUs without VNNI sum u8·s8 pairs in
// saturating int16 (255·127·2 > 32767), the caveat its reduce_range option exists for.
const SPEC: ModelSpec = {
  domains: { 'com.microsoft': 1 },
  inputs: [
    { name: 'x', dims: [1, 2, 6, 6] },
    { name: 'v', dims: [2, 5] },
  ],
  outputs: ['conv', 'mm', 'add', 'gemm'],
  initializers: [
    f32('xs', 0.02),
    u8('xzp', 128),
    f32('vs', 0.03),
    u8('vzp', 100),
    ints('w', [3, 2, 3, 3], 1, -63, 63, 'int8'),
    { name: 'ws', dims: [3], data: [0.011, 0.007, 0.013] },
    { name: 'wzp', dims: [3], data: [0, 0, 0], dtype: 'int8' },
    ints('b', [3], 2, -500, 500, 'int32'),
    f32('ys', 0.05),
    u8('yzp', 10),
    ints('m', [5, 4], 3, 0, 255, 'uint8'),
    f32('ms', 0.004),
    u8('mzp', 120),
    f32('mos', 0.01),
    u8('mozp', 128),
    f32('as', 0.08),
    u8('azp', 3),
    ints('g', [4, 5], 4, -63, 63, 'int8'),
    { name: 'gs', dims: [4], data: [0.01, 0.02, 0.005, 0.015] },
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
    { op: 'DequantizeLinear', inputs: ['cq', 'ys', 'yzp'], outputs: ['conv'] },
    {
      op: 'QLinearAdd',
      domain: 'com.microsoft',
      inputs: ['cq', 'ys', 'yzp', 'cq', 'ys', 'yzp', 'as', 'azp'],
      outputs: ['aq'],
    },
    { op: 'DequantizeLinear', inputs: ['aq', 'as', 'azp'], outputs: ['add'] },
    { op: 'QuantizeLinear', inputs: ['v', 'vs', 'vzp'], outputs: ['vq'] },
    { op: 'QLinearMatMul', inputs: ['vq', 'vs', 'vzp', 'm', 'ms', 'mzp', 'mos', 'mozp'], outputs: ['mq'] },
    { op: 'DequantizeLinear', inputs: ['mq', 'mos', 'mozp'], outputs: ['mm'] },
    {
      op: 'QGemm',
      domain: 'com.microsoft',
      inputs: ['vq', 'vs', 'vzp', 'g', 'gs', 'gzp', 'gc', 'gos', 'gozp'],
      outputs: ['gq'],
      attrs: { transB: 1 },
    },
    { op: 'DequantizeLinear', inputs: ['gq', 'gos', 'gozp'], outputs: ['gemm'] },
  ],
};
const STEP: Record<string, number> = { conv: 0.05, add: 0.08, mm: 0.01, gemm: 0.02 };

test('QLinearConv / QLinearMatMul / QLinearAdd / QGemm = onnxruntime within one output step', async () => {
  const bytes = encodeModel(SPEC);
  const g = parseOnnx(bytes, 'qlinear.onnx');
  const feeds = { x: gridInput(72, 10, 0.02, 128), v: gridInput(10, 11, 0.03, 100) };
  const session = await ortSession(bytes);
  const want = await session.run({
    x: new ort.Tensor('float32', feeds.x, [1, 2, 6, 6]),
    v: new ort.Tensor('float32', feeds.v, [2, 5]),
  });
  const runs: [string, Record<string, ArrayLike<number>>][] = [['reference', evaluate(g, feeds)]];
  for (const build of ['simd', 'scalar'] as const) {
    runs.push([build, (await load(compileGraph(g, { target: build }).bundle, { build })).run(feeds)]);
  }
  for (const [who, got] of runs) {
    for (const o of SPEC.outputs) {
      const w = want[o].data as Float32Array;
      assert.is(got[o].length, w.length, `${who} ${o}: size`);
      for (let i = 0; i < w.length; i++) {
        assert.ok(Math.abs(got[o][i] - w[i]) <= STEP[o] * 1.0001, `${who} ${o}[${i}]: ${got[o][i]} vs ${w[i]}`);
      }
    }
  }
  await session.release();
});

test('QLinear* weights, bias and outputs keep the exact scales and zero points', () => {
  const g = parseOnnx(encodeModel(SPEC), 'qlinear.onnx');
  const conv = g.nodes.find((n) => n.op === 'Conv2D')!;
  const w = g.tensors.get(conv.inputs[1])!;
  assert.equal(w.quant, { scale: [0.011, 0.007, 0.013].map(Math.fround), zeroPoint: [0, 0, 0], axis: 0 });
  const b = g.tensors.get(conv.inputs[2])!;
  assert.equal(
    b.quant!.scale,
    [0.011, 0.007, 0.013].map((s) => Math.fround(0.02) * Math.fround(s)),
  );
  const clip = g.nodes.find((n) => n.op === 'Clip' && n.inputs[0] === conv.outputs[0])!;
  assert.equal(g.tensors.get(clip.outputs[0])!.quant, { scale: [Math.fround(0.05)], zeroPoint: [10] });
  const dense = g.nodes.filter((n) => n.op === 'Dense');
  assert.equal(
    g.tensors.get(dense[0].inputs[1])!.quant,
    { scale: [Math.fround(0.004)], zeroPoint: [120] },
    'QLinearMatMul b',
  );
  assert.equal(g.tensors.get(dense[1].inputs[1])!.quant!.axis, 0, 'QGemm B [N,K] per row');
});

test.run();
