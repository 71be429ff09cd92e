// The 4×8c2 SIMD GEMM tile's row blocks (assembly/kernels/gemm/qs8-gemm-4x8c2-wasmsimd.ts): for Kp ≤ 1024 and M > 8,
// rows are widened to i16 in blocks of 4·floor(2^17 / (8·Kp)) rows, and every 8-column block's weights are widened to
// i16 once per row block of at least 3 tiles (a smaller last block runs on the i8 weights); otherwise one 4-row tile
// per block on the i8 weights. Dense graphs with K at, below and above the widening limit (and past the 2^17-byte
// block and the 4096 static one-row panel, which take heap blocks), M at, below and above multiples of the block's
// rows and with last blocks of 1, 2 and 3 tiles, N over one and two 8-column blocks with a scalar tail; 3×3 convs
// whose im2col rows let widen4 read its last 8 columns whole (K mod 8 ≠ 0); run on every build and mode
// (byte-identical) against the TS reference. And the E40 path (one shift ≤ 40: weights widened times 2^(40 − s) in
// every row block, so in a last one of 1, 2 or 3 tiles too). And the rows past the last whole tile (M mod 4 = 1 or 2,
// on qs8-gemm-1x16c2-wasmsimd.ts) after row blocks with and without the touch-ahead loop, with every epilogue.
import { test } from 'uvu';
import { ZPS, pick, q, check, qs8Tools } from './qs8-harness.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';

const { randI8, QGraph } = qs8Tools(20261204);

/** The kernel's constants: ROW_BLOCK_BYTES = 2^17, WIDE_MAX_K = 1024. */
const kp = (K: number) => (K + 1) & ~1;
const widens = (K: number) => kp(K) <= 1024;
const rowsPerBlock = (K: number) => (widens(K) ? 4 * Math.max(1, Math.floor((1 << 17) / (8 * kp(K)))) : 4);

const ACTS: Attrs[] = [{ activation: 'none' }, { activation: 'relu' }, { activation: 'clip', clip: [-0.5, 0.25] }];

