// End to end: each TF.js fixture (test/fixtures/tfjs: layers-models, a graph-model, their uint8- and float16-
// quantised twins, one real published graph-model) → loadTfjs → compileGraph → runtime, simd and scalar builds,
// equals tfjs itself (tfjs-layers / tfjs-converter on the CPU backend) on seeded random inputs within 1e-4
// (absolute below 1, relative above).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadTfjs } from '../../../../compiler/frontend/tfjs/index.ts';
import { compileGraph } from '../../../../compiler/compile.ts';
import { numElements } from '../../../../compiler/ir/graph.ts';
import { load } from '../../../../runtime/node.ts';
import { maxScaledDiff } from '../onnx/oracle-data.ts';
import { tfjsRun } from './tfjs-oracle.ts';

const TOL = 1e-4;
const FIXTURES = join(import.meta.dirname, '../../../fixtures/tfjs');

function samples(n: number, size: number, seed: number): Float32Array[] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return Array.from({ length: n }, () => Float32Array.from({ length: size }, next));
}

const models = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => join(FIXTURES, d.name, d.name === 'human-gender' ? 'gender.json' : 'model.json'));

test('the fixtures cover layers-models (one nested), a graph-model, uint8 and float16 weights and a real model', () => {
  assert.is(models.length, 14);
});

for (const path of models) {
  const name = path.split('/').at(-2)!;
  test(`${name}: simd and scalar bundles = tfjs on 2 samples within ${TOL}`, async () => {
    const g = loadTfjs(path);
    assert.is(g.inputs.length, 1);
    const shape = g.tensors.get(g.inputs[0]!)!.shape;
    const xs = samples(2, numElements(shape), 0x9e3779b9);
    const want = await Promise.all(xs.map((x) => tfjsRun(path, [{ data: x, shape }])));
    for (const build of ['simd', 'scalar'] as const) {
      const model = await load(compileGraph(g, { target: build }).bundle, { build });
      xs.forEach((x, i) => {
        const got = model.run({ [g.inputs[0]!]: x });
        assert.is(want[i]!.length, g.outputs.length, 'one tfjs output per edgec output');
        g.outputs.forEach((o, k) => {
          const diff = maxScaledDiff(got[o] as Float32Array, want[i]![k]!);
          assert.ok(diff <= TOL, `${build} sample ${i} output '${o}': max scaled diff ${diff} > ${TOL}`);
        });
      });
    }
  });
}

test.run();
