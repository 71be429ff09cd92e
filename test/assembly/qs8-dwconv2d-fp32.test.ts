// DepthwiseConv2D_QS8_FP32 (XNNPACK's fp32 requantisation, graphs with TFLite's / onnxruntime's int8 arithmetic) on
// the SIMD build's paths (assembly/kernels/conv/qs8-dwconv2d.ts, qs8-dwconv2d-3x3-run3.ts): requantFp32m, the lower
// clamp in i32, the upper one as i8x16.min_s after the saturating narrowings. The three-pixel loops at strides 1 and 2
// (whole-image copy and the row-by-row walk with padded borders), the generic stride-3 loop, and the per-pixel loops
// (dilation 2; a channel count past the 3×3 path's limit), byte for byte against the TS reference on every build.
// Input and output scales 1, so the f32 scale is the weight scale sW; the first input rows equal zp_in (every tap
// term 0), so those output rows requantise acc = bias exactly: biases chosen as t / sW put t on ties (n + ½, both
// parities), around ±2^22 (where the magic add stops being exact) and far beyond; the other rows are random.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ZPS, pick, q, check, qs8Tools } from './qs8-harness.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { summarizeBundle } from '../../compiler/cli/inspect.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';

const { randI8, QGraph } = qs8Tools(20261204);

const T22 = 2 ** 22;
/** t = f32(acc)·scale targets: ties, the 2^22 edge, far beyond it, the int8 edges, small; the first 18 small (a group
 * of 8 channels among them has |acc|·scale ≤ 2^23 even with random taps: RQ_FP32N). */
const TS = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 127.5, 128.5, -128.5, 255.5, -255.5, 0, 1, -1, 300, -300, 9.5, 10.5];
for (const e of [T22, 2 * T22, 2 ** 26]) for (const d of [-1.5, -1, -0.5, 0, 0.5, 1, 1.5]) TS.push(e + d, -e + d);
// t + 1.5·2^23 below 0 (its f32 bits negative as i32: the lower clamp's i32 max must catch them) and just above
for (const e of [2 ** 24, 2.5 * 2 ** 23, 1.25 * 2 ** 23]) TS.push(e, -e);
const SCALES = [0.5, 0.25, 1, 2 ** -10, 0.75, 3 * 2 ** -12];
/** No clamp, ReLU (q_min = zp), and one that clamps both ends inside int8 (q_max < 127 unless zp is near 127). */
const ACTS: Attrs[] = [{}, { activation: 'relu' }, { activation: 'clip', clip: [-20, 10] }];

interface Dw {
  h: number;
  w: number;
  c: number;
  stride: number;
  dilation?: number;
  padding: 'same' | 'valid';
  sW: number;
  act: Attrs;
  i: number;
}

/** One depthwise 3×3 case: biases from TS (rotated by i, clamped to ±2^30) divided by sW, the first `zpRows` input rows
 * at zp_in. */
async function dwCase({ h, w, c, stride, dilation = 1, padding, sW, act, i }: Dw, zpRows: number): Promise<void> {
  const qg = new QGraph();
  qg.g.int8Arithmetic = 'tflite';
  const zpIn = pick(ZPS, i),
    zpOut = pick(ZPS, i + 2);
  const x = qg.input('x', [1, h, w, c], q(1, zpIn));
  const wt = qg.weights('w', [c, 3, 3, 1], new Array(c).fill(sW));
  const bias = Int32Array.from({ length: c }, (_, o) => {
    const t = TS[(o + 5 * i) % TS.length]!;
    return Math.max(-(2 ** 30), Math.min(2 ** 30, Math.round(t / sW)));
  });
  qg.g.tensors.set('b', { name: 'b', dtype: 'int32', shape: [c], data: bias });
  const g = qg.node(
    'Conv2D',
    [x, wt, 'b'],
    { strides: [stride, stride], dilations: [dilation, dilation], padding, groups: c, ...act },
    q(1, zpOut),
  );
  const label = `dwconv fp32 ${h}x${w}x${c} s${stride}${dilation > 1 ? ` d${dilation}` : ''} ${padding} sW ${sW} ${JSON.stringify(act)} zp ${zpIn}/${zpOut}`;
  const kernels = summarizeBundle(compileGraph(structuredClone(g), { skipPasses: true }).bundle).rows.map(
    (r) => r.kernel,
  );
  assert.equal(kernels, ['DepthwiseConv2D_QS8_FP32'], `${label}: kernel`);
  const xs = randI8(h * w * c);
  xs.fill(zpIn, 0, zpRows * w * c);
  await check(label, g, { x: xs });
}

test('DepthwiseConv2D_QS8_FP32 3x3 stride 1, three-pixel loop: widths 7, 8, 9, 14 (every last step), C 64 and 67, ties and ±2^22, every clamp', async () => {
  let i = 0;
  for (const sW of SCALES)
    for (const act of ACTS) {
      // 'same': OW = w, the whole image copied (OW ≤ 128); rows 0–2 at zp_in: output rows 0 and 1 are acc = bias
      const w = pick([7, 8, 9, 14], i);
      await dwCase({ h: 5, w, c: i % 3 === 2 ? 67 : 64, stride: 1, padding: 'same', sW, act, i }, 3);
      i++;
    }
});

test('DepthwiseConv2D_QS8_FP32 3x3 stride 2, three-pixel loop: OW 6, 7, 8 (whole image) and 19 (row by row, padded borders), ties and ±2^22, every clamp', async () => {
  let i = 0;
  for (const sW of SCALES)
    for (const act of ACTS) {
      // rows 0–3 at zp_in: output rows 0 and 1 are acc = bias
      const w = pick([13, 14, 15, 37], i);
      await dwCase({ h: 7, w, c: i % 3 === 1 ? 67 : 64, stride: 2, padding: i % 2 ? 'valid' : 'same', sW, act, i }, 4);
      i++;
    }
});

test('DepthwiseConv2D_QS8_FP32 3x3 stride 3 (one-pixel group loop), dilation 2 and C 4104 (per-pixel loops), every clamp', async () => {
  let i = 0;
  for (const sW of [0.5, 2 ** -10, 0.75])
    for (const act of ACTS) {
      await dwCase({ h: 7, w: 11, c: 64, stride: 3, padding: 'same', sW, act, i }, 2);
      await dwCase({ h: 6, w: 7, c: 67, stride: 1, dilation: 2, padding: 'same', sW, act, i: i + 1 }, 2);
      i++;
    }
  // more channels than the 3×3 path holds (DW_MAX_C 4096): its interior pixels run the unrolled per-pixel loop
  await dwCase({ h: 3, w: 5, c: 4104, stride: 1, padding: 'same', sW: 0.5, act: ACTS[2]!, i: 3 }, 0);
  await dwCase({ h: 4, w: 5, c: 4104, stride: 1, padding: 'valid', sW: 0.25, act: ACTS[1]!, i: 1 }, 2);
});

test.run();
