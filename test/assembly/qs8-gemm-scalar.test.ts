// The scalar build's qs8 GEMM tile (assembly/kernels/gemm/qs8-gemm-3x4c2-scalar.ts) packs three rows into one i64
// per k and reads each row's sum back from a signed 21-bit lane per chunk of ≤ 62 k's: every product at its extreme
// (±128·−128, 127·127, mixed signs), K around the chunk length, M around the row triple, N around the 8-column block,
// byte for byte against the TS integer reference on every build.
import { test } from 'uvu';
import { ZPS, pick, q, check, qs8Tools } from './qs8-harness.ts';

const { randInt, QGraph } = qs8Tools(20261203);

test('Dense_QS8 scalar 3x4 tile: extreme products fill the 21-bit lanes, K around the 62-k chunk, M around 3', async () => {
  let i = 0;
  for (const K of [1, 2, 61, 62, 63, 64, 123, 124, 125, 187])
    for (const M of [1, 2, 3, 4, 5, 7])
      for (const N of [8, 12, 17]) {
        const qg = new QGraph();
        const pattern = i % 3;
        // 0: every product (−128)·(−128) = 2^14; 1: 127·(−128); 2: random signs at the extremes
        const xv = () => (pattern === 2 ? (randInt(0, 1) ? 127 : -128) : pattern === 0 ? -128 : 127);
        const wv = () => (pattern === 2 ? (randInt(0, 1) ? 127 : -128) : -128);
        const x = qg.input('x', [M, K], q(0.01, pick(ZPS, i)));
        const w = qg.weights('w', [N, K], new Array(N).fill(0.01 / K));
        qg.g.tensors.get(w)!.data = Int8Array.from({ length: N * K }, wv);
        const g = qg.node('Dense', [x, w, qg.bias('b', N, 1000)], {}, q(0.02, pick(ZPS, i + 1)));
        await check(`dense M${M} K${K} N${N} pattern ${pattern}`, g, { x: Int8Array.from({ length: M * K }, xv) });
        i++;
      }
});

test.run();
