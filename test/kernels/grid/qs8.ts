// Kernel-grid cases of the int8 kernels (test/kernels/grid.test.ts): random int8 data and weights, zero points at
// the extremes, scales that spread the multipliers; compared byte for byte with the TS integer reference. The *_FP32
// variants (and AvgPool_QS8_RAW) run the same cases as a graph with TFLite's int8 arithmetic (Graph.int8Arithmetic);
// Quantize_QS8_RNE and Add_QS8_FP32 as graphs on onnxruntime's.
import { type Builder, CaseGraph, ZPS, pick, q } from './case.ts';
import type { Attrs } from '../../../compiler/ir/graph.ts';

const ACTS: Attrs[] = [{}, { activation: 'relu' }, { activation: 'clip', clip: [-0.5, 0.25] }];
const scales = (n: number, i: number) => Array.from({ length: n }, (_, c) => 0.002 * (1 + (((c + i) * 7) % 9)));
const qIn = (i: number) => q(0.03 * 2 ** ((i % 4) - 1), pick(ZPS, i));
const qOut = (i: number) => q(0.05 * 2 ** (((i * 5) % 9) - 4), pick(ZPS, i + 2));

/** An int8 conv x [1, h, w, ci] with weights [co, kh, kw, ci / groups]. */
function conv(i: number, x: number[], w: number[], attrs: Attrs) {
  const c = new CaseGraph(i);
  const y = c.node(
    'Conv2D',
    [c.i8('x', x, qIn(i)), c.constI8('w', w, scales(w[0]!, i)), c.constI32('b', w[0]!, 20000)],
    { ...attrs, ...ACTS[i % 3] },
    qOut(i),
  );
  return c.done(y);
}

/** The case as a graph imported from TFLite (its importer sets the arithmetic). */
function tfliteArithmetic(c: ReturnType<Builder>): ReturnType<Builder> {
  c.graph.int8Arithmetic = 'tflite';
  return c;
}

/** The case as a pre-quantised ONNX graph (onnxruntime's arithmetic). */
function ortArithmetic(c: ReturnType<Builder>): ReturnType<Builder> {
  c.graph.int8Arithmetic = 'onnxruntime';
  return c;
}

/** Scales whose ratios put onnxruntime's QLinearAdd on exact ties (s_a = s_b = s_out / 2, and 1:1:4), then others. */
const ADD_SCALES = [
  [0.1, 0.1, 0.2],
  [0.05, 0.05, 0.2],
  [0.0123, 0.0171, 0.0297],
  // 255·(s_a + s_b) / s_out past 2^22: the SIMD loop that clamps before the rounding
  [1, 0.5, 2 ** -14],
];

