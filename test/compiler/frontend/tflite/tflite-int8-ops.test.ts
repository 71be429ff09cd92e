// TFLite's own int8 HARD_SWISH, SUB, MUL and MEAN on single-operator .tflite files (written with the schema's
// builder API) against TFLite's interpreter (test/tflite-oracle.ts), both wasm builds: every output byte identical
// and every node on int8 (Lut_QS8 with TFLite's HARD_SWISH table, Add_QS8 with b's multiplier negated,
// Mul_QS8_FP32, GlobalAvgPool_QS8_FP32), plus PAD on int8 (its fill is the zero point).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTflite } from '../../../../compiler/frontend/tflite/index.ts';
import { compileQuantized } from '../../../../compiler/quantize/index.ts';
import * as tfl from '../../../../compiler/frontend/tflite/tflite-schema.generated.ts';
import { load } from '../../../../runtime/node.ts';
import { tfliteRunner } from '../../../tflite-oracle.ts';
import { buildTflite, type SynthOp, type SynthTensor } from './tflite-build.ts';

const B = tfl.BuiltinOperator;
const O = tfl.BuiltinOptions;
const A = tfl.ActivationFunctionType;
const I8 = tfl.TensorType.INT8;
const roundAway = (x: number) => (x < 0 ? -Math.round(-x) : Math.round(x));

/** xorshift32 int8 values, the same on every run. */
function seededInt8(n: number, seed: number): Int8Array {
  let s = seed;
  return Int8Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s & 255) - 128;
  });
}

const i8 = (name: string, shape: number[], scale: number, zp: number, data?: Int8Array): SynthTensor => ({
  name,
  shape,
  type: I8,
  quant: { scale: [scale], zeroPoint: [zp] },
  ...(data ? { data } : {}),
});

/**
 * One operator's file compiled with --quantize int8 (its own params) against TFLite on `inputs` (int8 per graph
 * input): asserts no float node and returns the bytes that differ, both builds (output read back in its params).
 */
async function differingBytes(
  tensors: SynthTensor[],
  ops: SynthOp[],
  ins: number[],
  out: number,
  inputs: Int8Array[][],
): Promise<{ diff: number; total: number }> {
  const bytes = buildTflite(tensors, ops, ins, [out]);
  const oracle = await tfliteRunner(bytes);
  const g = parseTflite(bytes, 'op.tflite');
  const { bundle, report } = await compileQuantized(g, {});
  assert.equal(report.floatNodes, [], 'every node on int8');
  const qo = g.tensors.get(g.outputs[0]!)!.quant!;
  let diff = 0,
    total = 0;
  for (const build of ['simd', 'scalar'] as const) {
    const model = await load(bundle, { build });
    for (const xs of inputs) {
      const feed = Object.fromEntries(
        g.inputs.map((name, k) => {
          const q = g.tensors.get(name)!.quant!;
          return [name, Float32Array.from(xs[k]!, (v) => (v - q.zeroPoint[0]!) * q.scale[0]!)];
        }),
      );
      const y = model.run(feed)[g.outputs[0]!] as Float32Array;
      const t = oracle.run(xs)[0]!;
      y.forEach((v, i) => {
        if (roundAway(v / qo.scale[0]!) + qo.zeroPoint[0]! !== t[i]) diff++;
        total++;
      });
    }
  }
  return { diff, total };
}

const ALL = Int8Array.from({ length: 256 }, (_, i) => i - 128);

test('int8 HARD_SWISH (Lut_QS8, TFLite reference table) on all 256 inputs: every byte identical', async () => {
  for (const [si, zi, so, zo] of [
    [0.1, 3, 0.05, -20],
    [0.0378, -20, 0.03, -100],
    [0.5, 0, 0.3, -110],
    [0.02, 10, 0.02, -5],
    [0.2, -128, 0.1, -128],
    [0.004, 60, 0.0007, -90],
  ] as const) {
    const r = await differingBytes(
      [i8('x', [1, 256], si, zi), i8('y', [1, 256], so, zo)],
      [{ code: B.HARD_SWISH, inputs: [0], outputs: [1] }],
      [0],
      1,
      [[ALL]],
    );
    assert.is(r.diff, 0, `s_in ${si} zp_in ${zi} → s_out ${so} zp_out ${zo}: ${r.diff}/${r.total} differ`);
  }
});

