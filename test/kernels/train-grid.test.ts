// The training-kernel grid, generated from the registry like test/kernels/grid.test.ts: every variant file under
// assembly/kernels/train/ with a tile, for every conv-gradient KernelId it serves, walks the tile's axes (m = Ci and
// n = Co of a groups-1 conv, k = channels of a depthwise one) at, below, above and at multiples of the tile, each
// size under a rotating geometry (kernel 3×3 / 1×1 / 1×3 dilated / 5×3, strides 1–2, asymmetric padding, 1–2
// images). Each case is one Conv2DGradInput / Conv2DGradFilter node; simd/scalar × fast/reference give identical
// bits (runAll), and the float64 IR reference agrees within 1e-5·(terms + 1).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as flatbuffers from 'flatbuffers';
import { VARIANTS, kernelByName } from '../../compiler/kernels/registry.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { evaluate } from '../../compiler/ir/reference.ts';
import { fb } from '../../compiler/emit/bundle-writer.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';
import { runAll } from '../assembly/harness.ts';
import { CaseGraph, gridDims } from './grid/case.ts';

interface Geo {
  k: [number, number];
  s: [number, number];
  d: [number, number];
  pad: [number, number, number, number];
  h: number;
  w: number;
  n: number;
}
const GEOS: Geo[] = [
  { k: [3, 3], s: [1, 1], d: [1, 1], pad: [1, 1, 1, 1], h: 6, w: 6, n: 2 },
  { k: [3, 3], s: [2, 2], d: [1, 1], pad: [1, 0, 1, 1], h: 7, w: 8, n: 1 },
  { k: [1, 1], s: [1, 1], d: [1, 1], pad: [0, 0, 0, 0], h: 5, w: 4, n: 2 },
  { k: [1, 3], s: [1, 1], d: [1, 2], pad: [0, 1, 0, 1], h: 4, w: 9, n: 1 },
  { k: [5, 3], s: [2, 1], d: [1, 1], pad: [2, 1, 1, 0], h: 9, w: 6, n: 1 },
];
const out = (i: number, k: number, s: number, d: number, p0: number, p1: number) =>
  Math.floor((i + p0 + p1 - d * (k - 1) - 1) / s) + 1;

/** One gradient node of a conv with Ci input and Co output channels in `groups` groups. */
function gradCase(
  kernel: 'Conv2DGradInput_F32' | 'Conv2DGradFilter_F32',
  ci: number,
  co: number,
  groups: number,
  g: Geo,
  seed: number,
) {
  const c = new CaseGraph(seed);
  const oh = out(g.h, g.k[0], g.s[0], g.d[0], g.pad[0], g.pad[2]),
    ow = out(g.w, g.k[1], g.s[1], g.d[1], g.pad[1], g.pad[3]);
  const attrs: Attrs = { strides: g.s, dilations: g.d, padding: g.pad, groups };
  const dy = c.f32('dy', [g.n, oh, ow, co]);
  const wShape = [co, g.k[0], g.k[1], ci / groups];
  const y =
    kernel === 'Conv2DGradInput_F32'
      ? c.node('Conv2DGradInput', [dy, c.f32('w', wShape)], { ...attrs, inputShape: [g.n, g.h, g.w, ci] })
      : c.node('Conv2DGradFilter', [c.f32('x', [g.n, g.h, g.w, ci]), dy], { ...attrs, weightShape: wShape });
  const terms = kernel === 'Conv2DGradInput_F32' ? g.k[0] * g.k[1] * (co / groups) : g.n * oh * ow;
  return c.done(y, 1e-5 * (terms + 1));
}

const kernelsOf = (bundle: Uint8Array) => {
  const b = fb.Bundle.getRootAsBundle(new flatbuffers.ByteBuffer(bundle));
  return Array.from({ length: b.stepsLength() }, (_, i) => b.steps(i)!.kernel());
};

const TRAIN_VARIANTS = VARIANTS.filter((v) => v.dir === 'train' && v.tile);
let cases = 0;

test('the training grid covers a variant', () => {
  assert.ok(TRAIN_VARIANTS.some((v) => v.serves.includes('Conv2DGradFilter_F32') && v.builds.includes('simd')));
  for (const v of TRAIN_VARIANTS)
    for (const s of v.serves)
      assert.ok(s === 'Conv2DGradInput_F32' || s === 'Conv2DGradFilter_F32', `${v.name}: no grid for ${s}`);
});

for (const v of TRAIN_VARIANTS) {
  for (const name of v.serves as ('Conv2DGradInput_F32' | 'Conv2DGradFilter_F32')[]) {
    const id = kernelByName(name).id;
    test(`${name}: around the tile of ${v.name}`, async () => {
      let i = 0;
      for (const d of gridDims(v.tile!)) {
        const shapes = [
          { ci: d.m, co: d.n, groups: 1 },
          { ci: d.k, co: d.k, groups: d.k },
        ];
        for (const { ci, co, groups } of shapes) {
          const g = GEOS[i % GEOS.length]!;
          const label = `${name} (${v.name}) Ci ${ci} Co ${co} groups ${groups} k${g.k.join('x')} s${g.s.join('x')} d${g.d.join('x')} ${g.n}x${g.h}x${g.w}`;
          const c = gradCase(name, ci, co, groups, g, i++);
          cases++;
          const bundle = compileGraph(c.graph, { skipPasses: true }).bundle;
          assert.ok(
            kernelsOf(bundle).includes(id),
            `${label}: lowered to ${kernelsOf(bundle).map((k) => fb.KernelId[k])}`,
          );
          const o = c.graph.outputs[0]!;
          const got = (await runAll(bundle, c.inputs, label))[o]!;
          const want = evaluate(c.graph, c.inputs as Record<string, ArrayLike<number>>)[o]!;
          assert.is(got.length, want.length, `${label}: length`);
          for (let j = 0; j < want.length; j++) {
            if (!(Math.abs(got[j]! - want[j]!) <= c.tol))
              assert.unreachable(`${label}: [${j}] got ${got[j]}, reference ${want[j]}`);
          }
        }
      }
    });
  }
}

test('the training grid ran', () => {
  assert.ok(cases >= 20 * TRAIN_VARIANTS.length, `${cases} cases`);
});

test.run();
