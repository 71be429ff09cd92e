// Calibration on the float wasm runtime: min-max ranges match the float64 reference evaluator's over
// the same samples (float32 tolerance 1e-4 relative), sample splitting accepts [N,…] layouts only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx } from '../../../compiler/frontend/onnx/index.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { runPasses } from '../../../compiler/passes/index.ts';
import { cloneGraph } from '../../../compiler/compile.ts';
import { ModelError } from '../../../compiler/ir/graph.ts';
import { activationTensors, calibrate, splitSamples } from '../../../compiler/quantize/calibrate.ts';

const FIX = join(import.meta.dirname, '../../fixtures');
const mnist = runPasses(cloneGraph(loadOnnx(join(FIX, 'onnx/mnist-8.onnx'))));
const calib = Float32Array.from(
  readFileSync(join(FIX, 'quantize/mnist_calib100_u8.bin')).subarray(0, 5 * 784),
  (v) => v / 255,
);

test('splitSamples: [N,…input without batch], [N,…input], one sample; wrong shapes refused', () => {
  assert.is(splitSamples(mnist, calib, [5, 1, 28, 28], 'c').data.length, 5);
  assert.is(splitSamples(mnist, calib, [5, 1, 1, 28, 28], 'c').data.length, 5);
  assert.is(splitSamples(mnist, calib.subarray(0, 784), [1, 1, 28, 28], 'c').data.length, 1);
  assert.equal(
    [...splitSamples(mnist, calib, [5, 1, 28, 28], 'c').data[3]!.subarray(100, 110)],
    [...calib.subarray(3 * 784 + 100, 3 * 784 + 110)],
  );
  assert.throws(
    () => splitSamples(mnist, calib, [5, 784], 'c.npy'),
    (e: unknown) => e instanceof ModelError && /c\.npy/.test(e.message) && /\[5,784\]/.test(e.message),
  );
});

test('minmax ranges equal the reference evaluator min/max over the samples (every activation)', async () => {
  const samples = splitSamples(mnist, calib, [5, 1, 28, 28], 'c');
  const { ranges, floatOutputs } = await calibrate(mnist, samples, 'minmax');
  const tensors = activationTensors(mnist);
  assert.equal([...ranges.keys()].sort(), [...tensors].sort());
  const lo = new Map<string, number>(),
    hi = new Map<string, number>();
  for (const x of samples.data) {
    const all = evaluate(mnist, { [samples.input]: x }, { all: true });
    for (const t of tensors)
      for (const v of all[t]!) {
        lo.set(t, Math.min(lo.get(t) ?? 0, v));
        hi.set(t, Math.max(hi.get(t) ?? 0, v));
      }
  }
  for (const t of tensors) {
    const r = ranges.get(t)!,
      tol = 1e-4 * Math.max(1, hi.get(t)! - lo.get(t)!);
    assert.ok(
      Math.abs(r.min - lo.get(t)!) <= tol && Math.abs(r.max - hi.get(t)!) <= tol,
      `${t}: [${r.min}, ${r.max}] vs [${lo.get(t)}, ${hi.get(t)}]`,
    );
  }
  assert.is(floatOutputs.length, 5);
});

test('percentile and entropy ranges lie inside the min-max range', async () => {
  const samples = splitSamples(mnist, calib, [5, 1, 28, 28], 'c');
  const mm = (await calibrate(mnist, samples, 'minmax')).ranges;
  for (const method of ['percentile', 'entropy'] as const) {
    const r = (await calibrate(mnist, samples, method)).ranges;
    for (const [t, x] of r) {
      const m = mm.get(t)!;
      assert.ok(x.min >= m.min - 1e-9 && x.max <= m.max + 1e-9 && x.min <= 0 && x.max >= 0, `${method} ${t}`);
    }
  }
});

test.run();
