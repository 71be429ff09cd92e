// The one-row Dense on i16 weights widened at load (assembly/kernels/gemm/qs8-gemm-1x16c2w16-wasmsimd.ts, simd
// builds): K odd and even around its 2-k-pair step and the panel's 8-byte widening, N around its 16-column blocks, the
// odd 8-column block and the 2×2 tile's tail, both requantisations (Dense_QS8: one shift shared or per channel;
// Dense_QS8_FP32), clamped or not; and steps past QS8_W16_STEP_BYTES (256 KiB of i16), which stay on the int8 tiles.
// Every build and mode byte-identical, against the TS reference.
import { test } from 'uvu';
import { ZPS, pick, q, check, qs8Tools } from './qs8-harness.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';

const { randI8, QGraph } = qs8Tools(20261205);

const ACTS: Attrs[] = [{}, { activation: 'relu' }, { activation: 'clip', clip: [-0.5, 0.25] }];

async function dense(i: number, K: number, N: number, tflite: boolean, label: string): Promise<void> {
  const qg = new QGraph();
  if (tflite) qg.g.int8Arithmetic = 'tflite';
  const zpIn = pick(ZPS, i),
    zpOut = pick(ZPS, i + 2);
  const x = qg.input('x', [1, K], q(0.02, zpIn));
  // every other case spreads the channel scales by 2^16: per-channel shifts instead of one shared shift
  const scales = Array.from({ length: N }, (_, c) => (i % 2 ? 1e-6 * 16 ** (c % 5) : 2e-5 * (1 + (c % 5))));
  const w = qg.weights('w', [N, K], scales);
  const g = qg.node('Dense', [x, w, qg.bias('b', N, 40000)], pick(ACTS, i), q(0.002, zpOut));
  await check(`${label} ${tflite ? 'Dense_QS8_FP32' : 'Dense_QS8'} M1 K${K} N${N}`, g, { x: randI8(K) });
}

test('one-row Dense on i16 weights: K around the 2-k-pair step, N around the 16- and 8-column blocks', async () => {
  let i = 0;
  for (const tflite of [false, true])
    for (const K of [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 128, 131, 640])
      for (const N of [1, 7, 8, 9, 15, 16, 17, 24, 31, 40, 128, 131]) {
        await dense(i, K, N, tflite, 'w16');
        i++;
      }
});

test('one-row Dense past 256 KiB of i16 weights stays on the int8 tiles', async () => {
  // 1024·128·2 = 256 KiB exactly (widened), 1026·128·2 and 1024·136·2 beyond it (int8)
  let i = 0;
  for (const [K, N] of [
    [1024, 128],
    [1026, 128],
    [1024, 136],
  ] as [number, number][])
    for (const tflite of [false, true]) await dense(i++, K, N, tflite, 'budget');
});

test.run();
