// Int8 end to end on real models: mnist-8 calibrated on 100 MNIST calibration images (wasm float run)
// agrees with float top-1 on ≥ 19 of 20 test images for every observer; onnxruntime-quantised QDQ models
// (their own scales) are within ±1 output quantisation step of onnxruntime's int8 outputs everywhere.
// The int8 graph runs on the IR integer reference (evaluate), the truth for int8 bundles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx } from '../../../compiler/frontend/onnx/index.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { loadNpy } from '../../../compiler/io/npy.ts';
import { argmax, compileQuantized, quantize, splitSamples } from '../../../compiler/quantize/index.ts';
import { compileGraph } from '../../../compiler/compile.ts';
import { load } from '../../../runtime/node.ts';
import type { Graph } from '../../../compiler/ir/graph.ts';

const FIX = join(import.meta.dirname, '../../fixtures');
const mnist = loadOnnx(join(FIX, 'onnx/mnist-8.onnx'));
const calib = Float32Array.from(readFileSync(join(FIX, 'quantize/mnist_calib100_u8.bin')), (v) => v / 255);
const images = Float32Array.from(readFileSync(join(FIX, 'onnx/mnist_test20_u8.bin')), (v) => v / 255);

/** Scale of the int8 tensor a graph output is dequantised from (one output quantisation step). */
function outputStep(g: Graph): number {
  const dq = g.nodes.find((n) => n.outputs.includes(g.outputs[0]!) && n.op === 'Dequantize')!;
  return g.tensors.get(dq.inputs[0]!)!.quant!.scale[0]!;
}

for (const method of ['minmax', 'percentile', 'entropy'] as const) {
  test(`mnist-8 int8 (${method}, 100 calibration images): top-1 agrees with float on ≥ 19/20`, async () => {
    const { graph: q, report } = await quantize(mnist, {
      samples: splitSamples(mnist, calib, [100, 1, 28, 28], 'calib'),
      method,
    });
    assert.equal(report.floatNodes, []);
    let agree = 0;
    for (let i = 0; i < 20; i++) {
      const x = images.subarray(i * 784, (i + 1) * 784);
      const f = evaluate(mnist, { Input3: x })[mnist.outputs[0]!]!;
      const y = evaluate(q, { Input3: x })[mnist.outputs[0]!]!;
      if (argmax(f) === argmax(y)) agree++;
    }
    assert.ok(agree >= 19, `${agree}/20`);
  });
}

for (const [model, input] of [
  ['onnx/cnn_small_qdq_u8s8', 'onnx/cnn_small'],
  ['quantize/cnn_small_qdq_s8s8', 'onnx/cnn_small'],
  ['quantize/mlp_qdq_s8s8', 'onnx/mlp'],
] as const) {
  test(`${model.split('/')[1]}: within ±1 step of onnxruntime's int8 output on every element`, async () => {
    const g = loadOnnx(join(FIX, `${model}.onnx`));
    const { graph: q } = await quantize(g);
    const x = loadNpy(join(FIX, `${input}.input.npy`)).data as Float32Array;
    const want = loadNpy(join(FIX, `${model}.output.npy`)).data as Float32Array;
    const y = evaluate(q, { [g.inputs[0]!]: x })[g.outputs[0]!]!;
    const step = outputStep(q);
    for (let i = 0; i < want.length; i++)
      assert.ok(Math.abs(y[i]! - want[i]!) <= step * 1.001, `output ${i}: ${y[i]} vs ${want[i]} (step ${step})`);
  });
}

test('int8 bundles: simd and scalar builds byte-identical and equal to the integer reference (mnist-8 calibrated, cnn_small QDQ)', async () => {
  const cases = [
    {
      g: mnist,
      q: await quantize(mnist, { samples: splitSamples(mnist, calib, [100, 1, 28, 28], 'calib'), method: 'entropy' }),
      xs: Array.from({ length: 20 }, (_, i) => images.slice(i * 784, (i + 1) * 784)),
    },
    {
      g: loadOnnx(join(FIX, 'onnx/cnn_small_qdq_u8s8.onnx')),
      q: undefined,
      xs: [loadNpy(join(FIX, 'onnx/cnn_small.input.npy')).data as Float32Array],
    },
  ];
  for (const c of cases) {
    const q = c.q ?? (await quantize(c.g));
    const simd = await load(compileGraph(q.graph, { skipPasses: true, target: 'simd' }).bundle, { build: 'simd' });
    const scalar = await load(compileGraph(q.graph, { skipPasses: true, target: 'scalar' }).bundle, {
      build: 'scalar',
    });
    const input = c.g.inputs[0]!,
      out = c.g.outputs[0]!;
    for (const x of c.xs) {
      const a = simd.run({ [input]: x })[out] as Float32Array;
      const b = scalar.run({ [input]: x })[out] as Float32Array;
      assert.equal(new Uint8Array(a.buffer), new Uint8Array(b.buffer));
      const ref = Float32Array.from(evaluate(q.graph, { [input]: x })[out]!);
      assert.equal(new Uint8Array(a.buffer), new Uint8Array(ref.buffer));
    }
  }
});

test('compileQuantized: int8 mnist-8 constants ≤ 0.3× the float ones in the IR; bundle < 0.5× float', async () => {
  const samples = splitSamples(mnist, calib, [100, 1, 28, 28], 'calib');
  const { bundle, report } = await compileQuantized(mnist, { samples });
  const { graph: q, floatGraph } = await quantize(mnist, { samples });
  const bytes = (g: Graph) => [...g.tensors.values()].reduce((s, t) => s + (t.data ? t.data.byteLength : 0), 0);
  assert.is(report.mode, 'calibrated');
  assert.ok(bytes(q) <= 0.3 * bytes(floatGraph), `${bytes(q)} vs ${bytes(floatGraph)}`);
  const float = compileGraph(mnist).bundle;
  assert.ok(bundle.length < 0.5 * float.length, `${bundle.length} vs ${float.length}`);
});

test.run();
