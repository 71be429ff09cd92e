// XNNPACK's fp32 requantisation on 4 lanes (the *_QS8_FP32 kernels' epilogue; the GEMM tiles' requantFp32m: rounding
// by adding 1.5·2^23, the lower clamp on the offset bits, the upper one after the saturating narrowings) against the TS
// reference, byte for byte, at its edges (qs8-harness.ts FP32_EDGE_TS): ties (t = n + ½, both parities), |t| around
// 2^22 where the addition stops being exact, |t| far beyond, clamps inside int8 (ReLU, a clip narrower on both sides)
// at every zero point, per-channel scales that are powers of two (t exact) and not. A Dense_QS8_FP32 row whose input
// equals its zero point has acc = bias exactly, so the biases pick t; every other row is random. M picks the tiles
// (qs8-gemm.ts): 1 the i16-weight GEMV (simd) or the 1×16c4 tile (relaxed); 3 the 4×8 tile with a repeated row; 5 and
// 6 the 4×8 tile then the one-row 1×16c2 / 1×8c2 tiles (relaxed: 1×16c4, the split 2×8c4); 12 the 4×8 tile on
// widened weights. N (61..69) gives 16-column pairs, an odd 8-column block or none, and the 2×2 tile's columns.
import { test } from 'uvu';
import { ZPS, pick, q, check, qs8Tools, fp32EdgeBiases } from './qs8-harness.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';

const { randI8, QGraph } = qs8Tools(20261203);

test('Dense_QS8_FP32 requantisation on every GEMM tile: ties, |t| around 2^22 and beyond, every zero point and clamp', async () => {
  // per-channel f32 scale sW (input and output scales 1): acc = round(t / sW) when the row's input is its zero point
  const SCALES = [0.5, 0.25, 1, 2 ** -10, 0.75, 1.5, 3 * 2 ** -12];
  let i = 0;
  for (const M of [3, 1, 5, 6, 12])
    for (const sW of SCALES)
      for (const act of [{}, { activation: 'relu' }, { activation: 'clip', clip: [-20, 10] }] as Attrs[]) {
        const qg = new QGraph();
        qg.g.int8Arithmetic = 'tflite';
        const zpIn = pick(ZPS, i),
          zpOut = pick(ZPS, i + 1);
        const N = 61 + (i % 9);
        const K = 16 + (i % 3);
        const x = qg.input('x', [M, K], q(1, zpIn));
        const w = qg.weights(
          'w',
          [N, K],
          Array.from({ length: N }, () => sW),
        );
        qg.g.tensors.set('b', { name: 'b', dtype: 'int32', shape: [N], data: fp32EdgeBiases(N, sW, 8 * i) });
        const g = qg.node('Dense', [x, w, 'b'], act, q(1, zpOut));
        // even rows at the zero point (acc = bias), odd rows random (acc = bias + Σ(x − zp)·w)
        const xs = randI8(M * K);
        for (let m = 0; m < M; m += 2) xs.fill(zpIn, m * K, (m + 1) * K);
        await check(`fp32 requant M${M} sW ${sW} ${JSON.stringify(act)} zp ${zpIn}/${zpOut} N${N} K${K}`, g, { x: xs });
        i++;
      }
});

test.run();
