// The scalar build's depthwise plane kernel (assembly/kernels/conv/qs8-dwconv2d-scalar.ts): the 3×3 stride-1 pair
// loop (two pixels per i64 multiply, the bias in both halves, zp_out in the rounding constant) around its limits:
// output widths 1..6 (odd widths end on a single pixel), padding wider than the image, biases on both sides of the
// |b| < 2^30 bound (outside it a channel takes the general window loop) and at the compiler's i32 limit, byte for byte against
// the TS integer reference on every build (qs8-dwconv2d.test.ts covers shifts and zero points at their extremes).
import { test } from 'uvu';
import { ZPS, pick, q, check, qs8Tools } from './qs8-harness.ts';

const { randInt, randI8, QGraph } = qs8Tools(20261203);
/** The largest |bias| the compiler takes for 9 taps (|bias| + 9·256·127 < 2^31, compiler/lower/int8.ts). */
const BIG = 2 ** 31 - 9 * 256 * 127 - 16;

test('DepthwiseConv2D_QS8 3x3 scalar pairs: widths 1..6, padding wider than the image, biases around ±2^30', async () => {
  let i = 0;
  for (const wd of [1, 2, 3, 4, 5, 6])
    for (const pad of ['same', 'valid', [1, 3, 2, 4]] as const) {
      if (pad === 'valid' && wd < 3) continue;
      const qg = new QGraph();
      const c = 5 + (i % 4),
        h = 1 + (i % 3) + (pad === 'valid' ? 2 : 0);
      const x = qg.input('x', [1, h, wd, c], q(0.03, pick(ZPS, i)));
      const w = qg.weights('w', [c, 3, 3, 1], new Array(c).fill(0.005));
      const b = qg.bias('b', c, 1000);
      // channel k: bias ±(2^30 + d) with d across the (zp_in + 128)·Σw shift of b (|·| ≤ 9·255·128): pairs or the
      // general loop; ±BIG: the general loop at the compiler's i32 limit; or small
      const bias = qg.g.tensors.get(b)!.data as Int32Array;
      for (let k = 0; k < c; k++) {
        const sign = k % 2 ? -1 : 1;
        if (k % 3 === 0) bias[k] = sign * (2 ** 30 + randInt(-300000, 300000));
        if (k % 3 === 1) bias[k] = sign * BIG;
      }
      const g = qg.node(
        'Conv2D',
        [x, w, b],
        { strides: [1, 1], padding: pad === 'same' || pad === 'valid' ? pad : [...pad], groups: c },
        // multiplier 1.5e-4 / 1875 = 8e-8: shift 54 (the pair loop's largest), b ≈ 2^30 lands near ±86
        q(1875, pick(ZPS, i + 2)),
      );
      await check(`dwconv 3x3 1x${h}x${wd}x${c} pad ${JSON.stringify(pad)}`, g, { x: randI8(h * wd * c) });
      i++;
    }
});

test.run();
