// Conv2D_QS8 3×3 stride 2 over 3 channels (assembly/kernels/conv/qs8-conv2d-3x3s2c3-wasmsimd.ts, simd build): maps
// whose pixel count is 0–3 past a multiple of the 4-pixel tile, TF 'same' (pad after only), ONNX-style [1,1,1,1],
// uneven and large padding (border pixels one tap at a time), 8..64 output channels, batch 2, the clamp (ReLU), both
// requantisations, one shared shift (the high-word epilogue) and per-channel shifts (requant4); 72 channels take the
// im2col path; the fp32 requantisation at its edges (accumulators from the biases: ties, around 2^22, huge; clamps).
// Byte for byte against the TS integer reference and the reference twins (check), and on 2 and 3 threads (row slices
// start at a negative top padding) against 1.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ZPS, pick, q, check, qs8Tools, fp32EdgeBiases } from './qs8-harness.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { load, threadsSupported } from '../../runtime/node.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';
import { summarizeBundle } from '../../compiler/cli/inspect.ts';
import { inferNode } from '../../compiler/ir/ops/index.ts';
import { evaluate } from '../../compiler/ir/reference.ts';
import { runAll } from './harness.ts';

const { randI8, QGraph } = qs8Tools(20261205);

interface Shape {
  n: number;
  h: number;
  w: number;
  co: number;
  attrs: Attrs;
}

const SHAPES: Shape[] = [
  { n: 1, h: 16, w: 16, co: 32, attrs: { strides: [2, 2], padding: 'same' } },
  { n: 1, h: 17, w: 17, co: 32, attrs: { strides: [2, 2], padding: [1, 1, 1, 1] } },
  { n: 2, h: 9, w: 11, co: 8, attrs: { strides: [2, 2], padding: 'same' } },
  { n: 1, h: 7, w: 13, co: 16, attrs: { strides: [2, 2], padding: [0, 2, 1, 0] } },
  { n: 1, h: 10, w: 6, co: 64, attrs: { strides: [2, 2], padding: [3, 1, 2, 3] } },
  { n: 1, h: 5, w: 5, co: 24, attrs: { strides: [2, 2] } },
  { n: 1, h: 3, w: 3, co: 8, attrs: { strides: [2, 2], padding: [1, 1, 1, 1] } },
  { n: 1, h: 12, w: 12, co: 72, attrs: { strides: [2, 2], padding: 'same' } },
  // F(2, 2) tiles (W ≥ 19): quads of two inside rows (qs8-conv2d-3x3s2c3-quads-wasmsimd.ts) and a lone inside row's
  // pixel pairs below them (9×41, 8×64; qs8-conv2d-3x3s2c3-pairs-wasmsimd.ts), first tap column 0 and 1, 1–3 tiles
  // per row, row tails and border rows on the 4-pixel tile, the last tile's loads ending on the row's last byte (W 19)
  { n: 1, h: 7, w: 40, co: 32, attrs: { strides: [2, 2], padding: 'same' } },
  { n: 1, h: 9, w: 41, co: 16, attrs: { strides: [2, 2], padding: [1, 1, 1, 1] } },
  { n: 2, h: 6, w: 37, co: 8, attrs: { strides: [2, 2], padding: [0, 3, 1, 0] } },
  { n: 1, h: 5, w: 19, co: 24, attrs: { strides: [2, 2] } },
  { n: 1, h: 8, w: 64, co: 64, attrs: { strides: [2, 2], padding: [2, 2, 2, 2] } },
];

function stem(s: Shape, i: number, perChannel: boolean) {
  const qg = new QGraph();
  if (i % 3 === 2) qg.g.int8Arithmetic = 'tflite';
  const zpIn = pick(ZPS, i);
  const x = qg.input('x', [s.n, s.h, s.w, 3], q(0.04, zpIn));
  // scales 2^20 apart give the channels their own shifts (one shared shift needs every multiplier ≥ 2^15)
  const scales = Array.from({ length: s.co }, (_, c) => (perChannel && c % 3 === 1 ? 0.01 / 2 ** 20 : 0.01));
  const w = qg.weights('w', [s.co, 3, 3, 3], scales);
  qg.node(
    'Conv2D',
    [x, w, qg.bias('b', s.co, 3000)],
    { ...s.attrs, ...((i >> 1) % 2 === 1 ? { activation: 'relu' } : {}) },
    q(0.05, pick(ZPS, i + 2)),
  );
  return qg.g;
}

test('Conv2D_QS8 3x3 s2 over 3 channels: every shape, shared and per-channel shifts, both requantisations', async () => {
  let i = 0;
  for (const s of SHAPES)
    for (const perChannel of [false, true]) {
      const label = `conv ${s.n}x${s.h}x${s.w}x3 -> ${s.co} ${JSON.stringify(s.attrs)} #${i}${perChannel ? ' per-channel' : ''}`;
      await check(label, stem(s, i, perChannel), { x: randI8(s.n * s.h * s.w * 3) });
      i++;
    }
});

