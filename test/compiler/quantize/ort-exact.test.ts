// Pre-quantised ONNX models run onnxruntime's int8 arithmetic (Graph.int8Arithmetic 'onnxruntime': Conv / Dense /
// depthwise requantised in float32, docs/quantization.md), so edgec's output is onnxruntime's, byte for byte, on the
// fixtures' real inputs and on inputs spread over their range; `arithmetic: 'edgec'` keeps the fixed point.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { loadOnnx } from '../../../compiler/frontend/onnx/index.ts';
import { compileQuantized } from '../../../compiler/quantize/index.ts';
import { summarizeBundle } from '../../../compiler/cli/inspect.ts';
import { loadNpy } from '../../../compiler/io/npy.ts';
import { load } from '../../../runtime/node.ts';
import { ort, ortSession } from '../../ort-oracle.ts';

const FIX = join(import.meta.dirname, '../../fixtures');
const CASES = [
  { model: 'onnx/cnn_small_qdq_u8s8.onnx', input: 'onnx/cnn_small.input.npy' },
  { model: 'quantize/cnn_small_qdq_s8s8.onnx', input: 'onnx/cnn_small.input.npy' },
  { model: 'quantize/mlp_qdq_s8s8.onnx', input: 'onnx/mlp.input.npy' },
];

/** The fixture's input, then 7 more: each value scaled and shifted by a fixed LCG's draws (same range, new roundings). */
function inputs(x: Float32Array): Float32Array[] {
  let r = 12345;
  const u = () => ((r = (Math.imul(r, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const out = [x];
  for (let k = 1; k < 8; k++) out.push(Float32Array.from(x, (v) => v * (1 + 0.3 * u()) + 0.2 * u()));
  return out;
}

async function ortRun(s: Awaited<ReturnType<typeof ortSession>>, x: Float32Array, shape: number[]) {
  const r = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x, shape) });
  return r[s.outputNames[0]!]!.data as Float32Array;
}

for (const c of CASES) {
  test(`${c.model}: edgec int8 = onnxruntime's output bytes on 8 inputs, simd and scalar builds`, async () => {
    const file = join(FIX, c.model);
    const g = loadOnnx(file);
    const { bundle } = await compileQuantized(g, {});
    const kernels = summarizeBundle(bundle).rows.map((r) => r.kernel);
    assert.ok(
      kernels.some((k) => /^(Conv2D|Dense|DepthwiseConv2D)_QS8_FP32$/.test(k)),
      kernels.join(' '),
    );
    const x0 = loadNpy(join(FIX, c.input));
    const s = await ortSession(file);
    const builds = await Promise.all((['simd', 'scalar'] as const).map((build) => load(bundle, { build })));
    for (const [i, x] of inputs(x0.data as Float32Array).entries()) {
      const want = await ortRun(s, x, x0.shape);
      for (const [b, m] of builds.entries()) {
        const got = m.run({ [g.inputs[0]!]: x })[g.outputs[0]!] as Float32Array;
        assert.equal(Array.from(got), Array.from(want), `input ${i}, ${b ? 'scalar' : 'simd'}`);
      }
    }
  });
}

test("arithmetic 'edgec': the fixed-point kernels, not the _FP32 ones", async () => {
  const g = loadOnnx(join(FIX, CASES[0]!.model));
  const fixed = summarizeBundle((await compileQuantized(g, { arithmetic: 'edgec' })).bundle).rows.map((r) => r.kernel);
  assert.ok(fixed.includes('Conv2D_QS8'), fixed.join(' '));
  assert.not.ok(
    fixed.some((k) => k.endsWith('_FP32')),
    fixed.join(' '),
  );
});

test.run();
