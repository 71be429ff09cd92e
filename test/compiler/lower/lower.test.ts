// Lowering + planning + emit checked without wasm: every grid graph compiles, the bundle is read
// back and run by the test's TS interpreter of the kernel contracts (float32, at the planned arena
// offsets), and agrees with the float64 reference evaluator within 1e-4 relative + 1e-5 absolute.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileGraph } from '../../../compiler/compile.ts';
import { collapseDims } from '../../../compiler/lower/index.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { GRID } from '../emit/grid-cases.ts';
import { closeness, inputsFor } from '../ir/build-graph.ts';
import { interpretBundle } from '../emit/bundle-interpreter.ts';

test('collapseDims merges contiguous and jointly broadcast dims, drops 1s', () => {
  // out [1,4,4,5]: a contiguous, b = [5] broadcast over the first three dims
  assert.equal(
    collapseDims(
      [1, 4, 4, 5],
      [
        [80, 20, 5, 1],
        [0, 0, 0, 1],
      ],
    ),
    [
      [16, 5],
      [5, 1],
      [0, 1],
    ],
  );
  assert.equal(
    collapseDims(
      [2, 3, 4],
      [
        [12, 4, 1],
        [12, 4, 1],
      ],
    ),
    [[24], [1], [1]],
  );
  // transpose [0,2,1] of [2,3,4]: only the outer dim stays separate
  assert.equal(collapseDims([2, 4, 3], [[12, 1, 4]]), [
    [2, 4, 3],
    [12, 1, 4],
  ]);
  assert.equal(collapseDims([1, 1], [[0, 0]]), [[1], [0]]);
});

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