const PARAMS = [
  [0.05, 3, 0.031, -7, 0.07, -10],
  [0.02, 10, 0.09, 0, 0.08, 5],
  [0.5, 0, 0.25, -3, 0.6, 2],
  [0.0123, -128, 0.0456, 127, 0.003, 0],
] as const;

for (const [code, name] of [
  [B.SUB, 'SUB (Add_QS8, −mult_b)'],
  [B.MUL, 'MUL (Mul_QS8_FP32)'],
] as const) {
  const options = (act: tfl.ActivationFunctionType): SynthOp['options'] =>
    code === B.MUL
      ? (b) => [O.MulOptions, tfl.MulOptions.createMulOptions(b, act)]
      : (b) => [O.SubOptions, tfl.SubOptions.createSubOptions(b, act, false)];
  test(`int8 ${name}: same shapes, broadcast [C], a constant operand, fused RELU / RELU6: every byte identical`, async () => {
    for (const [k, [sa, za, sb, zb, so, zo]] of PARAMS.entries()) {
      const act = [A.NONE, A.RELU, A.RELU6, A.NONE][k]!;
      const full = await differingBytes(
        [i8('a', [1, 4, 8, 8], sa, za), i8('b', [1, 4, 8, 8], sb, zb), i8('y', [1, 4, 8, 8], so, zo)],
        [{ code, inputs: [0, 1], outputs: [2], options: options(act) }],
        [0, 1],
        2,
        [1, 2, 3].map((s) => [seededInt8(256, s), seededInt8(256, s + 10)]),
      );
      assert.is(full.diff, 0, `params ${k}: ${full.diff}/${full.total} differ`);
      const bcast = await differingBytes(
        [i8('a', [1, 4, 5, 8], sa, za), i8('b', [8], sb, zb), i8('y', [1, 4, 5, 8], so, zo)],
        [{ code, inputs: [0, 1], outputs: [2], options: options(act) }],
        [0, 1],
        2,
        [1, 2].map((s) => [seededInt8(160, s), seededInt8(8, s + 20)]),
      );
      assert.is(bcast.diff, 0, `params ${k} broadcast: ${bcast.diff}/${bcast.total} differ`);
      const constant = await differingBytes(
        [
          i8('a', [1, 2, 3, 8], sa, za),
          i8('b', [1, 1, 1, 8], sb, zb, seededInt8(8, 99)),
          i8('y', [1, 2, 3, 8], so, zo),
        ],
        [{ code, inputs: [0, 1], outputs: [2], options: options(act) }],
        [0],
        2,
        [1, 2].map((s) => [seededInt8(48, s)]),
      );
      assert.is(constant.diff, 0, `params ${k} constant b: ${constant.diff}/${constant.total} differ`);
    }
  });
}

test('int8 MEAN over H, W (GlobalAvgPool_QS8_FP32): every byte identical, ties included', async () => {
  for (const [h, w, c, si, zi, so, zo] of [
    [4, 4, 8, 0.05, 3, 0.02, -10],
    [4, 4, 8, 0.1, -128, 0.1, -128], // s_in = s_out, count 16: sums on a tie in 1/16 of the cases
    [7, 7, 4, 0.02, 10, 0.05, 5],
    [5, 3, 16, 0.5, 0, 0.37, 2],
    [1, 1, 8, 0.03, 0, 0.03, 0],
  ] as const) {
    for (const keep of [true, false]) {
      const r = await differingBytes(
        [
          i8('x', [1, h, w, c], si, zi),
          { name: 'axes', shape: [2], data: Int32Array.of(1, 2) },
          i8('y', keep ? [1, 1, 1, c] : [1, c], so, zo),
        ],
        [
          {
            code: B.MEAN,
            inputs: [0, 1],
            outputs: [2],
            options: (b) => [O.ReducerOptions, tfl.ReducerOptions.createReducerOptions(b, keep)],
          },
        ],
        [0],
        2,
        Array.from({ length: 10 }, (_, s) => [seededInt8(h * w * c, s + 1)]),
      );
      assert.is(r.diff, 0, `[${h},${w},${c}] keep_dims ${keep}: ${r.diff}/${r.total} differ`);
    }
  }
});

