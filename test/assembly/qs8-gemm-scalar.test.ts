// The scalar build's qs8 GEMM tile (assembly/kernels/gemm/qs8-gemm-6x8c2-scalar.ts) packs three rows into one i64
// per k and reads each row's sum back from an unsigned 21-bit lane (offset by β) per chunk of ≤ 64 k's: every
// product at its extremes (−128·−128 = 2^14 fills the positive side, 127·−128 the negative, mixed signs), K around
// the chunk length, M around the row triple and the 6-row group, N around the 8-column block, byte for byte against
// the TS integer reference on every build.
import { test } from 'uvu';
import { ZPS, pick, q, check, qs8Tools } from './qs8-harness.ts';

const { randInt, QGraph } = qs8Tools(20261203);

test('Dense_QS8 scalar 6x8 tile: extreme products fill the 21-bit lanes, K around the 64-k chunk, M around 3 and 6', async () => {
  let i = 0;
  for (const K of [1, 2, 63, 64, 65, 66, 127, 128, 129, 193])
    for (const M of [1, 2, 3, 4, 5, 6, 7, 9, 13])
      for (const N of [8, 17]) {
        const qg = new QGraph();
        const pattern = i % 4;
        // 0: every product (−128)·(−128) = 2^14; 1: 127·(−128); 2: (−128)·127; 3: random signs at the extremes
        const ext = () => (randInt(0, 1) ? 127 : -128);
        const xv = () => (pattern === 3 ? ext() : pattern === 1 ? 127 : -128);
        const wv = () => (pattern === 3 ? ext() : pattern === 2 ? 127 : -128);
        const x = qg.input('x', [M, K], q(0.01, pick(ZPS, i)));
        const w = qg.weights('w', [N, K], new Array(N).fill(0.01 / K));
        qg.g.tensors.get(w)!.data = Int8Array.from({ length: N * K }, wv);
        const g = qg.node('Dense', [x, w, qg.bias('b', N, 1000)], {}, q(0.02, pick(ZPS, i + 1)));
        await check(`dense M${M} K${K} N${N} pattern ${pattern}`, g, { x: Int8Array.from({ length: M * K }, xv) });
        i++;
      }
});

test('Dense_QS8 scalar 6x8 tile: random int8 over 16 and 24 columns, every row group', async () => {
  let i = 0;
  for (const [M, K, N] of [
    [6, 64, 16],
    [12, 40, 24],
    [125, 64, 16],
    [11, 130, 24],
  ] as const) {
    const qg = new QGraph();
    const x = qg.input('x', [M, K], q(0.05, pick(ZPS, i)));
    const w = qg.weights(
      'w',
      [N, K],
      Array.from({ length: N }, () => 0.02 / Math.sqrt(K)),
    );
    const g = qg.node('Dense', [x, w, qg.bias('b', N, 3000)], {}, q(0.03, pick(ZPS, i + 2)));
    await check(`dense M${M} K${K} N${N} random`, g, {
      x: Int8Array.from({ length: M * K }, () => randInt(-128, 127)),
    });
    i++;
  }
});

test.run();
