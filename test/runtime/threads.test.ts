// Threaded inference in Node (docs/threads.md): real int8 models (DS-CNN keyword spotting calibrated on its own
// samples, the u8s8 QDQ small CNN, MNIST calibrated on its calibration images, and the MLPerf Tiny KWS and ResNet-8
// .tflite files, whose steps requantise in fp32) on 1, 2 and 3 threads give the same
// output bytes, sample after sample (runs after the first, too: every worker kernel keeps its own scratch). Each
// model is first shown to hold conv steps large enough to be split, so the comparison runs the split path. Without
// SharedArrayBuffer load() falls back to one thread; the scalar build stays single-threaded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOnnx } from '../../compiler/frontend/onnx/index.ts';
import { parseTflite } from '../../compiler/frontend/tflite/index.ts';
import { compileQuantized } from '../../compiler/quantize/index.ts';
import { readSteps } from '../../runtime/branches.ts';
import { load, threadsSupported, type Model } from '../../runtime/node.ts';
import { fb, randF32, rng } from '../assembly/harness.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures');
const read = (dir: string, f: string) => readFileSync(join(FIXTURES, dir, f));
/** assembly/threads.ts MIN_SPLIT_MACS: conv steps from here on run on every thread. */
const MIN_SPLIT_MACS = 400_000;

interface Case {
  name: string;
  bundle: () => Promise<Uint8Array>;
  samples: Float32Array[];
}

const kwsRaw = new Int8Array(read('onnx', 'kws20_i8.bin').buffer.slice(0));
const kws = Array.from({ length: 6 }, (_, s) =>
  Float32Array.from(kwsRaw.subarray(s * 490, (s + 1) * 490), (q) => (q - 83) * 0.5847029089927673),
);
const mnistRaw = read('quantize', 'mnist_calib100_u8.bin');
const mnist = Array.from({ length: 20 }, (_, s) =>
  Float32Array.from(mnistRaw.subarray(s * 784, (s + 1) * 784), (q) => q / 255),
);

async function quantized(file: string, samples?: { input: string; data: Float32Array[] }): Promise<Uint8Array> {
  const path = join(FIXTURES, 'onnx', file);
  return (await compileQuantized(parseOnnx(readFileSync(path), path), samples ? { samples } : {})).bundle;
}

async function tflite(file: string): Promise<Uint8Array> {
  const path = join(FIXTURES, 'tflite', file);
  return (await compileQuantized(parseTflite(new Uint8Array(readFileSync(path)), path), {})).bundle;
}
const r = rng(17);
/** The fixtures' input ranges: KWS MFCCs about ±30, ResNet-8's pixels in [0, 255] (both clamp outside). */
const kwsTflite = Array.from({ length: 3 }, () => randF32(r, 490, -30, 30));
const cifar = Array.from({ length: 3 }, () => randF32(r, 3072, 0, 255));
/** Split steps of either requantisation (assembly/threads.ts splittable). */
const SPLIT_IDS: number[] = [
  fb.KernelId.Conv2D_QS8,
  fb.KernelId.DepthwiseConv2D_QS8,
  fb.KernelId.Conv2D_QS8_FP32,
  fb.KernelId.DepthwiseConv2D_QS8_FP32,
  fb.KernelId.Conv2DWino_QS8,
  fb.KernelId.Conv2DWino_QS8_FP32,
];

const cases: Case[] = [
  { name: 'kws_dscnn int8', bundle: () => quantized('kws_dscnn.onnx', { input: 'input_1', data: kws }), samples: kws },
  {
    name: 'cnn_small_qdq_u8s8',
    bundle: () => quantized('cnn_small_qdq_u8s8.onnx'),
    samples: mnist.slice(0, 4),
  },
  {
    name: 'mnist-8 int8',
    bundle: () => quantized('mnist-8.onnx', { input: 'Input3', data: mnist }),
    samples: mnist.slice(0, 4),
  },
  { name: 'kws_ref_model.tflite (fp32 requant)', bundle: () => tflite('kws_ref_model.tflite'), samples: kwsTflite },
  { name: 'ResNet-8 .tflite (fp32 requant)', bundle: () => tflite('pretrainedResnet_quant.tflite'), samples: cifar },
];

function run(m: Model, x: Float32Array): Buffer {
  const name = m.info.inputs[0]!.name;
  const o = Object.values(m.run({ [name]: x }))[0]!;
  return Buffer.from(o.buffer, o.byteOffset, o.byteLength);
}

test('this Node shares WebAssembly memory between threads', () => {
  assert.ok(threadsSupported());
});

for (const c of cases) {
  test(`${c.name}: 2 and 3 threads give 1 thread's bytes`, async () => {
    const bundle = await c.bundle();
    const steps = readSteps(bundle);
    const split = steps.kernel.filter((k, i) => SPLIT_IDS.includes(k) && steps.macs[i]! >= MIN_SPLIT_MACS).length;
    const one = await load(bundle);
    const many = [await load(bundle, { threads: 2 }), await load(bundle, { threads: 3 })];
    try {
      assert.is(one.info.threads, 1);
      assert.equal(
        many.map((m) => m.info.threads),
        [2, 3],
      );
      for (const x of [...c.samples, ...c.samples]) {
        const want = run(one, x);
        for (const m of many) assert.ok(run(m, x).equals(want), `${m.info.threads} threads differ from 1`);
      }
      console.log(`threads: ${c.name}: ${split} of ${steps.kernel.length} steps split`);
      assert.ok(split > 0, 'no step large enough to split');
    } finally {
      for (const m of many) m.close();
    }
  });
}

test('without SharedArrayBuffer load() runs one thread; scalar stays single-threaded', async () => {
  const bundle = await quantized('cnn_small_qdq_u8s8.onnx');
  const saved = globalThis.SharedArrayBuffer;
  try {
    // @ts-expect-error: the engine feature this fallback covers is absent
    delete globalThis.SharedArrayBuffer;
    assert.not.ok(threadsSupported());
    const m = await load(bundle, { threads: 4 });
    assert.is(m.info.threads, 1);
    assert.is(m.info.build, 'simd');
    assert.ok(run(m, mnist[0]!).equals(run(await load(bundle), mnist[0]!)));
  } finally {
    globalThis.SharedArrayBuffer = saved;
  }
  const s = await load(bundle, { threads: 3, build: 'scalar' });
  assert.is(s.info.threads, 1);
  assert.is(s.info.build, 'scalar');
  await load(bundle, { threads: 0 }).then(
    () => assert.unreachable('threads: 0 was taken'),
    (e: Error) => assert.match(e.message, /threads must be a whole number ≥ 1, got 0/),
  );
});

test.run();
