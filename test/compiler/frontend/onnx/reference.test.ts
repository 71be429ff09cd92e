// Oracle test of the importer alone: each fixture model imported to the IR and run by the float64
// reference evaluator equals onnxruntime (test/ort-oracle.ts) on real samples within 1e-4 (scaled: abs below 1,
// relative above) and has the same top-1.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { loadOnnx } from '../../../../compiler/frontend/onnx/index.ts';
import { evaluate } from '../../../../compiler/ir/reference.ts';
import { FIXTURES, argmax, maxScaledDiff, oracleCases, ortOutputs } from './oracle-data.ts';

const TOL = 1e-4;

for (const c of oracleCases()) {
  test(`${c.model}: IR reference evaluator = onnxruntime on ${c.samples.length} samples`, async () => {
    const g = loadOnnx(join(FIXTURES, c.model));
    assert.equal(g.inputs, [c.input]);
    assert.equal(g.tensors.get(c.input)!.shape, c.shape);
    const expected = await ortOutputs(c);
    c.samples.forEach((s, i) => {
      const got = evaluate(g, { [c.input]: s })[g.outputs[0]];
      const diff = maxScaledDiff(got, expected[i]);
      assert.ok(diff <= TOL, `sample ${i}: max scaled diff ${diff} > ${TOL}`);
      assert.is(argmax(got), argmax(expected[i]), `sample ${i}: top-1`);
    });
  });
}

test.run();
