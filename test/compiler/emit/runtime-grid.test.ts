// End-to-end grid: every grid graph → compileGraph → runtime/node.ts load (simd and scalar builds)
// → outputs within 1e-4 relative + 1e-5 absolute of the float64 reference evaluator, and the two
// builds bit-identical. Needs build/edgec-{simd,scalar}.wasm (`npm run build`, run by `npm test`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { compileGraph } from '../../../compiler/compile.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { GRID } from './grid-cases.ts';
import { closeness, inputsFor } from '../ir/build-graph.ts';
import { skipSuite } from '../../skip-suite.ts';

const root = new URL('../../../', import.meta.url);
const ready = ['runtime/node.ts', 'build/edgec-simd.wasm', 'build/edgec-scalar.wasm'].every((p) =>
  existsSync(new URL(p, root)),
);

if (!ready) {
  skipSuite('compiler/emit/runtime-grid', 'build/*.wasm: npm run build');
} else {
  const { load } = (await import('../../../runtime/node.ts')) as typeof import('../../../runtime/node.ts');
  for (const c of GRID) {
    test(`simd == scalar ≈ reference: ${c.name}`, async () => {
      const g = c.build();
      const inputs = inputsFor(g);
      const ref = evaluate(g, inputs);
      const { bundle } = compileGraph(g);
      const simd = (await load(bundle, { build: 'simd' })).run(inputs);
      const scalar = (await load(bundle, { build: 'scalar' })).run(inputs);
      for (const o of g.outputs) {
        const a = simd[o] as Float32Array,
          b = scalar[o] as Float32Array;
        assert.ok(a instanceof Float32Array && b instanceof Float32Array, `${o}: float32 outputs`);
        const worst = closeness(a, ref[o]!, 1e-4, 1e-5);
        assert.ok(worst <= 1, `${o}: simd worst error ${worst.toFixed(2)}× tolerance`);
        const ua = new Uint32Array(a.buffer, a.byteOffset, a.length),
          ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
        const diff = ua.findIndex((v, i) => v !== ub[i]);
        assert.is(diff, -1, `${o}: simd and scalar differ first at element ${diff}: ${a[diff]} vs ${b[diff]}`);
      }
    });
  }
}

test.run();