// MobileNetV3's squeeze-excite + hard-swish tail, composed: MEAN → LOGISTIC → MUL (broadcast gate) → HARD_SWISH → SUB
test('int8 squeeze-excite chain (MEAN, LOGISTIC, MUL, HARD_SWISH, SUB) on 20 inputs: every byte identical', async () => {
  const r = await differingBytes(
    [
      i8('x', [1, 6, 6, 16], 0.047, -9),
      { name: 'axes', shape: [2], data: Int32Array.of(1, 2) },
      i8('m', [1, 1, 1, 16], 0.021, -3),
      i8('g', [1, 1, 1, 16], 1 / 256, -128),
      i8('s', [1, 6, 6, 16], 0.039, -12),
      i8('h', [1, 6, 6, 16], 0.028, -95),
      i8('c', [16], 0.011, 4, seededInt8(16, 77)),
      i8('y', [1, 6, 6, 16], 0.035, 6),
    ],
    [
      {
        code: B.MEAN,
        inputs: [0, 1],
        outputs: [2],
        options: (b) => [O.ReducerOptions, tfl.ReducerOptions.createReducerOptions(b, true)],
      },
      { code: B.LOGISTIC, inputs: [2], outputs: [3] },
      {
        code: B.MUL,
        inputs: [0, 3],
        outputs: [4],
        options: (b) => [O.MulOptions, tfl.MulOptions.createMulOptions(b, A.NONE)],
      },
      { code: B.HARD_SWISH, inputs: [4], outputs: [5] },
      {
        code: B.SUB,
        inputs: [5, 6],
        outputs: [7],
        options: (b) => [O.SubOptions, tfl.SubOptions.createSubOptions(b, A.RELU6, false)],
      },
    ],
    [0],
    7,
    Array.from({ length: 20 }, (_, s) => [seededInt8(576, s + 40)]),
  );
  assert.is(r.diff, 0, `${r.diff}/${r.total} differ`);
});

test('int8 PAD: the fill is the zero point, on int8', async () => {
  const r = await differingBytes(
    [
      i8('x', [1, 3, 4, 5], 0.05, -7),
      { name: 'pads', shape: [4, 2], data: Int32Array.of(0, 0, 1, 2, 2, 0, 0, 1) },
      i8('y', [1, 6, 6, 6], 0.05, -7),
    ],
    [{ code: B.PAD, inputs: [0, 1], outputs: [2], options: (b) => [O.PadOptions, tfl.PadOptions.createPadOptions(b)] }],
    [0],
    2,
    [[seededInt8(60, 5)]],
  );
  assert.is(r.diff, 0);
});

// A standalone RELU / RELU6 / RELU_N1_TO_1 whose output params can hold values outside its range (the same params
// as its input, say) must clamp, not only requantise: TFLite clamps at zp_out + round(lo / s_out). (Params where
// (q − zp_in)·s_in/s_out lands exactly on a negative half are left out: docs/tflite-support.md.)
test('int8 standalone RELU, RELU6, RELU_N1_TO_1 on all 256 inputs: every byte identical', async () => {
  for (const [code, name] of [
    [B.RELU, 'RELU'],
    [B.RELU6, 'RELU6'],
    [B.RELU_N1_TO_1, 'RELU_N1_TO_1'],
  ] as const) {
    for (const [si, zi, so, zo] of [
      [0.05, 0, 0.05, 0], // same params, symmetric: the clamp is all the op does
      [0.1, -20, 0.1, -20],
      [0.04, 5, 0.03, -128], // output range starts at 0: saturation alone clamps RELU
      [0.07, 10, 0.03, 3], // s_in / s_out = 2.33: TFLite's double rounding (half away from zero)
      [0.02, 10, 0.07, 3],
      [0.013, -7, 0.1, 20],
    ] as const) {
      const r = await differingBytes(
        [i8('x', [1, 256], si, zi), i8('y', [1, 256], so, zo)],
        [{ code, inputs: [0], outputs: [1] }],
        [0],
        1,
        [[ALL]],
      );
      assert.is(r.diff, 0, `${name} s_in ${si} zp_in ${zi} → s_out ${so} zp_out ${zo}: ${r.diff}/${r.total} differ`);
    }
  }
});

test.run();
