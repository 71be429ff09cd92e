// The integer arithmetic of docs/quantization.md: fixed-point multipliers, the one-rounding requantisation,
// quantise ties, AvgPool rounding, clamps — by hand-worked values — and the integer reference of each op
// against float math on the dequantised values (error ≤ half an output step plus the multiplier error).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  activationClamp,
  addMultipliers,
  channelMultipliers,
  dequantizeF32,
  divRoundHalfAway,
  quantizeF32,
  quantizeMultiplier,
  requantize,
  requantizeFp32,
  channelScalesF32,
} from '../../../compiler/ir/requant.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { OPS } from '../../../compiler/ir/ops/index.ts';
import type { Attrs, Graph, OpType, QuantParams } from '../../../compiler/ir/graph.ts';
import { rng } from './build-graph.ts';

test("requantizeFp32 (XNNPACK's fp32 path): ties to even, f32(acc) rounding, clamps, where fixed point differs", () => {
  // ties: 2.5 → 2, 3.5 → 4, −2.5 → −2 (fixed point rounds half up: 3, 4, −2)
  assert.is(requantizeFp32(5, 0.5, 0), 2);
  assert.is(requantizeFp32(7, 0.5, 0), 4);
  assert.is(requantizeFp32(-5, 0.5, 0), -2);
  assert.is(requantize(5, 2 ** 30, 31, 0), 3);
  // f32(2^24 + 1) = 2^24: 2^24·2^−24 = 1 exactly, (2^24 + 1)·2^−24 would round to 1 too; 2^24 + 3 → 2^24 + 4
  assert.is(requantizeFp32(2 ** 24 + 3, 2 ** -22, 0), 4);
  // the product is rounded to float32 first: f32(0.1)·25 = 2.50000003725 in float64 but 2.5 in float32 → 2
  assert.is(requantizeFp32(25, 0.1, 0), 2);
  // zero point after rounding, clamps after the zero point
  assert.is(requantizeFp32(5, 0.5, 10), 12);
  assert.is(requantizeFp32(1000, 1, 0), 127);
  assert.is(requantizeFp32(-1000, 1, 5, -20, 100), -20);
  // scales: f32(f32(s_in·s_w) / s_out)
  const [c] = channelScalesF32(0.1, [0.3], 0.7);
  assert.is(c!.scale, Math.fround(Math.fround(Math.fround(0.1) * Math.fround(0.3)) / Math.fround(0.7)));
  assert.throws(() => channelScalesF32(0.1, [0], 1), /positive and finite/);
});

test('quantizeMultiplier: hand-worked values, ranges, the round-up-to-2^31 case, errors', () => {
  assert.equal(quantizeMultiplier(0.5), { mult: 2 ** 30, shift: 31 });
  assert.equal(quantizeMultiplier(1), { mult: 2 ** 30, shift: 30 });
  assert.equal(quantizeMultiplier(0.75), { mult: 1610612736, shift: 31 });
  assert.equal(quantizeMultiplier(3), { mult: 1610612736, shift: 29 });
  // r·2^31 = 2^31 − 0.25 rounds up to 2^31: one shift less
  assert.equal(quantizeMultiplier(1 - 2 ** -33), { mult: 2 ** 30, shift: 30 });
  // tiny: shift capped at 62
  assert.equal(quantizeMultiplier(2 ** -40), { mult: 2 ** 22, shift: 62 });
  assert.equal(quantizeMultiplier(1e-25).shift, 62);
  const r = rng(5);
  for (let i = 0; i < 2000; i++) {
    const v = 2 ** (r() * 40 - 30);
    const { mult, shift } = quantizeMultiplier(v);
    assert.ok(mult >= 2 ** 30 && mult < 2 ** 31 && shift >= 1 && shift <= 62, `r ${v}: ${mult}/${shift}`);
    assert.ok(Math.abs(mult * 2 ** -shift - v) <= 2 ** -shift * 0.5, `r ${v} approximated by ${mult}·2^-${shift}`);
  }
  assert.throws(() => quantizeMultiplier(2 ** 30), /too large/);
  assert.throws(() => quantizeMultiplier(0), /positive/);
  assert.throws(() => quantizeMultiplier(NaN), /positive/);
});

test('channelMultipliers: one shift shared while every channel keeps ≥ 2^15, else per channel', () => {
  // r = 0.5 and 0.125 (scales exact in float32): shared shift 31
  assert.equal(channelMultipliers(1, [0.5, 0.125], 1), [
    { mult: 2 ** 30, shift: 31 },
    { mult: 2 ** 28, shift: 31 },
  ]);
  // r = 0.5 and 2^-20: the small one would keep 2^11 < 2^15 → own shifts
  assert.equal(channelMultipliers(1, [0.5, 2 ** -20], 1), [
    { mult: 2 ** 30, shift: 31 },
    { mult: 2 ** 30, shift: 50 },
  ]);
});