test('Dense_QS8: M across the 4×8c2 tile row blocks, K across the widening limit and past the heap limits', async () => {
  let i = 0;
  for (const K of [96, 1000, 1024, 1025, 4101, 16385]) {
    const rows = rowsPerBlock(K);
    // M mod 4 = 3 runs every row on this tile (the last tile repeats its last row), 0 with 1–2 more on the 1-row tile
    const Ms = widens(K) ? [3, 8, 11, rows - 1, rows, rows + 3, rows + 8, rows + 11, 2 * rows + 3] : [3, 11, 27];
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

test('Dense_QS8 on the E40 path (one shift 36 / 38 / 40): last row blocks of 1, 2, 3 tiles and of whole blocks', async () => {
  let i = 0;
  for (const K of [96, 1000, 1024]) {
    const rows = rowsPerBlock(K);
    for (const M of [rows - 1, rows, rows + 3, rows + 8, rows + 11, 2 * rows + 3]) {
      const qg = new QGraph();
      const zpIn = pick(ZPS, i),
        zpOut = pick(ZPS, i + 2);
      const s = pick([36, 38, 40], i);
      // input·weight / output scale ratio 1.5·2^(30 − s) gives shift s; |bias − zp_in·Σw| stays far below the limit
      const sW = (1.5 * 2 ** (30 - s) * 0.002) / 0.02;
      const w = qg.weights(
        'w',
        [17, K],
        Array.from({ length: 17 }, () => sW),
      );
      const g = qg.node(
        'Dense',
        [qg.input('x', [M, K], q(0.02, zpIn)), w, qg.bias('b', 17, 40000)],
        pick(ACTS, i),
        q(0.002, zpOut),
      );
      await check(`dense E40 s${s} M${M} K${K} N17 (${rows} rows per block)`, g, { x: randI8(M * K) });
      i++;
    }
  }
});

type Epi = 'general' | 'high' | 'e40' | 'fp32';
/** One Dense case on epilogue family `epi` (as in qs8-gemm-smallk.test.ts); `act` none: the unclamped epilogues. */
async function dense(M: number, K: number, N: number, epi: Epi, act: Attrs, i: number): Promise<void> {
  const qg = new QGraph();
  const zpIn = pick(ZPS, i),
    zpOut = pick(ZPS, i + 2);
  const x = qg.input('x', [M, K], q(0.02, zpIn));
  let scales = Array.from({ length: N }, (_, c) => 1e-6 * 16 ** (c % 5));
  if (epi === 'high' || epi === 'e40') {
    // input·weight / output scale ratio 1.5·2^(30 − s) gives shift s
    const s = epi === 'high' ? pick([41, 44, 50, 54], i) : pick([36, 38, 40], i);
    scales = Array.from({ length: N }, () => (1.5 * 2 ** (30 - s) * 0.002) / 0.02);
  }
  const g = qg.node('Dense', [x, qg.weights('w', [N, K], scales), qg.bias('b', N, 4000)], act, q(0.002, zpOut));
  if (epi === 'fp32') g.int8Arithmetic = pick(['onnxruntime', 'tflite'] as const, i >> 1);
  await check(`dense ${epi} ${JSON.stringify(act)} M${M} K${K} N${N} zp ${zpIn}/${zpOut}`, g, { x: randI8(M * K) });
}

test('Dense_QS8(_FP32) rows past the last tile, M mod 4 = 1, 2: every epilogue, after any last row block', async () => {
  let i = 0;
  // K 96: rows4 without the touch loop (Kp ≥ 128 has it); 160 and 960: MobileNetV2's 7² expand and project
  for (const K of [96, 160, 960]) {
    const rows = rowsPerBlock(K);
    // M 13, 14, 49 and 2·rows + 13: after a widened last row block; rows + 1, rows + 5, rows + 6: after a whole row
    // block, or a last one of 1 tile (widened only for E40)
    for (const M of [13, 14, 49, rows + 1, rows + 5, rows + 6, 2 * rows + 13])
      for (const epi of ['general', 'high', 'e40', 'fp32'] as Epi[])
        for (const act of [ACTS[0]!, pick(ACTS.slice(1), i)]) {
          await dense(M, K, pick([8, 17, 24], i), epi, act, i);
          i++;
        }
  }
});

// widen4's last 8 columns read whole (K mod 8 ≠ 0, rows lda ≥ K rounded up to 8 apart, every row of the tile but the
// matrix's last): im2col rows of 3×3 convs, K = 9, 27, 45 in rows of 16, 32, 48 bytes; the k pairs past Kp run into
// the next tile (widened after it) and, for a row block's last tile, the block's slack. M crosses one row block
// (K 9: 6552 rows, K 27: 2340, K 45: 1424) with M mod 4 = 0..3, and a 6-pixel image (one tile per block).
test('Conv2D_QS8 3×3 im2col rows across the 4×8c2 row blocks, K mod 8 ≠ 0: last widening step read whole', async () => {
  const cases: [number, number, number][] = [
    [1, 81, 81],
    [1, 80, 82],
    [3, 49, 48],
    [3, 47, 50],
    [3, 2, 3],
    [5, 38, 38],
    [5, 37, 39],
    [5, 39, 37],
  ];
  let i = 0;
  for (const [ci, h, w] of cases) {
    const qg = new QGraph();
    const zpIn = pick(ZPS, i + 1);
    const x = qg.input('x', [1, h, w, ci], q(0.03, zpIn));
    const co = i % 2 ? 17 : 32;
    const wt = qg.weights('w', [co, 3, 3, ci], new Array(co).fill(0.004));
    qg.node(
      'Conv2D',
      [x, wt, qg.bias('b', co, 3000)],
      { padding: 'same', ...pick(ACTS, i) },
      q(0.05, pick(ZPS, i + 3)),
    );
    await check(`conv ${h}x${w}x${ci} k3x3 same → ${co} (K ${9 * ci}, M ${h * w})`, qg.g, { x: randI8(h * w * ci) });
    i++;
  }
});

test.run();
