// The 4×8c2 SIMD GEMM tile's small-K loop order (assembly/kernels/gemm/qs8-gemm-4x8c2-smallk-wasmsimd.ts): for
// Kp ≤ 32, M > 8 and N8·(2·Kp + 4) ≤ 16416 bytes every 8-column block's weights are widened once per call and each
// 4-row tile runs over all of them. Dense graphs with K 1..40 (odd K: a zero k column; 33..40 stay on rows4), N 8..200
// (one block to 25, a scalar tail when N mod 8 ≠ 0; 248 with K 32 just past the buffer), M > 8 with M mod 4 = 1, 2
// (the last rows on the 1-row tiles) and 3 (a last tile with repeated rows), and every epilogue: fixed point with
// per-channel shifts (EpiGeneral), one shared shift 41..54 (EpiHigh, EpiHighClamp), one shift 36..40 with small
// biases (EpiE40, EpiE40Clamp: weights and biases scaled), XNNPACK's fp32 without a clamp (EpiFp32N) and with one
// (the general fp32 epilogue); and EpiFp32L (the fp32 rule unclamped with an even output zero point and small lanes:
// the low 16 bits of the magic sum), with requantisation scales 2^−6..2^−11 (half-way ties in many lanes, which the
// zero point folded into the magic must round to even), odd zero points and N8 past its buffer limit beside it.
// Every build and mode (byte-identical) against the TS reference.
import { test } from 'uvu';
import { ZPS, pick, q, check, qs8Tools } from './qs8-harness.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';

const { randI8, QGraph } = qs8Tools(20261205);

const ACTS: Attrs[] = [{ activation: 'none' }, { activation: 'relu' }, { activation: 'clip', clip: [-0.5, 0.25] }];
const KS = [1, 2, 3, 5, 8, 9, 15, 16, 17, 23, 24, 27, 31, 32, 33, 40];
const NS = [8, 16, 17, 61, 96, 144, 192, 200];
const MS = [9, 11, 13, 14, 27, 45];

type Epi = 'general' | 'high' | 'e40' | 'fp32';
/** One Dense case: epilogue family `epi`, activation i mod 3 (none: the unclamped epilogues, else the clamped ones). */
async function dense(M: number, K: number, N: number, epi: Epi, i: number): Promise<void> {
  const qg = new QGraph();
  const zpIn = pick(ZPS, i),
    zpOut = pick(ZPS, i + 2);
  const x = qg.input('x', [M, K], q(0.02, zpIn));
  let scales: number[];
  let biasMag = 40000;
  if (epi === 'general' || epi === 'fp32') scales = Array.from({ length: N }, (_, c) => 1e-6 * 16 ** (c % 5));
  else {
    // input·weight / output scale ratio 1.5·2^(30 − s) gives shift s (as in qs8-gemm-row-blocks.test.ts)
    const s = epi === 'high' ? pick([41, 44, 50, 54], i) : pick([36, 38, 40], i);
    scales = Array.from({ length: N }, () => (1.5 * 2 ** (30 - s) * 0.002) / 0.02);
    if (epi === 'e40') biasMag = 4000;
  }
  const w = qg.weights('w', [N, K], scales);
  const g = qg.node('Dense', [x, w, qg.bias('b', N, biasMag)], pick(ACTS, i), q(0.002, zpOut));
  if (epi === 'fp32') g.int8Arithmetic = pick(['onnxruntime', 'tflite'] as const, i >> 1);
  await check(`dense ${epi} ${JSON.stringify(pick(ACTS, i))} M${M} K${K} N${N} zp ${zpIn}/${zpOut}`, g, {
    x: randI8(M * K),
  });
}

test('Dense_QS8(_FP32) on the small-K loop order: K 1..40, N 8..200, M mod 4 = 1..3, every epilogue', async () => {
  let i = 0;
  for (const K of KS)
    for (const epi of ['general', 'high', 'e40', 'fp32'] as Epi[]) {
      // per K and epilogue two (M, N) pairs, each with every activation over the K loop
      for (let j = 0; j < 2; j++) {
        await dense(pick(MS, i + j), K, pick(NS, i * 3 + j), epi, i + j);
        i++;
      }
    }
});

/** One onnxruntime-arithmetic Dense whose requantisation scale is 2^−(6 + c mod 6) per column c (input scale 0.5,
 *  output 1): EpiFp32L's bound holds for every folded bias here when the output zero point is even, without clamp. */
async function denseLows(M: number, K: number, N: number, zpOut: number, act: Attrs, i: number): Promise<void> {
  const qg = new QGraph();
  const zpIn = pick(ZPS, i);
  const x = qg.input('x', [M, K], q(0.5, zpIn));
  const w = qg.weights(
    'w',
    [N, K],
    Array.from({ length: N }, (_, c) => 2 * 2 ** -(6 + (c % 6))),
  );
  const g = qg.node('Dense', [x, w, qg.bias('b', N, 40000)], act, q(1, zpOut));
  g.int8Arithmetic = 'onnxruntime';
  await check(`dense fp32 lows ${JSON.stringify(act)} M${M} K${K} N${N} zp ${zpIn}/${zpOut}`, g, { x: randI8(M * K) });
}

test('Dense_QS8_FP32 EpiFp32L: K 1..40, M mod 4 = 1..3, N mod 8 ≠ 0, even and odd zero points, ties', async () => {
  let i = 0;
  for (const K of KS)
    for (const zpOut of [-128, 0, 64, -37, 127]) {
      // none, and relu (with zero point −128 no clamp: MobileNetV2's ReLU6 layers)
      await denseLows(pick(MS, i), K, pick(NS, i * 3), zpOut, pick(ACTS, i % 2), i);
      i++;
    }
});

test('Dense_QS8_FP32 EpiFp32L at the buffer limit: N8 224 fits at K 32 (Kp·2 + 8 B a column), 232 not', async () => {
  let i = 0;
  for (const N of [224, 231, 232, 240]) await denseLows(27, 32, N, -128, { activation: 'none' }, i++);
});

test('Dense_QS8 small K at the buffer limit: N8 = 240 fits at K 32 (Kp·2 + 4 = 68 bytes per column), 248 does not', async () => {
  let i = 0;
  for (const N of [240, 247, 248, 255])
    for (const epi of ['fp32', 'e40'] as Epi[]) {
      await dense(27, 32, N, epi, i);
      i++;
    }
});

test.run();