test('addMultipliers: one shift for the larger ratio', () => {
  const m = addMultipliers(0.5, 0.125);
  assert.equal(m, { multA: 2 ** 30, multB: 2 ** 28, shift: 31 });
});

test('requantize: one rounding, half up, clamp after the zero point', () => {
  // r = 0.5
  const h = (acc: number, zp = 0, lo = -128, hi = 127) => requantize(acc, 2 ** 30, 31, zp, lo, hi);
  assert.is(h(3), 2); // 1.5 → 2
  assert.is(h(-3), -1); // −1.5 → −1 (half up)
  assert.is(h(5), 3); // 2.5 → 3
  assert.is(h(-5), -2); // −2.5 → −2
  assert.is(h(4), 2);
  assert.is(h(300), 127);
  assert.is(h(-300), -128);
  assert.is(h(100, 50), 100);
  assert.is(h(200, 50), 127);
  assert.is(h(-10, 10, 0, 127), 5);
  assert.is(h(-40, 10, 0, 127), 0);
  // large accumulators stay exact (the product needs 62 bits)
  assert.is(requantize(2 ** 31 - 1, 2 ** 31 - 1, 62, 0), 1); // (2^31−1)²/2^62 ≈ 1 − 2^−30 → 1
  assert.is(requantize(-(2 ** 31), 2 ** 31 - 1, 62, 0), -1);
  const r = rng(9);
  for (let i = 0; i < 2000; i++) {
    const acc = Math.floor((r() - 0.5) * 2 ** 24),
      real = 2 ** (r() * 16 - 24);
    const { mult, shift } = quantizeMultiplier(real);
    const v = requantize(acc, mult, shift, 0, -(2 ** 30), 2 ** 30);
    assert.ok(Math.abs(v - acc * real) <= 0.5 + Math.abs(acc) * 2 ** -shift, `acc ${acc} r ${real}: ${v}`);
  }
});

test('quantizeF32 / dequantizeF32: ties away from zero, saturation, NaN, float32 division', () => {
  const qv = (x: number) => quantizeF32(x, 0.5, 0);
  assert.equal([0.25, -0.25, 0.75, -0.75, 1.25, -1.25, 0.2, -0.2].map(qv), [1, -1, 2, -2, 3, -3, 0, -0]);
  assert.is(quantizeF32(1e9, 0.1, 0), 127);
  assert.is(quantizeF32(-1e9, 0.1, 0), -128);
  assert.is(quantizeF32(Infinity, 0.1, 5), 127);
  assert.is(quantizeF32(-Infinity, 0.1, 5), -128);
  assert.is(quantizeF32(NaN, 0.1, 5), 5);
  assert.is(quantizeF32(0, 0.1, -128), -128);
  assert.is(quantizeF32(1, 0.1, 120), 127);
  // the division happens in float32: 0.3f / 0.1f = 3.0000002 in float32 → 3
  assert.is(quantizeF32(0.3, 0.1, 0), 3);
  assert.is(dequantizeF32(-128, 0.1, 127), Math.fround(-255 * Math.fround(0.1)));
  assert.is(dequantizeF32(5, 0.25, 5), 0);
});

test('divRoundHalfAway and activation clamps', () => {
  assert.equal(
    [
      [5, 2],
      [-5, 2],
      [7, 3],
      [-7, 3],
      [4, 8],
      [-4, 8],
      [3, 8],
      [-3, 8],
      [0, 9],
    ].map(([a, c]) => divRoundHalfAway(a!, c!)),
    [3, -3, 2, -2, 1, -1, 0, -0, 0],
  );
  assert.equal(activationClamp('none', 0, 0, 0.1, 3), [-128, 127]);
  assert.equal(activationClamp('relu', 0, Infinity, 0.1, -20), [-20, 127]);
  assert.equal(activationClamp('clip', 0, 6, 0.05, -128), [-128, -8]);
  assert.equal(activationClamp('clip', -1, 1, 0.1, 0), [-10, 10]);
});

// ---------- the integer reference against float math on dequantised values ----------

const R = rng(77);
const randInt = (lo: number, hi: number) => lo + Math.floor(R() * (hi - lo + 1));
const q = (s: number, zp: number): QuantParams => ({ scale: [s], zeroPoint: [zp] });

