// Threaded inference of float models (assembly/threads-float.ts): the packed float conv (pointwise by GEMM rows, the
// others by output rows) and the float depthwise conv split over 2 and 3 threads give one thread's output bytes,
// sample after sample. Real float models (DS-CNN keyword spotting, mnist-8, the small CNN) and a synthetic one whose
// every conv kind is large enough to split (padded 3×3, 5×5 depthwise, pointwise over a pixel count that leaves a
// partial 4-pixel tile, strided 3×3), on odd image sizes so the slices are uneven, and a classifier (Dense 700→603
// on one row: Conv2D_F32_P8 on a 1×1 image, split by 8-channel panels, the last one partial) and MobileNetV2's 7×7
// layers (a depthwise with fewer rows than chunks, a pointwise split by panels). Each model is first shown to hold
// float steps large enough to split, so the comparison runs the split path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOnnx } from '../../compiler/frontend/onnx/index.ts';
import { parseModelJson } from '../../compiler/frontend/model-json/parse.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { compileQuantized } from '../../compiler/quantize/index.ts';
import type { Graph } from '../../compiler/ir/graph.ts';
import { readSteps } from '../../runtime/branches.ts';
import { load, type Model } from '../../runtime/node.ts';
import { fb, randF32, rng } from '../assembly/harness.ts';
import { GraphBuilder } from '../compiler/ir/build-graph.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures');
/** assembly/threads.ts MIN_SPLIT_MACS. */
const MIN_SPLIT_MACS = 400_000;
const SPLIT_IDS: number[] = [fb.KernelId.Conv2D_F32_P8, fb.KernelId.DepthwiseConv2D_F32];

const onnx = (file: string): Graph => {
  const path = join(FIXTURES, 'onnx', file);
  return parseOnnx(readFileSync(path), path);
};

const r = rng(52);
const H = 31,
  W = 23;

/** x [1,31,23,8] → 3×3 same 8→48 → 5×5 depthwise same → 1×1 48→40 (713 pixels: 4·178 + 1) → 3×3 stride 2 40→24 →
 *  global average → dense 24→5. */
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
  const json = {
    format: 'edgec-model',
    version: 1,
    name: 'threads-float',
    weights: 'threads-float.bin',
    inputs: [{ name: 'x', shape: [1, H, W, 8], dtype: 'float32' }],
    outputs: [{ name: 'y', shape: [1, 5] }],
    tensors: {
      'c1.w': t([48, 3, 3, 8], 0.3),
      'c1.b': t([48], 0.1),
      'dw.w': t([48, 5, 5, 1], 0.3),
      'dw.b': t([48], 0.1),
      'pw.w': t([40, 1, 1, 48], 0.2),
      'pw.b': t([40], 0.1),
      's2.w': t([24, 3, 3, 40], 0.1),
      's2.b': t([24], 0.1),
      'fc.w': t([5, 24], 0.5),
      'fc.b': t([5], 0.1),
    },
    nodes: [
      conv('c1', 'x', { padding: 'same', activation: 'relu' }),
      conv('dw', 'c1.out', { padding: 'same', groups: 48, activation: 'relu' }),
      conv('pw', 'dw.out', {}),
      conv('s2', 'pw.out', { padding: 'same', strides: [2, 2], activation: 'relu' }),
      { name: 'gap', op: 'GlobalAvgPool', inputs: ['s2.out'], outputs: ['gap.out'] },
      { name: 'flat', op: 'Reshape', inputs: ['gap.out'], outputs: ['flat.out'], attrs: { shape: [1, -1] } },
      { name: 'fc', op: 'Dense', inputs: ['flat.out', 'fc.w', 'fc.b'], outputs: ['y'] },
    ],
  };
  const weights = new Uint8Array(at);
  let o = 0;
  for (const v of parts) {
    weights.set(new Uint8Array(v.buffer), o);
    o += v.byteLength;
  }
  return parseModelJson(json, weights, 'threads-float.json');
}

function conv(name: string, x: string, attrs: Record<string, unknown>) {
  return { name, op: 'Conv2D', inputs: [x, `${name}.w`, `${name}.b`], outputs: [`${name}.out`], attrs };
}

/** x [1,7,7,16] → 1×1 16→920 relu → 3×3 depthwise same (405 720 MACs, 7 rows: fewer than 4 chunks per thread, so
 *  one chunk per thread) → 1×1 920→203 (more weights than pixels' inputs and outputs: split by its 26 panels, the last
 *  of 3 channels) → global average → Dense 203→10: MobileNetV2's 7×7 layers. */
