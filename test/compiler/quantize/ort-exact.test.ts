// Pre-quantised ONNX models run onnxruntime's int8 arithmetic (Graph.int8Arithmetic 'onnxruntime': Conv / Dense /
// depthwise requantised in float32, Quantize rounding half to even, Add as its QLinearAdd; docs/quantization.md), so
// edgec's output is onnxruntime's (onnxruntime-web, the tests' oracle), byte for byte, on the fixtures' real inputs, on
// inputs spread over their range and on inputs whose quantisation is an exact tie; QDQ Adds of int8 and uint8 models
// over every pair of input codes; `arithmetic: 'edgec'` keeps the fixed point (and differs there).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { loadOnnx, parseOnnx } from '../../../compiler/frontend/onnx/index.ts';
import { compileQuantized } from '../../../compiler/quantize/index.ts';
import { summarizeBundle } from '../../../compiler/cli/inspect.ts';
import { loadNpy } from '../../../compiler/io/npy.ts';
import { load } from '../../../runtime/node.ts';
import { ort, ortSession } from '../../ort-oracle.ts';
import { encodeModel, type ModelSpec } from '../frontend/onnx/build-model.ts';
import type { Graph } from '../../../compiler/ir/graph.ts';

const FIX = join(import.meta.dirname, '../../fixtures');
const CASES = [
  { model: 'onnx/cnn_small_qdq_u8s8.onnx', input: 'onnx/cnn_small.input.npy' },
  { model: 'quantize/cnn_small_qdq_s8s8.onnx', input: 'onnx/cnn_small.input.npy' },
  { model: 'quantize/mlp_qdq_s8s8.onnx', input: 'onnx/mlp.input.npy' },
];

/** The fixture's input, then 7 more: each value scaled and shifted by a fixed LCG's draws (same range, new roundings),
 *  then 2 whose every value is an exact tie of the input's QuantizeLinear: f32(x / s) = j + 0.5, j in [−140, 140). */