export const GRID: Record<string, Builder> = {
  Conv2D_QS8: ({ m, n, k }, i) => ({
    ...conv(i, [1, 3, m, k], [n, 3, 3, k], { padding: i % 2 ? 'same' : [1, 0, 1, 2] }),
    disableKernels: ['Conv2DWino_QS8'],
  }),
  // m output columns (2×2 tiles: odd and even), odd and even rows, same / asymmetric / no padding; every size forced
  // onto Winograd (the lowering's speed rule would send the smallest to im2col)
  Conv2DWino_QS8: ({ m, n, k }, i) => {
    const pad = i % 3;
    const x = [1, 3 + (i % 2) + (pad === 0 ? 2 : 0), m + (pad === 0 ? 2 : 0), k];
    const padding = pad === 0 ? 'valid' : pad === 1 ? 'same' : [1, 0, 1, 2];
    return { ...conv(i, x, [n, 3, 3, k], { padding }), forceKernels: ['Conv2DWino_QS8'] };
  },
  Conv1xK_QS8: ({ m, n, k }, i) => conv(i, [1, 2, m, k], [n, 1, 3, k], { padding: 'same' }),
  ConvKx1_QS8: ({ m, n, k }, i) => conv(i, [1, m, 2, k], [n, 3, 1, k], { padding: 'same' }),
  // one channel is a plain conv
  DepthwiseConv2D_QS8: ({ m, n, k }, i) =>
    conv(i, [1, 3, m, Math.max(n, 2)], [Math.max(n, 2) * k, 3, 3, 1], { padding: 'same', groups: Math.max(n, 2) }),
  Dense_QS8: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    const y = c.node(
      'Dense',
      [c.i8('x', [m, k], qIn(i)), c.constI8('w', [n, k], scales(n, i)), c.constI32('b', n, 4000)],
      ACTS[i % 3],
      qOut(i),
    );
    return c.done(y);
  },
  MaxPool_QS8: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(c.node('MaxPool', [c.i8('x', [1, 2, m + k - 1, n], qIn(i))], { kernel: [2, k] }, qIn(i)));
  },
  AvgPool_QS8: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(c.node('AvgPool', [c.i8('x', [1, 2, m + k - 1, n], qIn(i))], { kernel: [2, k] }, qIn(i)));
  },
  GlobalAvgPool_QS8: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(c.node('GlobalAvgPool', [c.i8('x', [1, k, m, n], qIn(i))], {}, qOut(i)));
  },
  // every other case a Sub (Add_QS8 with b's multiplier negated), every fourth with TFLite's (XNNPACK's) constants
  Add_QS8: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    const op = i % 2 ? 'Sub' : 'Add';
    const r = c.done(c.node(op, [c.i8('a', [k, m, n], qIn(i)), c.i8('b', [n], qIn(i + 1))], ACTS[i % 3], qOut(i)));
    return i % 4 === 3 ? tfliteArithmetic(r) : r;
  },
  // TFLite's int8 MUL (graphs imported from .tflite only): broadcast b over rows, or two full operands
  Mul_QS8_FP32: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    const b = c.i8('b', i % 2 ? [n] : [k, m, n], qIn(i + 1));
    return tfliteArithmetic(c.done(c.node('Mul', [c.i8('a', [k, m, n], qIn(i)), b], ACTS[i % 3], qOut(i))));
  },
  Quantize_QS8: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(c.node('Quantize', [c.f32('x', [k, m, n], -4, 4)], {}, qOut(i), 'int8'));
  },
  // ONNX QuantizeLinear (onnxruntime's arithmetic): scale 2^−e, so every (j + 0.5)·scale in the input is an exact tie
  // of x / scale; then random values, ±∞, NaN, ±2^30 and the values around −1.5·2^23 (where a magic add without the clamp
  // wraps), zero points at the extremes
  Quantize_QS8_RNE: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    const scale = 2 ** -((i % 4) + 2);
    const x = c.f32('x', [k, m, n]);
    const special = [Infinity, -Infinity, NaN, 2 ** 30, -(2 ** 30), -12582913, -12582912.5, -12582911, 256.5, -256.5];
    const v = c.inputs[x] as Float32Array;
    for (let j = 0; j < v.length; j++)
      v[j] =
        j % 3 === 2
          ? v[j]! * 160 * scale
          : j % 11 === 10
            ? special[((j / 11) % special.length) | 0]! * scale
            : (((j * 37) % 301) - 150.5) * scale;
    return ortArithmetic(c.done(c.node('Quantize', [x], {}, q(scale, pick(ZPS, i + 2)), 'int8')));
  },
  // onnxruntime's QLinearAdd: b broadcast over rows or full, tie-making scales (Add_QS8 disabled: some of these scales
  // are proven exact on the fixed point, ortAddFixedPoint)
  Add_QS8_FP32: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    const [sa, sb, so] = pick(ADD_SCALES, i);
    const b = c.i8('b', i % 4 < 2 ? [n] : [k, m, n], q(sb!, pick(ZPS, i + 1)));
    const y = c.node('Add', [c.i8('a', [k, m, n], q(sa!, pick(ZPS, i))), b], ACTS[i % 3], q(so!, pick(ZPS, i + 2)));
    // Add_QS8 off: where the fixed point gives onnxruntime's bytes on every code pair the lowering takes it instead
    return { ...ortArithmetic(c.done(y)), disableKernels: ['Add_QS8'] };
  },
  Dequantize_QS8: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(c.node('Dequantize', [c.i8('x', [k, m, n], qIn(i))], {}, undefined, 'float32'));
  },
  Requantize_QS8: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(c.node('Requantize', [c.i8('x', [k, m, n], qIn(i))], {}, qOut(i), 'int8'));
  },
  // rows of 1 to 21 classes; TFLite's output params (1/256, −128) and others
  Softmax_QS8: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    const x = c.i8('x', [k, m, 4 * n + (i % 2)], q(0.02 * 2 ** (i % 6), pick(ZPS, i)));
    return c.done(c.node('Softmax', [x], { axis: -1 }, i % 2 ? q(1 / 256, -128) : qOut(i), 'int8'));
  },
  // Sigmoid with TFLite's LOGISTIC output params, Tanh with TANH's, then both with others
  Lut_QS8: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    const op = i % 2 ? 'Sigmoid' : 'Tanh';
    const out = i % 4 < 2 ? (op === 'Sigmoid' ? q(1 / 256, -128) : q(1 / 128, 0)) : qOut(i);
    const r = c.done(c.node(op, [c.i8('x', [k, m, 4 * n + 3], qIn(i))], {}, out, 'int8'));
    if (i % 8 !== 7) return r;
    // and TFLite's int8 HARD_SWISH table (.tflite graphs)
    const h = new CaseGraph(i);
    return tfliteArithmetic(h.done(h.node('HardSwish', [h.i8('x', [k, m, 4 * n + 3], qIn(i))], {}, qOut(i), 'int8')));
  },
  ...Object.fromEntries(
    [
      ['Conv2D_QS8', 'Conv2D_QS8_FP32'],
      ['Conv2DWino_QS8', 'Conv2DWino_QS8_FP32'],
      ['Conv1xK_QS8', 'Conv1xK_QS8_FP32'],
      ['ConvKx1_QS8', 'ConvKx1_QS8_FP32'],
      ['DepthwiseConv2D_QS8', 'DepthwiseConv2D_QS8_FP32'],
      ['Dense_QS8', 'Dense_QS8_FP32'],
      ['AvgPool_QS8', 'AvgPool_QS8_RAW'],
      ['GlobalAvgPool_QS8', 'GlobalAvgPool_QS8_FP32'],
    ].map(([k, variant]) => [variant, (d, i) => tfliteArithmetic(GRID[k]!(d, i))]),
  ),
};
