// compiler/lower/int8.ts: the c8 packing layout by a hand-written example, the steps and tensors an int8
// graph lowers to (qc constants, im2col scratch only where needed, scale/zero point on the bundle's
// tensors), bundle size vs float, and the ModelErrors for graphs the kernels cannot run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lower } from '../../../compiler/lower/index.ts';
import { packQs8Gemm4x8c2, packQs8Depthwise } from '../../../compiler/kernels/pack.ts';
import { VARIANTS } from '../../../compiler/kernels/registry.ts';
import { compileGraph } from '../../../compiler/compile.ts';
import { fb } from '../../../compiler/emit/bundle-writer.ts';
import * as flatbuffers from 'flatbuffers';
import type { Attrs, Graph, QuantParams } from '../../../compiler/ir/graph.ts';
import { inferNode } from '../../../compiler/ir/ops/index.ts';

test('packQs8Gemm4x8c2: N 9, K 3 → 8-column block [2][8][2] then a 1-column block [2][1][2]; zeros past K only', () => {
  const N = 9,
    K = 3;
  const w = Int8Array.from({ length: N * K }, (_, i) => Math.floor(i / K) * 10 + (i % K)); // w[n,k] = 10n + k
  const z = (n: number) => new Array<number>(n).fill(0);
  const want = [
    0,
    1,
    10,
    11,
    20,
    21,
    30,
    31,
    40,
    41,
    50,
    51,
    60,
    61,
    70,
    71, // cols 0..7, k 0,1
    2,
    0,
    12,
    0,
    22,
    0,
    32,
    0,
    42,
    0,
    52,
    0,
    62,
    0,
    72,
    0, //       cols 0..7, k 2 (+ K padding)
    80,
    81,
    82,
    0, //                                                col 8 alone, k 0,1 and k 2
  ];
  assert.is(z(0).length, 0);
  assert.equal(Array.from(packQs8Gemm4x8c2(w, N, K)), want);
  assert.equal(Array.from(packQs8Depthwise(Int8Array.from([1, 2, 3, 4, 5, 6]), 3, 1, 2)), [1, 3, 5, 2, 4, 6]);
  assert.ok(
    VARIANTS.filter((v) => v.name.startsWith('qs8-') && (v.dir === 'gemm' || v.dir === 'conv')).every(
      (v) => typeof v.pack === 'function',
    ),
  );
});

const q = (s: number, zp: number): QuantParams => ({ scale: [s], zeroPoint: [zp] });
function convGraph(co: number, ci: number, k: number, attrs: Attrs, wq?: QuantParams, outQ = q(0.1, 4)): Graph {
  const g: Graph = { name: 'c', source: 'c.json', tensors: new Map(), nodes: [], inputs: ['x'], outputs: ['y'] };
  g.tensors.set('x', { name: 'x', dtype: 'int8', shape: [1, 8, 8, ci], quant: q(0.05, -10) });
  g.tensors.set('w', {
    name: 'w',
    dtype: 'int8',
    shape: [co, k, k, ci],
    data: Int8Array.from({ length: co * k * k * ci }, (_, i) => ((i * 37) % 255) - 127),
    quant: wq ?? { scale: new Array(co).fill(0.01), zeroPoint: new Array(co).fill(0), axis: 0 },
  });
  g.tensors.set('b', { name: 'b', dtype: 'int32', shape: [co], data: new Int32Array(co).fill(100) });
  const pad = attrs.padding === 'same' ? Math.floor(k / 2) : 0;
  g.tensors.set('y', {
    name: 'y',
    dtype: 'int8',
    shape: [1, 8 + 2 * pad - k + 1, 8 + 2 * pad - k + 1, co],
    quant: outQ,
  });
  g.nodes.push({ name: 'conv', op: 'Conv2D', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs });
  return g;
}