function fewRows(): Graph {
  const b = new GraphBuilder('threads-few-rows');
  const x = b.input('x', [1, 7, 7, 16]);
  const e = b.node('Conv2D', [x, b.constant('e.w', [920, 1, 1, 16]), b.constant('e.b', [920])], { activation: 'relu' });
  const dw = b.node('Conv2D', [e, b.constant('dw.w', [920, 3, 3, 1]), b.constant('dw.b', [920])], {
    padding: 'same',
    groups: 920,
    activation: 'relu',
  });
  const pw = b.node('Conv2D', [dw, b.constant('p.w', [203, 1, 1, 920]), b.constant('p.b', [203])], {});
  const gap = b.node('Reshape', [b.node('GlobalAvgPool', [pw])], { shape: [1, 203] });
  return b.output(b.node('Dense', [gap, b.constant('fc.w', [10, 203]), b.constant('fc.b', [10])], {}, 'y'));
}
const fewRowsSamples = Array.from({ length: 3 }, () => randF32(r, 7 * 7 * 16));

/** x [1,700] → Dense 700→603 relu (422 100 MACs: Conv2D_F32_P8, 76 panels, the last of 3 channels) → Dense 603→10. */
function classifier(): Graph {
  const b = new GraphBuilder('threads-dense');
  const x = b.input('x', [1, 700]);
  const h = b.node('Dense', [x, b.constant('w1', [603, 700]), b.constant('b1', [603])], { activation: 'relu' });
  return b.output(b.node('Dense', [h, b.constant('w2', [10, 603]), b.constant('b2', [10])], {}, 'y'));
}

const cases: { name: string; graph: () => Graph; samples: Float32Array[] }[] = [
  { name: 'depthwise 7×7·920', graph: fewRows, samples: fewRowsSamples },
  { name: 'classifier', graph: classifier, samples: Array.from({ length: 3 }, () => randF32(r, 700)) },
  { name: 'synthetic', graph: synthetic, samples: Array.from({ length: 3 }, () => randF32(r, H * W * 8)) },
  { name: 'kws_dscnn f32', graph: () => onnx('kws_dscnn.onnx'), samples: [randF32(r, 490, -30, 30)] },
  { name: 'mnist-8 f32', graph: () => onnx('mnist-8.onnx'), samples: [randF32(r, 784, 0, 1)] },
  { name: 'cnn_small f32', graph: () => onnx('cnn_small.onnx'), samples: [randF32(r, 784, 0, 1)] },
];

function run(m: Model, x: Float32Array): Buffer {
  const o = Object.values(m.run({ [m.info.inputs[0]!.name]: x }))[0]!;
  return Buffer.from(o.buffer, o.byteOffset, o.byteLength);
}

for (const c of cases) {
  test(`${c.name}: 2 and 3 threads give 1 thread's bytes`, async () => {
    const bundle = compileGraph(c.graph()).bundle;
    const steps = readSteps(bundle);
    const split = steps.kernel.filter((k, i) => SPLIT_IDS.includes(k) && steps.macs[i]! >= MIN_SPLIT_MACS);
    const one = await load(bundle);
    const many = [await load(bundle, { threads: 2 }), await load(bundle, { threads: 3 })];
    try {
      assert.equal(
        many.map((m) => m.info.threads),
        [2, 3],
      );
      for (const x of [...c.samples, ...c.samples]) {
        const want = run(one, x);
        for (const m of many) assert.ok(run(m, x).equals(want), `${m.info.threads} threads differ from 1`);
      }
      assert.ok(split.length > 0, 'no float step large enough to split');
      if (c.name === 'synthetic')
        assert.equal([...new Set(split)].sort(), [...SPLIT_IDS].sort(), 'both float conv kernels split');
    } finally {
      for (const m of many) m.close();
    }
  });
}

test('depthwise 7×7·920 int8: one chunk per thread over 2 and 3 threads gives 1 thread bytes', async () => {
  const bundle = (await compileQuantized(fewRows(), { samples: { input: 'x', data: fewRowsSamples } })).bundle;
  const steps = readSteps(bundle);
  const dw = steps.kernel.findIndex((k) => k === fb.KernelId.DepthwiseConv2D_QS8);
  assert.ok(dw >= 0 && steps.macs[dw]! >= MIN_SPLIT_MACS, 'a DepthwiseConv2D_QS8 step large enough to split');
  const one = await load(bundle);
  const many = [await load(bundle, { threads: 2 }), await load(bundle, { threads: 3 })];
  try {
    for (const x of [...fewRowsSamples, ...fewRowsSamples]) {
      const want = run(one, x);
      for (const m of many) assert.ok(run(m, x).equals(want), `${m.info.threads} threads differ from 1`);
    }
  } finally {
    for (const m of many) m.close();
  }
});

test.run();