function inputs(x: Float32Array, s: number): Float32Array[] {
  let r = 12345;
  const u = () => ((r = (Math.imul(r, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const out = [x];
  for (let k = 1; k < 8; k++) out.push(Float32Array.from(x, (v) => v * (1 + 0.3 * u()) + 0.2 * u()));
  const f = Math.fround;
  for (let k = 0; k < 2; k++) {
    const t = new Float32Array(x.length);
    for (let i = 0; i < t.length; i++) {
      // the first j from a draw whose product divides back to the tie exactly (most do)
      for (let j = Math.floor(140 * u()); ; j = j >= 139 ? -140 : j + 1) {
        t[i] = f((j + 0.5) * s);
        if (f(t[i]! / s) === j + 0.5) break;
      }
    }
    out.push(t);
  }
  return out;
}

/** The scale of the QuantizeLinear that reads the graph input (the importer's Clip carrying its params). */
function inputScale(g: Graph): number {
  const n = g.nodes.find((n) => n.inputs[0] === g.inputs[0] && g.tensors.get(n.outputs[0]!)?.quant);
  return Math.fround(g.tensors.get(n!.outputs[0]!)!.quant!.scale[0]!);
}

async function ortRun(s: Awaited<ReturnType<typeof ortSession>>, x: Float32Array, shape: number[]) {
  const r = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x, shape) });
  return r[s.outputNames[0]!]!.data as Float32Array;
}

for (const c of CASES) {
  test(`${c.model}: edgec int8 = onnxruntime's output bytes on 8 inputs, simd and scalar builds`, async () => {
    const file = join(FIX, c.model);
    const g = loadOnnx(file);
    const { bundle } = await compileQuantized(g, {});
    const kernels = summarizeBundle(bundle).rows.map((r) => r.kernel);
    assert.ok(
      kernels.some((k) => /^(Conv2D|Dense|DepthwiseConv2D)_QS8_FP32$/.test(k)),
      kernels.join(' '),
    );
    assert.ok(kernels.includes('Quantize_QS8_RNE') && !kernels.includes('Quantize_QS8'), kernels.join(' '));
    const x0 = loadNpy(join(FIX, c.input));
    const s = await ortSession(file);
    const builds = await Promise.all((['simd', 'scalar'] as const).map((build) => load(bundle, { build })));
    for (const [i, x] of inputs(x0.data as Float32Array, inputScale(g)).entries()) {
      const want = await ortRun(s, x, x0.shape);
      for (const [b, m] of builds.entries()) {
        const got = m.run({ [g.inputs[0]!]: x })[g.outputs[0]!] as Float32Array;
        assert.equal(Array.from(got), Array.from(want), `input ${i}, ${b ? 'scalar' : 'simd'}`);
      }
    }
  });
}

/** DQ(Q(a)) + DQ(Q(b)) (or −) → Q → DQ over [1, 65536]: a and b take every pair of codes, as their quantised reals. */
function addModel(sA: number, zA: number, sB: number, zB: number, sC: number, zC: number, uint8: boolean, op = 'Add') {
  const dtype = uint8 ? ('uint8' as const) : ('int8' as const);
  const N = 65536;
  const spec: ModelSpec = {
    inputs: [
      { name: 'a', dims: [1, N] },
      { name: 'b', dims: [1, N] },
    ],
    outputs: ['y'],
    initializers: [
      { name: 'sa', dims: [], data: [sA] },
      { name: 'za', dims: [], data: [zA], dtype },
      { name: 'sb', dims: [], data: [sB] },
      { name: 'zb', dims: [], data: [zB], dtype },
      { name: 'sc', dims: [], data: [sC] },
      { name: 'zc', dims: [], data: [zC], dtype },
    ],
    nodes: [
      { op: 'QuantizeLinear', inputs: ['a', 'sa', 'za'], outputs: ['aq'] },
      { op: 'DequantizeLinear', inputs: ['aq', 'sa', 'za'], outputs: ['af'] },
      { op: 'QuantizeLinear', inputs: ['b', 'sb', 'zb'], outputs: ['bq'] },
      { op: 'DequantizeLinear', inputs: ['bq', 'sb', 'zb'], outputs: ['bf'] },
      { op, inputs: ['af', 'bf'], outputs: ['cf'] },
      { op: 'QuantizeLinear', inputs: ['cf', 'sc', 'zc'], outputs: ['cq'] },
      { op: 'DequantizeLinear', inputs: ['cq', 'sc', 'zc'], outputs: ['y'] },
    ],
  };
  const lo = uint8 ? 0 : -128;
  const f = Math.fround;
  const a = Float32Array.from({ length: N }, (_, i) => f(((i & 255) + lo - zA) * f(sA)));
  const b = Float32Array.from({ length: N }, (_, i) => f(((i >> 8) + lo - zB) * f(sB)));
  return { bytes: encodeModel(spec), a, b };
}

// scales whose ratios put QLinearAdd's f32(v + zp) on exact ties (0.1 + 0.1 → 0.2; odd zero points make ties to even
// differ from edgec's half up), then others; as int8 and as uint8 models (onnxruntime turns int8 QDQ pairs into uint8
// ones, so both round at v + the uint8 zero point, where f32 keeps fewer fraction bits than at v + the int8 one)
const ADDS: [number, number, number, number, number, number][] = [
  [0.1, 1, 0.1, 1, 0.2, 1],
  [0.02, 5, 0.03, -7, 0.04, 3],
  [0.05, 0, 0.05, 0, 0.1, 0],
  [0.031, 127, 0.007, -128, 0.019, 9],
  // 255·(s_a + s_b) / s_out past 2^22: edgec's SIMD loop that clamps before the rounding
  [0.5, 3, 0.25, -2, 0.0001, 7],
];
/** Which of ADDS the lowering puts on Add_QS8 (ortAddFixedPoint proves its bytes): the ties differ from any fixed point. */
const ADDS_FIXED = [false, false, false, true, true];
/**
 * The two-input QDQ model `bytes` over every pair of codes (a, b): onnxruntime's outputs; edgec's default bundle (its
 * kernels must include `kernels`) gives them exactly on the simd and scalar builds. Returns how many outputs the
 * bundle compiled with edgec's own arithmetic gets wrong (the caller asserts that the test can tell the two apart).
 */
async function exactOverCodes(
  bytes: Uint8Array,
  a: Float32Array,
  b: Float32Array,
  label: string,
  kernels: string[],
  disableKernels?: string[],
) {
  const s = await ortSession(bytes);
  const feeds = { a: new ort.Tensor('float32', a, [1, a.length]), b: new ort.Tensor('float32', b, [1, b.length]) };
  const want = (await s.run(feeds)).y!.data as Float32Array;
  const { bundle } = await compileQuantized(parseOnnx(bytes, label), {}, { disableKernels });
  const has = summarizeBundle(bundle).rows.map((r) => r.kernel);
  assert.ok(
    kernels.every((k) => has.includes(k)),
    `${label}: ${has.join(' ')}`,
  );
  assert.not.ok(has.includes('Add_QS8') && has.includes('Add_QS8_FP32'), `${label}: ${has.join(' ')}`);
  for (const build of ['simd', 'scalar'] as const) {
    const got = (await load(bundle, { build })).run({ a, b }).y as Float32Array;
    for (let i = 0; i < want.length; i++)
      if (got[i] !== want[i]) assert.unreachable(`${label} ${build}: [${i}] got ${got[i]}, onnxruntime ${want[i]}`);
  }
  const own = (await compileQuantized(parseOnnx(bytes, label), { arithmetic: 'edgec' })).bundle;
  const mine = (await load(own, { build: 'simd' })).run({ a, b }).y as Float32Array;
  let differs = 0;
  for (let i = 0; i < want.length; i++) if (mine[i] !== want[i]) differs++;
  return differs;
}

for (const uint8 of [false, true]) {
  test(`QDQ Add (${uint8 ? 'uint8' : 'int8'}): every pair of codes = onnxruntime's QLinearAdd, simd and scalar; edgec's own arithmetic differs`, async () => {
    let differs = 0;
    for (const [i, [sA, zA, sB, zB, sC, zC]] of ADDS.entries()) {
      const z = uint8 ? 128 : 0;
      const { bytes, a, b } = addModel(sA, zA + z, sB, zB + z, sC, zC + z, uint8);
      const label = `${uint8 ? 'u8' : 's8'} ${[sA, zA, sB, zB, sC, zC]}`;
      const fixed = ADDS_FIXED[i]!;
      differs += await exactOverCodes(bytes, a, b, label, [fixed ? 'Add_QS8' : 'Add_QS8_FP32', 'Quantize_QS8_RNE']);
      // and Add_QS8_FP32 on the proven ones too (disabling Add_QS8 keeps it)
      if (fixed) await exactOverCodes(bytes, a, b, `${label} fp32`, ['Add_QS8_FP32'], ['Add_QS8']);
    }
    assert.ok(differs > 1000, `edgec's arithmetic differs from onnxruntime's on ${differs} sums only`);
  });
}

// int8 MobileNetV2's residual Adds (u8s8 QDQ, zero points as int8): features.6's scales give onnxruntime's bytes at
// addMultipliers' constants, features.3's at mult_b 186 above theirs (ortAddFixedPoint's search), features.16's at none
// (Add_QS8_FP32 kept; Add_QS8 there would differ, so skipping the check fails this test)
test('QDQ Add on the fixed point where proven over all 65 536 pairs (MobileNetV2 features.6, .3), else float (.16)', async () => {
  const cases: [string, number[], string][] = [
    ['features.6', [0.0044616758823394775, -35, 0.002844566013664007, -24, 0.004499121569097042, -25], 'Add_QS8'],
    ['features.3', [0.004095620475709438, -22, 0.001693996600806713, -26, 0.004805310629308224, -15], 'Add_QS8'],
    ['features.16', [0.003983787260949612, -17, 0.002792063867673278, 12, 0.00551212765276432, 12], 'Add_QS8_FP32'],
  ];
  for (const [name, [sA, zA, sB, zB, sC, zC], kernel] of cases) {
    const { bytes, a, b } = addModel(sA!, zA!, sB!, zB!, sC!, zC!, false);
    await exactOverCodes(bytes, a, b, `${name} ${[sA, zA, sB, zB, sC, zC]}`, [kernel]);
  }
});

// onnxruntime runs DQ → Sub → Q unfused (no QLinearSub): round_half_even(f32(f32(v_a − v_b) / s_out)) + zp; edgec keeps
// an ONNX Sub in float too (Dequantize_QS8, Binary_F32, then Quantize_QS8_RNE), the same float32 operations
test('QDQ Sub (int8 and uint8): every pair of codes = onnxruntime, simd and scalar; half-away Quantize differs', async () => {
  let differs = 0;
  for (const uint8 of [false, true])
    for (const [sA, zA, sB, zB, sC, zC] of [ADDS[0]!, ADDS[1]!, ADDS[4]!]) {
      const z = uint8 ? 128 : 0;
      const { bytes, a, b } = addModel(sA, zA + z, sB, zB + z, sC, zC + z, uint8, 'Sub');
      const label = `sub ${uint8 ? 'u8' : 's8'} ${[sA, zA, sB, zB, sC, zC]}`;
      differs += await exactOverCodes(bytes, a, b, label, ['Binary_F32', 'Quantize_QS8_RNE']);
    }
  assert.ok(differs > 1000, `half-away rounding differs from onnxruntime's on ${differs} differences only`);
});

test('disableKernels Quantize_QS8_RNE, Add_QS8_FP32: the lowering falls back to Quantize_QS8, Add_QS8 (bench/profile.ts --disable)', async () => {
  const { bytes } = addModel(0.1, 1, 0.1, 1, 0.2, 1, false);
  const opts = { disableKernels: ['Quantize_QS8_RNE', 'Add_QS8_FP32'] };
  const { bundle } = await compileQuantized(parseOnnx(bytes, 'add.onnx'), {}, opts);
  const kernels = summarizeBundle(bundle).rows.map((r) => r.kernel);
  assert.equal([...new Set(kernels)].sort(), ['Add_QS8', 'Dequantize_QS8', 'Quantize_QS8']);
});

test("arithmetic 'edgec': the fixed-point kernels, not the _FP32 ones", async () => {
  const g = loadOnnx(join(FIX, CASES[0]!.model));
  const fixed = summarizeBundle((await compileQuantized(g, { arithmetic: 'edgec' })).bundle).rows.map((r) => r.kernel);
  assert.ok(fixed.includes('Conv2D_QS8') && fixed.includes('Quantize_QS8'), fixed.join(' '));
  assert.not.ok(
    fixed.some((k) => k.endsWith('_FP32')),
    fixed.join(' '),
  );
});

test.run();
