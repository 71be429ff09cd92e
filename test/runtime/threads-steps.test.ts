// Threaded inference of the non-conv steps (assembly/threads-steps.ts): Quantize_QS8 / Quantize_QS8_RNE and the residual
// Add_QS8 / Add_QS8_FP32 / Binary_F32 split by element ranges, Dense_QS8 by 8-column blocks, Transpose (int8 and float) by rows of its first
// output dim, over 2 and 3 threads, give one thread's output bytes, sample after sample. A synthetic model on odd sizes
// so the slices are uneven: 21 960 input elements (16·1372 + 8: a partial last 16-element block), an Add of 129 015
// elements (float: 8 chunks of 16 128 and one of 16 119 on 2 threads), a Dense of 21 columns (two 8-column blocks and 5
// on the scalar tile), a Transpose of 61 rows over 3 threads. The model is first shown to hold each kind at a size
// assembly/threads-steps.ts splits, so the comparison runs the split path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseModelJson } from '../../compiler/frontend/model-json/parse.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { compileQuantized, quantize } from '../../compiler/quantize/index.ts';
import type { Graph } from '../../compiler/ir/graph.ts';
import { readSteps } from '../../runtime/branches.ts';
import { load, type Model } from '../../runtime/node.ts';
import { fb, randF32, rng } from '../assembly/harness.ts';

/** assembly/threads-steps.ts MIN_SPLIT_ELEMS and MIN_SPLIT_DENSE_MACS. */
const MIN_SPLIT_ELEMS = 4_096;
const MIN_SPLIT_DENSE_MACS = 200_000;

const r = rng(61);
const C = 8,
  H = 61,
  W = 45,
  F = 47,
  N = 21;

/** x [1,8,61,45] → Transpose to NHWC → 3×3 same 8→47 (a) → 1×1 47→47 (b) → a + b → 3×3 stride 2 47→16 →
 *  Flatten (31·23·16 = 11 408) → Dense 11 408→21. */
function synthetic(): Graph {
  const parts: Float32Array[] = [];
  let at = 0;
  const t = (shape: number[], scale: number) => {
    const v = randF32(
      r,
      shape.reduce((a, b) => a * b, 1),
      -scale,
      scale,
    );
    parts.push(v);
    at += v.byteLength;
    return { dtype: 'float32', shape, offset: at - v.byteLength, length: v.byteLength };
  };
  const conv = (name: string, x: string, attrs: Record<string, unknown>) => ({
    name,
    op: 'Conv2D',
    inputs: [x, `${name}.w`, `${name}.b`],
    outputs: [`${name}.out`],
    attrs,
  });
  const json = {
    format: 'edgec-model',
    version: 1,
    name: 'threads-steps',
    weights: 'threads-steps.bin',
    inputs: [{ name: 'x', shape: [1, C, H, W], dtype: 'float32' }],
    outputs: [{ name: 'y', shape: [1, N] }],
    tensors: {
      'c1.w': t([F, 3, 3, C], 0.3),
      'c1.b': t([F], 0.1),
      'c2.w': t([F, 1, 1, F], 0.2),
      'c2.b': t([F], 0.1),
      's2.w': t([16, 3, 3, F], 0.1),
      's2.b': t([16], 0.1),
      'fc.w': t([N, 31 * 23 * 16], 0.05),
      'fc.b': t([N], 0.1),
    },
    nodes: [
      { name: 'tr', op: 'Transpose', inputs: ['x'], outputs: ['t'], attrs: { perm: [0, 2, 3, 1] } },
      conv('c1', 't', { padding: 'same', activation: 'relu' }),
      conv('c2', 'c1.out', {}),
      { name: 'add', op: 'Add', inputs: ['c1.out', 'c2.out'], outputs: ['a'], attrs: {} },
      conv('s2', 'a', { padding: 'same', strides: [2, 2], activation: 'relu' }),
      { name: 'fl', op: 'Flatten', inputs: ['s2.out'], outputs: ['f'], attrs: { axis: 1 } },
      { name: 'fc', op: 'Dense', inputs: ['f', 'fc.w', 'fc.b'], outputs: ['y'] },
    ],
  };
  const weights = new Uint8Array(at);
  let o = 0;
  for (const v of parts) {
    weights.set(new Uint8Array(v.buffer), o);
    o += v.byteLength;
  }
  return parseModelJson(json, weights, 'threads-steps.json');
}

