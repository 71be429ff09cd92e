// XNNPACK's fp32 requantisation on 4 lanes (qs8-requant.ts requantFp32v, the *_QS8_FP32 kernels' epilogue: rounding
// by adding 1.5·2^23, clamping on the offset values) against the TS reference, byte for byte, at its edges: ties
// (t = n + ½, both parities), |t| around 2^22 where the addition stops being exact, |t| far beyond, the clamps at
// every zero point, per-channel scales that are powers of two (t exact) and not. A Dense_QS8_FP32 row whose input
// equals its zero point has acc = bias exactly, so the biases pick t; the other rows are random.
import { test } from 'uvu';
import { ZPS, pick, q, check, qs8Tools } from './qs8-harness.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';

const { randI8, QGraph } = qs8Tools(20261203);

const T22 = 2 ** 22;
/** t values (before the scale divides them back out): ties, the 2^22 edge, far beyond it, small. */
const TS = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 127.5, 128.5, -128.5, 255.5, -255.5, 0, 1, -1, 300, -300];
for (const e of [T22, 2 * T22, 2 ** 26]) for (const d of [-1.5, -1, -0.5, 0, 0.5, 1, 1.5]) TS.push(e + d, -e + d);

test('Dense_QS8_FP32 requantisation: ties, |t| around 2^22 and beyond, every zero point and clamp', async () => {
  // per-channel f32 scale sW (input and output scales 1): acc = round(t / sW) when the row's input is its zero point
  const SCALES = [0.5, 0.25, 1, 2 ** -10, 0.75, 1.5, 3 * 2 ** -12];
  let i = 0;
  for (const sW of SCALES)
    for (const act of [{}, { activation: 'relu' }, { activation: 'clip', clip: [-20, 10] }] as Attrs[]) {
      const qg = new QGraph();
      qg.g.int8Arithmetic = 'tflite';
      const zpIn = pick(ZPS, i),
        zpOut = pick(ZPS, i + 1);
      // N columns: the TS list (clamped to i32 accumulators) then random, over the SIMD tiles' 8 / 16 columns
      const N = TS.length + 3 + (i % 9);
      const K = 16 + (i % 3);
      const x = qg.input('x', [3, K], q(1, zpIn));
      const w = qg.weights(
        'w',
        [N, K],
        Array.from({ length: N }, () => sW),
      );
      const bias = Int32Array.from({ length: N }, (_, c) => {
        const t = c < TS.length ? TS[c]! : ((c * 7919) % 600) - 300;
        return Math.max(-(2 ** 30), Math.min(2 ** 30, Math.round(t / sW)));
      });
      qg.g.tensors.set('b', { name: 'b', dtype: 'int32', shape: [N], data: bias });
      const g = qg.node('Dense', [x, w, 'b'], act, q(1, zpOut));
      // row 0 at the zero point (acc = bias), rows 1–2 random (acc = bias + Σ(x − zp)·w)
      const xs = randI8(3 * K);
      xs.fill(zpIn, 0, K);
      await check(`fp32 requant sW ${sW} ${JSON.stringify(act)} zp ${zpIn}/${zpOut} N${N} K${K}`, g, { x: xs });
      i++;
    }
});

test.run();
