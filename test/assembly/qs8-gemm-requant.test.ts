// qs8 GEMM (4x8c2 SIMD, 2x2 scalar) requantisation paths: one shift shared by every channel at 31 / 32 and above 54 (vector path of
// requant4), 33..54 (the GEMM's 8-lane path on the high words in i32), and per-channel shifts; M, N around the
// 4x8 tile and small K (the 1x1 convs of MobileNetV2), byte for byte against the TS integer reference; and M mod 4 = 3,
// where the 4x8 tile's rows past M store the last row's bytes over it, in both requantisations.
import { test } from 'uvu';
import { ZPS, pick, q, check, qs8Tools } from './qs8-harness.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';

const { randI8, QGraph } = qs8Tools(20261129);

test('Dense_QS8 GEMM requantisation: shared shift 31 / 32 / 33 / 41 / 54 / 55, per-channel shifts; M, N around the tile; K 16..33', async () => {
  let i = 0;
  // input·weight / output scale ratios: [0.5, 1) → shift 31, [0.25, 0.5) → 32, [0.125, 0.25) → 33, ~2^-10 → 41,
  // [2^-24, 2^-23) → 54 (the 8-lane path's last shift), [2^-25, 2^-24) → 55
  for (const ratio of [0.75, 0.3, 0.2, 0.0009, 1.5 * 2 ** -24, 1.5 * 2 ** -25, -1])
    for (const [M, K, N] of [
      [4, 16, 8],
      [3, 16, 16],
      [5, 24, 9],
      [9, 32, 24],
      [17, 17, 15],
      [8, 33, 40],
    ] as [number, number, number][]) {
      const qg = new QGraph();
      const zpIn = pick(ZPS, i),
        zpOut = pick(ZPS, i + 2);
      const sIn = 0.02,
        sW = 0.004;
      const x = qg.input('x', [M, K], q(sIn, zpIn));
      const w = qg.weights(
        'w',
        [N, K],
        Array.from({ length: N }, (_, c) => (ratio < 0 ? 1e-5 * 16 ** (c % 5) : sW)),
      );
      // tiny ratios need accumulators near 2^30 (a large bias) to give outputs beyond the zero point
      const tiny = ratio > 0 && ratio < 2 ** -20;
      const b = i % 2 && !tiny ? '' : qg.bias('b', N, tiny ? 2 ** 30 : 3000);
      const sOut = ratio < 0 ? 0.05 : (sIn * sW) / ratio;
      const g = qg.node('Dense', b ? [x, w, b] : [x, w], i % 3 === 1 ? { activation: 'relu' } : {}, q(sOut, zpOut));
      await check(`dense ratio ${ratio} M${M} K${K} N${N} zp ${zpIn}/${zpOut}`, g, { x: randI8(M * K) });
      i++;
    }
});

test('Dense_QS8 and Dense_QS8_FP32 on the 4x8 tile: M mod 4 = 3 (rows past M store over the last row), K 8..40, N 8..24; shared and per-channel shifts, clamped or not', async () => {
  let i = 0;
  for (const tflite of [false, true])
    for (const [M, K, N] of [
      [7, 8, 8],
      [11, 27, 16],
      [3, 40, 24],
      [15, 13, 9],
      [8, 16, 24],
    ] as [number, number, number][])
      for (const perChannel of [false, true]) {
        const qg = new QGraph();
        if (tflite) qg.g.int8Arithmetic = 'tflite';
        const zpIn = pick(ZPS, i),
          zpOut = pick(ZPS, i + 1);
        const x = qg.input('x', [M, K], q(0.02, zpIn));
        // per-channel scales 16^c apart give each channel its own shift; one scale, one shift (the 8-lane path)
        const w = qg.weights(
          'w',
          [N, K],
          Array.from({ length: N }, (_, c) => (perChannel ? 1e-5 * 16 ** (c % 5) : 0.004)),
        );
        const acts: Attrs[] = [{}, { activation: 'relu' }, { activation: 'clip', clip: [-0.5, 0.25] }];
        const g = qg.node('Dense', [x, w, qg.bias('b', N, 3000)], acts[i % 3]!, q(0.05, zpOut));
        await check(
          `dense ${tflite ? 'fp32 ' : ''}M${M} K${K} N${N} ${perChannel ? 'per-channel' : 'shared'} zp ${zpIn}/${zpOut}`,
          g,
          {
            x: randI8(M * K),
          },
        );
        i++;
      }
});

test.run();
