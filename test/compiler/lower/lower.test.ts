// Lowering + planning + emit checked without wasm: every grid graph compiles, the bundle is read
// back and run by the test's TS interpreter of the kernel contracts (float32, at the planned arena
// offsets), and agrees with the float64 reference evaluator within 1e-4 relative + 1e-5 absolute.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileGraph } from '../../../compiler/compile.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { GRID } from '../emit/grid-cases.ts';
import { closeness, inputsFor } from '../ir/build-graph.ts';
import { interpretBundle } from '../emit/bundle-interpreter.ts';

for (const c of GRID) {
  test(`lowered bundle ≈ reference: ${c.name}`, () => {
    const g = c.build();
    const inputs = inputsFor(g);
    const ref = evaluate(g, inputs);
    const { bundle } = compileGraph(g);
    const got = interpretBundle(bundle, inputs);
    for (const o of g.outputs) {
      const worst = closeness(got[o]!, ref[o]!, 1e-4, 1e-5);
      assert.ok(worst <= 1, `${o}: worst error ${worst.toFixed(2)}× tolerance`);
    }
  });
}

test.run();
