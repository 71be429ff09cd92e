// Cross-step touching (assembly/kernels/gemm/qs8-touch-ahead.ts): a 1×1 conv on the 4×8 tile's Touch path (Kp ≥ 128,
// 7² rows) followed by a Dense, through GlobalAvgPool (MobileNetV2's tail) or a Reshape, and a batch Dense followed by
// a Dense. The Dense weights are the region the conv's tiles touch: one word (8 bytes), sizes short of a line and of
// the touch stride, just past it (the last word read or not), the i16 copy of a small one-row Dense (the region is
// then that copy), 320 KB. Reads only: every build and mode byte-identical, against the TS reference. Checked by hand:
// a region end 256 MiB too far traps both tests (out-of-bounds read); the region is a validated constant tensor
// inside the bundle, so a bundle cannot place it at the end of memory.
import { test } from 'uvu';
import { ZPS, pick, q, check, qs8Tools } from './qs8-harness.ts';
import type { Attrs, Graph, OpType, QuantParams } from '../../compiler/ir/graph.ts';
import { inferNode } from '../../compiler/ir/ops/index.ts';

const { randI8, QGraph } = qs8Tools(20261204);

/** Appends node `op` writing `out` (shape inferred) to qg's graph; `out` 'y' is the graph's output. */
function add(g: Graph, op: OpType, inputs: string[], out: string, attrs: Attrs, quant: QuantParams): string {
  const n = { name: `${op.toLowerCase()}_${out}`, op, inputs, outputs: [out], attrs };
  g.tensors.set(out, { name: out, dtype: 'int8', shape: [] });
  const [info] = inferNode(g, n);
  g.tensors.set(out, { name: out, dtype: info!.dtype, shape: info!.shape, quant });
  g.nodes.push(n);
  if (out === 'y') g.outputs.push('y');
  return out;
}

const scales = (n: number, s: number) => Array.from({ length: n }, (_, c) => s * (1 + (c % 5)));

/** x [1, 7, 7, K] → 1×1 conv to Co → (GlobalAvgPool → Reshape [1, Co] | Reshape [1, 49·Co]) → Dense N → y. */
async function convDense(i: number, K: number, Co: number, N: number, gap: boolean): Promise<void> {
  const qg = new QGraph();
  if (i % 2) qg.g.int8Arithmetic = 'tflite';
  const g = qg.g;
  const x = qg.input('x', [1, 7, 7, K], q(0.03, pick(ZPS, i)));
  const wc = qg.weights('wc', [Co, 1, 1, K], scales(Co, 0.002));
  const h = add(g, 'Conv2D', [x, wc, qg.bias('bc', Co, 20000)], 'h', { activation: 'relu' }, q(0.05, -128));
  const Kd = gap ? Co : 49 * Co;
  const f = gap ? add(g, 'GlobalAvgPool', [h], 'p', {}, q(0.04, pick(ZPS, i + 1))) : h;
  const r = add(g, 'Reshape', [f], 'r', { shape: [1, Kd] }, gap ? q(0.04, pick(ZPS, i + 1)) : q(0.05, -128));
  add(g, 'Dense', [r, qg.weights('wd', [N, Kd], scales(N, 0.001)), qg.bias('bd', N, 30000)], 'y', {}, q(0.1, 3));
  const label = `conv 7x7x${K}->${Co} ${gap ? 'gap ' : ''}dense ${Kd}->${N} (${N * ((Kd + 1) & ~1)} weight bytes)`;
  await check(`${label}${i % 2 ? ' fp32' : ''}`, g, { x: randI8(49 * K) });
}

test('a 1x1 conv followed by a Dense: the conv touches the Dense weights, same bytes', async () => {
  let i = 0;
  for (const [K, Co, N, gap] of [
    [128, 8, 1, true], // one 8-byte region: a single word
    [128, 72, 3, true], // 216 bytes: the last word inside, short of the stride
    [130, 66, 5, true], // 330 bytes
    [128, 342, 3, true], // 1026 bytes: the word at 1024 would end past the region, not read
    [128, 1028, 1, true], // 1028 bytes: the word at 1024 ends on the region's end, read
    [160, 72, 24, true], // a one-row Dense with an i16 copy: that copy (3456 bytes) is the region
    [320, 320, 1000, true], // MobileNetV2's tail, scaled: 320 KB
    [256, 16, 10, false], // Reshape [1, 784] → Dense: 7840 bytes
  ] as [number, number, number, boolean][])
    for (const fp32 of [0, 1]) (await convDense(2 * i + fp32, K, Co, N, gap), i++);
});

test('a batch Dense on the 4x8 tile followed by a Dense touches it, same bytes', async () => {
  for (const [M, K, H, N] of [
    [8, 256, 64, 10],
    [13, 130, 9, 7],
  ]) {
    const qg = new QGraph();
    const g = qg.g;
    const x = qg.input('x', [M, K], q(0.03, -5));
    const h = add(
      g,
      'Dense',
      [x, qg.weights('w1', [H, K], scales(H, 0.002)), qg.bias('b1', H, 20000)],
      'h',
      {},
      q(0.05, 7),
    );
    add(g, 'Dense', [h, qg.weights('w2', [N, H], scales(N, 0.003)), qg.bias('b2', N, 20000)], 'y', {}, q(0.08, -1));
    await check(`dense ${M}x${K}->${H} -> ${N}`, g, { x: randI8(M * K) });
  }
});

test.run();