test('Conv2D int8 lowers to Conv2D_QS8 with packed weights, qc [3,Co] and an im2col scratch only when needed', () => {
  const l3 = lower(convGraph(6, 5, 3, { padding: 'same' }));
  const s3 = l3.steps[0]!;
  assert.is(s3.kernel, fb.KernelId.Conv2D_QS8);
  assert.is(s3.inputs.length, 4);
  const [, w, qc, scratch] = s3.inputs.map((i) => l3.tensors[i]!);
  assert.equal(w!.shape, [1, 6, 46]); // K = 45 → 46 (pairs)
  assert.is(w!.dtype, fb.DType.I8);
  assert.equal(qc!.shape, [3, 6]);
  const qcv = new Int32Array(qc!.data!.buffer.slice(qc!.data!.byteOffset, qc!.data!.byteOffset + qc!.data!.byteLength));
  // bias − zp_in·Σw for channel 0 (zp_in −10)
  const wd = Int8Array.from({ length: 45 }, (_, i) => ((i * 37) % 255) - 127);
  assert.is(qcv[0], 100 + 10 * wd.reduce((a, b) => a + b, 0));
  assert.equal(
    Array.from(qcv.subarray(6, 12)),
    new Array(6).fill(quantMult((Math.fround(0.05) * Math.fround(0.01)) / Math.fround(0.1))),
  );
  assert.equal(scratch!.shape, [64, 48]);
  assert.is(scratch!.data, undefined);
  assert.is(s3.macs, 64 * 6 * 45);
  const l1 = lower(convGraph(6, 5, 1, {}));
  assert.is(l1.steps[0]!.inputs.length, 3);
  // scale and zero point reach the bundle's activation tensors
  const x = l1.tensors[l1.inputs[0]!]!;
  assert.is(x.zeroPoint, -10);
  assert.is(x.scale, Math.fround(0.05));
});

test('1xk / kx1 int8 convs (groups 1, dilation 1 along k) lower to Conv1xK_QS8 / ConvKx1_QS8 with R padded lines of scratch; others keep im2col', () => {
  const line = (h: number, w: number, ci: number, co: number, kh: number, kw: number, attrs: Attrs) => {
    const g: Graph = { name: 'l', source: 'l.json', tensors: new Map(), nodes: [], inputs: ['x'], outputs: ['y'] };
    const cig = ci / Number(attrs.groups ?? 1);
    g.tensors.set('x', { name: 'x', dtype: 'int8', shape: [1, h, w, ci], quant: q(0.05, -10) });
    g.tensors.set('w', {
      name: 'w',
      dtype: 'int8',
      shape: [co, kh, kw, cig],
      data: new Int8Array(co * kh * kw * cig).fill(3),
      quant: { scale: new Array(co).fill(0.01), zeroPoint: new Array(co).fill(0), axis: 0 },
    });
    g.tensors.set('y', { name: 'y', dtype: 'int8', shape: [], quant: q(0.1, 4) });
    g.nodes.push({ name: 'conv', op: 'Conv2D', inputs: ['x', 'w'], outputs: ['y'], attrs });
    g.tensors.get('y')!.shape = inferNode(g, g.nodes[0]!)[0]!.shape;
    const l = lower(g),
      s = l.steps[0]!;
    return {
      kernel: s.kernel,
      scratch: s.inputs.length > 3 ? l.tensors[s.inputs[3]!]!.shape : undefined,
      w: l.tensors[s.inputs[1]!]!.shape,
    };
  };
  // OW 8 (a multiple of 4): one padded row of L = (8 − 1)·1 + 7 pixels
  assert.equal(line(8, 8, 5, 6, 1, 7, { padding: 'same' }), {
    kernel: fb.KernelId.Conv1xK_QS8,
    scratch: [14, 5],
    w: [1, 6, 36],
  });
  // OW 9: 4 rows (their last pixels run as one 4-row tile), L = 15
  assert.equal(line(8, 9, 5, 6, 1, 7, { padding: 'same' }).scratch, [60, 5]);
  // unpadded 1×k reads x directly; k×1 always copies its columns (OH 2: 4 columns of L = 8)
  assert.equal(line(8, 9, 5, 6, 1, 7, {}), { kernel: fb.KernelId.Conv1xK_QS8, scratch: undefined, w: [1, 6, 36] });
  assert.equal(line(8, 8, 5, 6, 7, 1, {}), { kernel: fb.KernelId.ConvKx1_QS8, scratch: [32, 5], w: [1, 6, 36] });
  assert.equal(line(9, 3, 5, 6, 7, 1, { padding: 'same', strides: [2, 1] }).scratch, [3 * 15, 5]); // OH 5, OW 3 → R 3, L 4·2 + 7
  // dilation along the short (1-tap) axis changes nothing; along k, groups > 1 and 1×1 keep im2col / the direct GEMM
  assert.is(line(8, 8, 5, 6, 1, 3, { dilations: [3, 1] }).kernel, fb.KernelId.Conv1xK_QS8);
  assert.is(line(8, 8, 5, 6, 1, 3, { dilations: [1, 2] }).kernel, fb.KernelId.Conv2D_QS8);
  assert.is(line(8, 8, 4, 6, 3, 1, { groups: 2 }).kernel, fb.KernelId.Conv2D_QS8);
  assert.is(line(8, 8, 4, 6, 1, 1, {}).kernel, fb.KernelId.Conv2D_QS8);
  assert.ok(
    VARIANTS.some(
      (v) => v.name === 'qs8-conv2d-1xk' && v.serves.includes('Conv1xK_QS8') && v.serves.includes('ConvKx1_QS8'),
    ),
  );
});