const samples = Array.from({ length: 3 }, () => randF32(r, C * H * W, -1, 1));

function run(m: Model, x: Float32Array): Buffer {
  const o = Object.values(m.run({ [m.info.inputs[0]!.name]: x }))[0]!;
  return Buffer.from(o.buffer, o.byteOffset, o.byteLength);
}

async function sameBytes(bundle: Uint8Array): Promise<void> {
  const one = await load(bundle);
  const many = [await load(bundle, { threads: 2 }), await load(bundle, { threads: 3 })];
  try {
    assert.equal(
      many.map((m) => m.info.threads),
      [2, 3],
    );
    for (const x of [...samples, ...samples]) {
      const want = run(one, x);
      for (const m of many) assert.ok(run(m, x).equals(want), `${m.info.threads} threads differ from 1`);
    }
  } finally {
    for (const m of many) m.close();
  }
}

test('int8: Quantize, Transpose, Add and Dense split over 2 and 3 threads give 1 thread bytes', async () => {
  const bundle = (await compileQuantized(synthetic(), { samples: { input: 'x', data: samples } })).bundle;
  const steps = readSteps(bundle);
  const has = (id: number, min: number) => steps.kernel.some((k, i) => k === id && steps.macs[i]! >= min);
  // a step's `macs` is its element count for the elementwise kinds (Transpose: 0, its size checked by hand: 21 960)
  assert.ok(has(fb.KernelId.Quantize_QS8, MIN_SPLIT_ELEMS), 'a Quantize_QS8 step large enough to split');
  assert.ok(has(fb.KernelId.Add_QS8, MIN_SPLIT_ELEMS), 'an Add_QS8 step large enough to split');
  assert.ok(has(fb.KernelId.Dense_QS8, MIN_SPLIT_DENSE_MACS), 'a Dense_QS8 step large enough to split');
  assert.ok(steps.kernel.includes(fb.KernelId.Transpose), 'a Transpose step');
  await sameBytes(bundle);
});

test("int8 on onnxruntime's arithmetic: Quantize_QS8_RNE and Add_QS8_FP32 split over 2 and 3 threads give 1 thread bytes", async () => {
  const { graph } = await quantize(synthetic(), { samples: { input: 'x', data: samples } });
  // what a pre-quantised ONNX graph gets (compiler/quantize/index.ts)
  graph.int8Arithmetic = 'onnxruntime';
  // Add_QS8 disabled: its Add stays on Add_QS8_FP32 where the fixed point is proven equal (ortAddFixedPoint)
  const bundle = compileGraph(graph, { skipPasses: true, disableKernels: ['Add_QS8'] }).bundle;
  const steps = readSteps(bundle);
  const has = (id: number, min: number) => steps.kernel.some((k, i) => k === id && steps.macs[i]! >= min);
  assert.ok(has(fb.KernelId.Quantize_QS8_RNE, MIN_SPLIT_ELEMS), 'a Quantize_QS8_RNE step large enough to split');
  assert.ok(has(fb.KernelId.Add_QS8_FP32, MIN_SPLIT_ELEMS), 'an Add_QS8_FP32 step large enough to split');
  await sameBytes(bundle);
});

test('float: Transpose and Add split over 2 and 3 threads give 1 thread bytes', async () => {
  const bundle = compileGraph(synthetic()).bundle;
  const steps = readSteps(bundle);
  const has = (id: number, min: number) => steps.kernel.some((k, i) => k === id && steps.macs[i]! >= min);
  assert.ok(steps.kernel.includes(fb.KernelId.Transpose), 'a Transpose step');
  assert.ok(has(fb.KernelId.Binary_F32, MIN_SPLIT_ELEMS), 'a Binary_F32 step large enough to split');
  await sameBytes(bundle);
});

test.run();