function graph(
  op: OpType,
  ins: { name: string; shape: number[]; quant: QuantParams; data?: Int8Array | Int32Array; dtype?: 'int8' | 'int32' }[],
  attrs: Attrs,
  outShape: number[],
  outQ: QuantParams,
): Graph {
  const g: Graph = { name: 't', source: 'test', tensors: new Map(), nodes: [], inputs: [], outputs: ['y'] };
  for (const t of ins) {
    g.tensors.set(t.name, { name: t.name, dtype: t.dtype ?? 'int8', shape: t.shape, data: t.data, quant: t.quant });
    if (!t.data) g.inputs.push(t.name);
  }
  g.tensors.set('y', { name: 'y', dtype: 'int8', shape: outShape, quant: outQ });
  g.nodes.push({ name: 'n', op, inputs: ins.map((t) => t.name), outputs: ['y'], attrs });
  return g;
}
const deq = (v: ArrayLike<number>, s: number, zp: number) =>
  Float64Array.from(v as ArrayLike<number>, (x) => (x - zp) * Math.fround(s));

/** |deq(y) − clamp(float)| ≤ slack·s_out wherever the float result lies inside the representable range. */
function near(got: ArrayLike<number>, want: ArrayLike<number>, s: number, zp: number, slack: number, label: string) {
  const lo = (-128 - zp) * s,
    hi = (127 - zp) * s;
  for (let i = 0; i < want.length; i++) {
    const w = Math.min(hi, Math.max(lo, want[i]!)),
      g = (got[i]! - zp) * Math.fround(s);
    assert.ok(Math.abs(g - w) <= slack * s, `${label}: [${i}] int ${got[i]} = ${g}, float ${want[i]}`);
  }
}

test('Conv2D / Dense integer reference ≈ float conv of the dequantised values (≤ ½ step)', () => {
  const sIn = 0.05,
    zpIn = -17,
    sOut = 0.4,
    zpOut = 9,
    co = 5;
  const sW = [0.01, 0.02, 0.004, 0.03, 0.011];
  const x = Int8Array.from({ length: 2 * 6 * 5 * 3 }, () => randInt(-128, 127));
  const w = Int8Array.from({ length: co * 3 * 3 * 3 }, () => randInt(-127, 127));
  const b = Int32Array.from({ length: co }, () => randInt(-3000, 3000));
  const attrs: Attrs = { strides: [2, 1], padding: 'same' };
  const g = graph(
    'Conv2D',
    [
      { name: 'x', shape: [2, 6, 5, 3], quant: q(sIn, zpIn) },
      { name: 'w', shape: [co, 3, 3, 3], quant: { scale: sW, zeroPoint: [0, 0, 0, 0, 0], axis: 0 }, data: w },
      { name: 'b', shape: [co], quant: q(1, 0), data: b, dtype: 'int32' },
    ],
    attrs,
    [2, 3, 5, co],
    q(sOut, zpOut),
  );
  const got = evaluate(g, { x }).y!;
  const node = g.nodes[0]!;
  const wf = { shape: [co, 3, 3, 3], data: Float64Array.from(w, (v, i) => v * Math.fround(sW[Math.floor(i / 27)]!)) };
  const bf = { shape: [co], data: Float64Array.from(b, (v, c) => v * Math.fround(sIn) * Math.fround(sW[c]!)) };
  const outs = OPS.Conv2D.infer(
    node,
    [
      { name: 'x', shape: [2, 6, 5, 3], dtype: 'float32' },
      { name: 'w', shape: [co, 3, 3, 3], dtype: 'float32' },
    ],
    't',
  );
  const want = OPS.Conv2D.evaluate(node, [{ shape: [2, 6, 5, 3], data: deq(x, sIn, zpIn) }, wf, bf], outs)[0]!;
  near(got, want, sOut, zpOut, 0.5 + 1e-6, 'conv');
  // Dense with a fused relu: the clamp carries the relu
  const gd = graph(
    'Dense',
    [
      { name: 'x', shape: [4, 27], quant: q(sIn, zpIn) },
      { name: 'w', shape: [co, 27], quant: { scale: sW, zeroPoint: [0, 0, 0, 0, 0], axis: 0 }, data: w },
    ],
    { activation: 'relu' },
    [4, co],
    q(sOut, zpOut),
  );
  const xd = x.subarray(0, 108);
  const gotD = evaluate(gd, { x: xd }).y!;
  const wantD = new Float64Array(4 * co);
  const xf = deq(xd, sIn, zpIn);
  for (let m = 0; m < 4; m++)
    for (let n = 0; n < co; n++) {
      let acc = 0;
      for (let k = 0; k < 27; k++) acc += xf[m * 27 + k]! * w[n * 27 + k]! * Math.fround(sW[n]!);
      wantD[m * co + n] = Math.max(0, acc);
    }
  near(gotD, wantD, sOut, zpOut, 0.5 + 1e-6, 'dense relu');
  for (const v of gotD) assert.ok(v >= zpOut, 'relu clamp at the output zero point');
});