function quantMult(r: number): number {
  let s = 0;
  while (r * 2 ** s < 2 ** 30) s++;
  return Math.round(r * 2 ** s);
}

test('int8 bundle is under 0.3x the float bundle (weights int8, constants per channel); Winograd adds 23 B per weight pair', () => {
  const gi = convGraph(64, 64, 3, { padding: 'same' });
  const gf: Graph = {
    ...gi,
    tensors: new Map(
      [...gi.tensors].map(([k, t]) => [
        k,
        { ...t, dtype: 'float32', quant: undefined, data: t.data ? Float32Array.from(t.data as Int8Array) : undefined },
      ]),
    ),
  };
  // the direct conv's int8 weights; Winograd's (the default for this 3×3 stride-1 conv on the simd builds) are i16
  // U' over 16 positions: 32 bytes per (co, ci) against 9, the price of its 16 / 36 multiplies
  const si = compileGraph(gi, { skipPasses: true, target: 'scalar' }).bundle.length,
    sw = compileGraph(gi, { skipPasses: true }).bundle.length,
    sf = compileGraph(gf, { skipPasses: true }).bundle.length;
  assert.ok(si <= 0.3 * sf, `int8 ${si} bytes vs float ${sf}`);
  assert.ok(Math.abs(sw - si - (32 - 9) * 64 * 64) < 1024, `Winograd ${sw} bytes vs direct ${si}`);
});

test('ModelErrors: asymmetric weights, missing quant, pooling that changes quant, int32 overflow', () => {
  assert.throws(() => lower(convGraph(2, 3, 3, {}, { scale: [0.1, 0.1], zeroPoint: [1, 0], axis: 0 })), /symmetric/);
  const g = convGraph(2, 3, 3, {});
  g.tensors.get('y')!.quant = undefined;
  assert.throws(() => lower(g), /c\.json: node 'conv' \(Conv2D\): int8 tensor 'y' has no quant params/);
  const p: Graph = { name: 'p', source: 'p.json', tensors: new Map(), nodes: [], inputs: ['x'], outputs: ['y'] };
  p.tensors.set('x', { name: 'x', dtype: 'int8', shape: [1, 4, 4, 2], quant: q(0.1, 0) });
  p.tensors.set('y', { name: 'y', dtype: 'int8', shape: [1, 2, 2, 2], quant: q(0.2, 0) });
  p.nodes.push({
    name: 'pool',
    op: 'MaxPool',
    inputs: ['x'],
    outputs: ['y'],
    attrs: { kernel: [2, 2], strides: [2, 2] },
  });
  assert.throws(() => lower(p), /Requantize/);
  const big = convGraph(1, 3, 3, {});
  (big.tensors.get('b')!.data as Int32Array)[0] = 2 ** 31 - 10;
  assert.throws(() => lower(big), /overflow/);
  // imported weights may hold −128: all 9 taps at −128 with zp_in 127 and x = −128 reach bias' + 9·128·128, which
  // overflows here although the old bound (9·128·127) let it pass
  const m128 = convGraph(1, 1, 3, {});
  m128.tensors.get('x')!.quant = q(0.05, 127);
  (m128.tensors.get('w')!.data as Int8Array).fill(-128);
  (m128.tensors.get('b')!.data as Int32Array)[0] = 2 ** 31 - 32556 * 9;
  assert.throws(() => lower(m128), /channel 0: bias \d+ with 9 taps can overflow/);
  (m128.tensors.get('b')!.data as Int32Array)[0] = 2 ** 31 - 32640 * 9 - 1;
  assert.not.throws(() => lower(m128));
  const huge = convGraph(1, 3, 3, {}, undefined, q(1e-13, 0));
  assert.throws(() => lower(huge), /too large/);
});

test('the bundle stores scale and zero point of int8 tensors', () => {
  const { bundle } = compileGraph(convGraph(2, 3, 1, {}), { skipPasses: true });
  const b = fb.Bundle.getRootAsBundle(new flatbuffers.ByteBuffer(bundle));
  const names = new Map<string, fb.Tensor>();
  for (let i = 0; i < b.tensorsLength(); i++) names.set(b.tensors(i)!.name()!, b.tensors(i)!);
  assert.is(names.get('y')!.zeroPoint(), 4);
  assert.is(names.get('y')!.scale(), Math.fround(0.1));
  assert.is(names.get('x')!.zeroPoint(), -10);
});

test.run();
