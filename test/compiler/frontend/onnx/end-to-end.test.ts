// End to end: each fixture ONNX model → importer → compileGraph → runtime (simd and scalar builds)
// equals onnxruntime (test/ort-oracle.ts) on real samples within 1e-4 (abs below 1, relative above) with the same
// top-1; the bench models also match their recorded onnxruntime outputs (.output.npy).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { loadOnnx } from '../../../../compiler/frontend/onnx/index.ts';
import { compileGraph } from '../../../../compiler/compile.ts';
import { loadNpy } from '../../../../compiler/io/npy.ts';
import { load } from '../../../../runtime/node.ts';
import { FIXTURES, argmax, maxScaledDiff, oracleCases, ortOutputs } from './oracle-data.ts';

const TOL = 1e-4;

for (const c of oracleCases()) {
  for (const build of ['simd', 'scalar'] as const) {
    test(`${c.model} ${build}: compiled bundle = onnxruntime on ${c.samples.length} samples`, async () => {
      const g = loadOnnx(join(FIXTURES, c.model));
      const { bundle } = compileGraph(g, { target: build });
      const model = await load(bundle, { build });
      assert.equal(
        model.info.inputs.map((i) => i.shape),
        [c.shape],
        'inputs keep the ONNX (NCHW) shape',
      );
      const expected = await ortOutputs(c);
      c.samples.forEach((s, i) => {
        const got = model.run({ [c.input]: s })[g.outputs[0]] as Float32Array;
        const diff = maxScaledDiff(got, expected[i]);
        assert.ok(diff <= TOL, `sample ${i}: max scaled diff ${diff} > ${TOL}`);
        assert.is(argmax(got), argmax(expected[i]), `sample ${i}: top-1`);
      });
      const recorded = c.model.replace('.onnx', '.output.npy');
      if (c.model === 'cnn_small.onnx' || c.model === 'mlp.onnx') {
        const want = loadNpy(join(FIXTURES, recorded)).data as Float32Array;
        const got = model.run({ [c.input]: c.samples[0] })[g.outputs[0]] as Float32Array;
        assert.ok(maxScaledDiff(got, want) <= TOL, `${recorded}: diff ${maxScaledDiff(got, want)}`);
      }
    });
  }
}

test.run();