test('Add / AvgPool / GlobalAvgPool / Requantize integer reference ≈ float (≤ ½ step)', () => {
  const a = Int8Array.from({ length: 24 }, () => randInt(-128, 127)),
    bb = Int8Array.from({ length: 4 }, () => randInt(-128, 127));
  const ga = graph(
    'Add',
    [
      { name: 'a', shape: [2, 3, 4], quant: q(0.03, 11) },
      { name: 'b', shape: [4], quant: q(0.2, -100) },
    ],
    {},
    [2, 3, 4],
    q(0.15, -3),
  );
  const got = evaluate(ga, { a, b: bb }).y!;
  const fa = deq(a, 0.03, 11),
    fb = deq(bb, 0.2, -100);
  near(
    got,
    fa.map((v, i) => v + fb[i % 4]!),
    0.15,
    -3,
    0.5 + 1e-6,
    'add',
  );

  const x = Int8Array.from({ length: 5 * 4 * 3 }, () => randInt(-128, 127));
  const gp = graph(
    'AvgPool',
    [{ name: 'x', shape: [1, 5, 4, 3], quant: q(0.1, 7) }],
    { kernel: [2, 2], strides: [2, 2], padding: 'same' },
    [1, 3, 2, 3],
    q(0.1, 7),
  );
  const gotP = evaluate(gp, { x }).y!;
  const xf = deq(x, 0.1, 7);
  const wantP: number[] = [];
  for (let oy = 0; oy < 3; oy++)
    for (let ox = 0; ox < 2; ox++)
      for (let c = 0; c < 3; c++) {
        let s = 0,
          n = 0;
        for (let ky = 0; ky < 2; ky++)
          for (let kx = 0; kx < 2; kx++) {
            const iy = oy * 2 + ky,
              ix = ox * 2 + kx;
            if (iy < 5 && ix < 4) {
              s += xf[(iy * 4 + ix) * 3 + c]!;
              n++;
            }
          }
        wantP.push(s / n);
      }
  near(gotP, wantP, 0.1, 7, 0.5 + 1e-6, 'avgpool');

  const gg = graph(
    'GlobalAvgPool',
    [{ name: 'x', shape: [1, 5, 4, 3], quant: q(0.1, 7) }],
    {},
    [1, 1, 1, 3],
    q(0.02, -50),
  );
  const gotG = evaluate(gg, { x }).y!;
  near(
    gotG,
    [0, 1, 2].map((c) => {
      let s = 0;
      for (let i = 0; i < 20; i++) s += xf[i * 3 + c]!;
      return s / 20;
    }),
    0.02,
    -50,
    0.5 + 1e-6,
    'gap',
  );

  const gr = graph('Requantize', [{ name: 'x', shape: [60], quant: q(0.1, 7) }], {}, [60], q(0.033, 100));
  near(evaluate(gr, { x }).y!, xf, 0.033, 100, 0.5 + 1e-6, 'requantize');
});

test('Quantize → Dequantize round trip through evaluate()', () => {
  const g: Graph = { name: 't', source: 'test', tensors: new Map(), nodes: [], inputs: ['x'], outputs: ['z'] };
  g.tensors.set('x', { name: 'x', dtype: 'float32', shape: [50] });
  g.tensors.set('q', { name: 'q', dtype: 'int8', shape: [50], quant: q(0.05, -3) });
  g.tensors.set('z', { name: 'z', dtype: 'float32', shape: [50] });
  g.nodes.push({ name: 'quant', op: 'Quantize', inputs: ['x'], outputs: ['q'], attrs: {} });
  g.nodes.push({ name: 'dequant', op: 'Dequantize', inputs: ['q'], outputs: ['z'], attrs: {} });
  const x = Float32Array.from({ length: 50 }, (_, i) => (i - 25) * 0.0371);
  const z = evaluate(g, { x }).z!;
  for (let i = 0; i < 50; i++) assert.ok(Math.abs(z[i]! - x[i]!) <= 0.025 + 1e-7, `[${i}] ${x[i]} → ${z[i]}`);
});

test.run();
