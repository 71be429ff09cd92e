// Integration: models from the repo's fixtures, imported by the real frontends (model.json, ONNX),
// compiled and run on both wasm builds: within 1e-4 relative + 1e-5 absolute of the float64
// reference evaluated on the imported graph, simd and scalar bit-identical. Skips what is absent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { compileGraph } from '../../../compiler/compile.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { closeness, inputsFor } from '../ir/build-graph.ts';
import { skipSuite } from '../../skip-suite.ts';

const at = (p: string) => new URL(`../../../${p}`, import.meta.url);
const fixtures: [string, string, () => Promise<(path: string) => Graph>][] = [
  [
    'model.json small-cnn',
    'test/fixtures/model-json/small-cnn.json',
    async () => (await import('../../../compiler/frontend/model-json/index.ts')).loadModelJson,
  ],
  [
    'model.json tiny-cnn',
    'test/fixtures/model-json/tiny-cnn.json',
    async () => (await import('../../../compiler/frontend/model-json/index.ts')).loadModelJson,
  ],
  [
    'ONNX mnist-8',
    'test/fixtures/cli/mnist-8.onnx',
    async () => (await import('../../../compiler/frontend/onnx/index.ts')).loadOnnx,
  ],
];
const runtimeReady = ['runtime/node.ts', 'build/edgec-simd.wasm', 'build/edgec-scalar.wasm'].every((p) =>
  existsSync(at(p)),
);

for (const [name, file, loader] of fixtures) {
  if (!runtimeReady || !existsSync(at(file))) {
    skipSuite(`compiler/emit/frontends-e2e ${name}`, `${file} or build/*.wasm: npm run build`);
    continue;
  }
  test(`${name}: compiled bundle on simd and scalar ≈ reference`, async () => {
    const { load } = await import('../../../runtime/node.ts');
    const g = (await loader())(at(file).pathname);
    const inputs = inputsFor(g, 5);
    for (const i of g.inputs) inputs[i] = inputs[i]!.map((v) => Math.abs(v) / 2);
    const ref = evaluate(g, inputs);
    const { bundle } = compileGraph(g);
    const simd = (await load(bundle, { build: 'simd' })).run(inputs);
    const scalar = (await load(bundle, { build: 'scalar' })).run(inputs);
    for (const o of g.outputs) {
      const a = simd[o] as Float32Array,
        b = scalar[o] as Float32Array;
      const worst = closeness(a, ref[o]!, 1e-4, 1e-5);
      assert.ok(worst <= 1, `${o}: worst error ${worst.toFixed(2)}× tolerance`);
      assert.equal(
        new Uint32Array(a.buffer, a.byteOffset, a.length),
        new Uint32Array(b.buffer, b.byteOffset, b.length),
        'simd == scalar bits',
      );
    }
  });
}

test.run();
