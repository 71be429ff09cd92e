// The kernel grid, generated from the registry (compiler/kernels/registry.ts): every KernelId but the control
// and training steps, for every variant file that serves it, runs sizes at, below, above and at multiples of each axis of that
// variant's tile (m, n, k one at a time, the others just above the tile). Each case is a small IR graph from
// test/kernels/grid/*.ts; the test asserts the lowering picked the KernelId, runs simd/scalar × fast/reference
// (identical bits) and compares with the IR reference: int8 exactly, f32 within the case's tolerance.
// A new kernel or variant is one registry line + one builder in grid/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as flatbuffers from 'flatbuffers';
import { KERNELS, VARIANTS } from '../../compiler/kernels/registry.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { evaluate } from '../../compiler/ir/reference.ts';
import { fb } from '../../compiler/emit/bundle-writer.ts';
import { runAll } from '../assembly/harness.ts';
import { gridDims, type Builder } from './grid/case.ts';
import { GRID as F32 } from './grid/f32.ts';
import { GRID as QS8 } from './grid/qs8.ts';

const BUILDERS: Record<string, Builder> = { ...F32, ...QS8 };

const kernelsOf = (bundle: Uint8Array) => {
  const b = fb.Bundle.getRootAsBundle(new flatbuffers.ByteBuffer(bundle));
  return Array.from({ length: b.stepsLength() }, (_, i) => b.steps(i)!.kernel());
};

// the training kernels are checked against float64 finite differences in test/compiler/train/ instead
const GRIDDED = KERNELS.filter((k) => k.family !== 'control' && k.family !== 'train');
let cases = 0;

test('every registry KernelId but the control and training steps has a grid builder, and every builder a KernelId', () => {
  assert.equal(Object.keys(BUILDERS).sort(), GRIDDED.map((k) => k.name).sort());
  for (const k of GRIDDED)
    assert.ok(
      VARIANTS.some((v) => v.serves.includes(k.name) && v.tile),
      `${k.name}: no variant with a tile`,
    );
});

for (const row of GRIDDED) {
  const tiles = [
    ...new Map(
      VARIANTS.filter((v) => v.serves.includes(row.name) && v.tile).map((v) => [JSON.stringify(v.tile), v]),
    ).values(),
  ];
  test(`${row.name}: around the tiles of ${tiles.map((v) => v.name).join(', ')}`, async () => {
    let i = 0;
    for (const v of tiles) {
      for (const d of gridDims(v.tile!)) {
        const label = `${row.name} (${v.name}) m${d.m} n${d.n} k${d.k}`;
        const c = BUILDERS[row.name]!(d, i++);
        cases++;
        const { disableKernels, forceKernels } = c;
        const bundle = compileGraph(c.graph, { skipPasses: true, disableKernels, forceKernels }).bundle;
        assert.ok(
          kernelsOf(bundle).includes(row.id),
          `${label}: lowered to ${kernelsOf(bundle).map((k) => fb.KernelId[k])}`,
        );
        const out = c.graph.outputs[0]!;
        const got = (await runAll(bundle, c.inputs, label))[out]!;
        const want = evaluate(c.graph, c.inputs as Record<string, ArrayLike<number>>)[out]!;
        assert.is(got.length, want.length, `${label}: length`);
        const exact = !(got instanceof Float32Array);
        for (let j = 0; j < want.length; j++) {
          const err = Math.abs(got[j]! - want[j]!);
          if (exact ? got[j] !== want[j] : !(err <= c.tol))
            assert.unreachable(`${label}: [${j}] got ${got[j]}, reference ${want[j]}`);
        }
      }
    }
  });
}

test('the grid ran', () => {
  assert.ok(cases >= 10 * GRIDDED.length, `${cases} cases`);
});

test.run();
