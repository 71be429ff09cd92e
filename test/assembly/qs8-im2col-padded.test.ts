// Conv2D_QS8 im2col of few-channel convs with taps outside the image (assembly/kernels/conv/qs8-conv2d-im2col.ts
// im2colPadded: the input window copied once with zp_in around it): 1..5 channels (5 takes the per-tap walk), KWS's
// 10×4 stride-2 first conv, 3×3 / 1×7 / 5×2 kernels, strides 1–3, dilation 2, uneven padding, batch 2, both
// requantisations; and a window past the 1 MiB padded block (the per-tap walk again). Byte for byte against the TS
// integer reference on every build.
import { test } from 'uvu';
import { ZPS, pick, q, check, qs8Tools } from './qs8-harness.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';

const { randI8, QGraph } = qs8Tools(20261204);

interface Shape {
  n: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  attrs: Attrs;
}

const SHAPES: Shape[] = [
  { n: 1, h: 49, w: 10, kh: 10, kw: 4, attrs: { strides: [2, 2], padding: 'same' } },
  { n: 2, h: 9, w: 7, kh: 3, kw: 3, attrs: { strides: [2, 2], padding: 'same' } },
  { n: 1, h: 6, w: 5, kh: 3, kw: 3, attrs: { padding: [2, 0, 1, 1] } },
  { n: 1, h: 8, w: 9, kh: 1, kw: 7, attrs: { padding: 'same' } },
  { n: 2, h: 7, w: 6, kh: 5, kw: 2, attrs: { strides: [3, 1], padding: [0, 1, 2, 0] } },
  { n: 1, h: 9, w: 8, kh: 3, kw: 3, attrs: { dilations: [2, 1], padding: 'same' } },
];

test('Conv2D_QS8 few channels with padded taps: every shape × 1..5 channels, fixed-point and fp32 requantisation', async () => {
  let i = 0;
  for (const s of SHAPES)
    for (let ci = 1; ci <= 5; ci++) {
      const qg = new QGraph();
      if (i % 2) qg.g.int8Arithmetic = 'tflite';
      const co = 8 + (i % 3) * 5;
      const zpIn = pick(ZPS, i);
      const x = qg.input('x', [s.n, s.h, s.w, ci], q(0.04, zpIn));
      const w = qg.weights('w', [co, s.kh, s.kw, ci], new Array(co).fill(0.01));
      qg.node(
        'Conv2D',
        [x, w, qg.bias('b', co, 3000)],
        { ...s.attrs, ...(i % 3 === 1 ? { activation: 'relu' } : {}) },
        q(0.05, pick(ZPS, i + 2)),
      );
      await check(`conv ${s.n}x${s.h}x${s.w}x${ci} k${s.kh}x${s.kw} ${JSON.stringify(s.attrs)} zp ${zpIn}`, qg.g, {
        x: randI8(s.n * s.h * s.w * ci),
      });
      i++;
    }
});

test('Conv2D_QS8 4 channels whose padded window passes the 1 MiB block takes the per-tap walk', async () => {
  const qg = new QGraph();
  // (259·2 + 3)² · 4 bytes = 1 085 764 > 2^20
  const x = qg.input('x', [1, 520, 520, 4], q(0.04, -37));
  const w = qg.weights('w', [8, 3, 3, 4], new Array(8).fill(0.01));
  qg.node('Conv2D', [x, w, qg.bias('b', 8, 3000)], { strides: [2, 2], padding: 'same' }, q(0.05, 5));
  await check('conv 520x520x4 s2', qg.g, { x: randI8(520 * 520 * 4) });
});

test.run();