test('Conv2D_QS8_FP32 3x3 s2 over 3 channels: ties, |t| around 2^22 and beyond, every zero point, clamps inside int8', async () => {
  // input and output scales 1, per-channel f32 scale sW: output pixels whose 27 taps are all the input zero point
  // (the top input rows, padding included) have acc = bias, which picks t = f32(acc)·sW (qs8-harness.ts FP32_EDGE_TS)
  const ACTS: Attrs[] = [{}, { activation: 'relu' }, { activation: 'clip', clip: [-20, 10] }];
  let i = 0;
  for (const [h, w, co, padding] of [
    [12, 10, 64, 'same'],
    [9, 9, 24, [1, 1, 1, 1]],
    [9, 40, 32, [1, 1, 1, 1]],
  ] as [number, number, number, Attrs['padding']][])
    for (const sW of [0.5, 0.25, 2 ** -10, 0.75, 3 * 2 ** -12])
      for (const act of ACTS) {
        const qg = new QGraph();
        qg.g.int8Arithmetic = 'tflite';
        const zpIn = pick(ZPS, i),
          zpOut = pick(ZPS, i + 1);
        const x = qg.input('x', [1, h, w, 3], q(1, zpIn));
        const wt = qg.weights('w', [co, 3, 3, 3], new Array(co).fill(sW));
        qg.g.tensors.set('b', { name: 'b', dtype: 'int32', shape: [co], data: fp32EdgeBiases(co, sW, 8 * i) });
        qg.node('Conv2D', [x, wt, 'b'], { strides: [2, 2], padding, ...act }, q(1, zpOut));
        const kernel = summarizeBundle(compileGraph(qg.g, { skipPasses: true }).bundle).rows.find((r) =>
          r.kernel.startsWith('Conv2D'),
        );
        assert.is(kernel?.variant, 'qs8-conv2d-3x3s2c3-wasmsimd', `${kernel?.kernel}`);
        const xs = randI8(h * w * 3);
        xs.fill(zpIn, 0, 5 * w * 3);
        await check(`stem fp32 ${h}x${w} -> ${co} sW ${sW} ${JSON.stringify(act)} zp ${zpIn}/${zpOut}`, qg.g, {
          x: xs,
        });
        i++;
      }
});

test('Conv2D_QS8 3x3 s2 over 3 channels: two stems of one width in one model, each on its own weights', async () => {
  // the pixel-pair path keeps its transformed weights while the next call's packed weights are the same bytes
  // (pairWeights): the second stem, same Co, other weights, must not run on the first one's
  for (const arith of ['tflite', 'onnxruntime'] as const) {
    const qg = new QGraph();
    qg.g.int8Arithmetic = arith;
    const x = qg.input('x', [1, 9, 40, 3], q(0.04, -3));
    for (const [i, seed] of [0, 1].entries()) {
      const w = qg.weights(`w${i}`, [16, 3, 3, 3], new Array(16).fill(0.01 + 0.002 * seed));
      const n = {
        name: `stem${i}`,
        op: 'Conv2D' as const,
        inputs: [x, w, qg.bias(`b${i}`, 16, 3000)],
        outputs: [`y${i}`],
      };
      const node = { ...n, attrs: { strides: [2, 2], padding: [1, 1, 1, 1] } as Attrs };
      qg.g.tensors.set(`y${i}`, { name: `y${i}`, dtype: 'int8', shape: [] });
      const [info] = inferNode(qg.g, node);
      qg.g.tensors.set(`y${i}`, { name: `y${i}`, dtype: 'int8', shape: info!.shape, quant: q(0.05, 7) });
      qg.g.nodes.push(node);
      qg.g.outputs.push(`y${i}`);
    }
    const xs = { x: randI8(9 * 40 * 3) };
    const label = `two stems ${arith}`;
    const got = await runAll(compileGraph(qg.g, { skipPasses: true }).bundle, xs, label);
    const want = evaluate(qg.g, xs);
    for (const y of ['y0', 'y1'])
      assert.ok(
        Buffer.from((got[y] as Int8Array).buffer).equals(Buffer.from(Int8Array.from(want[y]!).buffer)),
        `${label}: ${y}`,
      );
  }
});

test('Conv2D_QS8 3x3 s2 over 3 channels: 2 and 3 threads give 1 thread bytes', async () => {
  assert.ok(threadsSupported());
  // 64·64·3 → 32²·32: 0.9 M MACs, above the threads' split threshold
  const s: Shape = { n: 1, h: 64, w: 64, co: 32, attrs: { strides: [2, 2], padding: [1, 1, 1, 1] } };
  const { bundle } = compileGraph(stem(s, 0, false), { skipPasses: true });
  const x = randI8(64 * 64 * 3);
  const one = await load(bundle);
  const want = Buffer.from((one.run({ x }).y as Int8Array).buffer);
  for (const t of [2, 3]) {
    const m = await load(bundle, { threads: t });
    try {
      assert.is(m.info.threads, t);
      assert.ok(Buffer.from((m.run({ x }).y as Int8Array).buffer).equals(want), `${t} threads differ from 1`);
    } finally {
      m.close();
    }
  }
});

test('edgec inspect names the stem kernel where the simd build takes it, im2col elsewhere', () => {
  const variant = (g: ReturnType<typeof stem>) =>
    summarizeBundle(compileGraph(g, { skipPasses: true }).bundle).rows.find((r) => r.kernel.startsWith('Conv2D'))
      ?.variant;
  SHAPES.forEach((s, i) =>
    assert.is(variant(stem(s, i, false)), s.co <= 64 ? 'qs8-conv2d-3x3s2c3-wasmsimd' : 'qs8-conv2d-im2col', `#${i}`),
  );
  // stride 1 and 4 input channels are not stems
  assert.is(
    variant(stem({ n: 1, h: 8, w: 8, co: 8, attrs: { strides: [1, 1], padding: 'same' } }, 0, false)),
    'qs8-conv2d-im2col',
  );
  const qg = new QGraph();
  const x = qg.input('x', [1, 8, 8, 4], q(0.04, 0));
  qg.node(
    'Conv2D',
    [x, qg.weights('w', [8, 3, 3, 4], new Array(8).fill(0.01)), qg.bias('b', 8, 30)],
    { strides: [2, 2] },
    q(0.05, 0),
  );
  assert.is(variant(qg.g), 'qs8-conv2d-im2col');
});

test.run();
