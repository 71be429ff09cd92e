// The 4×8c2 SIMD GEMM tile's row blocks (assembly/kernels/gemm/qs8-gemm-4x8c2-wasmsimd.ts): rows are widened to i16 in
// blocks of 4·floor(2^17 / (8·Kp)) rows (at least one 4-row tile), and every 8-column block's weights are widened once
// per row block. Dense graphs with K chosen so a block holds 3, 2 and 1 tiles (and K past the 2^17-byte block and the
// 4096 static weight width, which take heap blocks), M at, below and above multiples of the block's rows, N over one
// and two 8-column blocks with a scalar tail; run on every build and mode (byte-identical) against the TS reference.
import { test } from 'uvu';
import { ZPS, pick, q, check, qs8Tools } from './qs8-harness.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';

const { randI8, QGraph } = qs8Tools(20261204);

/** The kernel's row block: ROW_BLOCK_BYTES = 2^17 bytes of 4-row tiles of Kp·8 bytes. */
const tilesPerBlock = (K: number) => Math.max(1, Math.floor((1 << 17) / (8 * ((K + 1) & ~1))));

const ACTS: Attrs[] = [{ activation: 'none' }, { activation: 'relu' }, { activation: 'clip', clip: [-0.5, 0.25] }];

test('Dense_QS8: M across the 4×8c2 tile row blocks, K from 3 tiles per block to past the heap limits', async () => {
  let i = 0;
  for (const K of [4101, 5461, 8193, 16385]) {
    const rows = 4 * tilesPerBlock(K);
    // M mod 4 = 3 runs every row on this tile (the last tile repeats its last row), 0 with 1–2 more on the 1-row tile
    const Ms = [...new Set([3, rows - 1, rows, rows + 3, 2 * rows + 3, 2 * rows + 1])].filter((m) => m > 0);
    for (const M of Ms)
      for (const N of [8, 17]) {
        const qg = new QGraph();
        const zpIn = pick(ZPS, i),
          zpOut = pick(ZPS, i + 2);
        const x = qg.input('x', [M, K], q(0.02, zpIn));
        // every other case spreads the channel scales by 2^16: per-channel shifts instead of one shared shift
        const scales = Array.from({ length: N }, (_, c) => (i % 2 ? 1e-6 * 16 ** (c % 5) : 2e-5 * (1 + (c % 5))));
        const w = qg.weights('w', [N, K], scales);
        const g = qg.node('Dense', [x, w, qg.bias('b', N, 40000)], pick(ACTS, i), q(0.002, zpOut));
        await check(`dense M${M} K${K} N${N} (${rows} rows per block)`, g, { x: randI8(M * K) });
        i++;
      }
  }
});

test.run();
