// --importance taylor against the float64 reference: for every unit of every group (a residual Add group,
// a concat branch with BatchNorm, a Flatten → Dense read), the training engine's Σ w·∂L/∂w over the unit's
// consumer columns equals the float64 central difference of the batch-mean cross-entropy when those
// columns are scaled by 1 ± ε (the directional derivative it estimates). Tolerance: 2e-3 of the largest
// |s| in the group + 1e-6 (float32 gradients, float64 finite differences with ε = 1e-4).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { consumerColumns } from '../../../compiler/compress/columns.ts';
import { dependencyGroups } from '../../../compiler/compress/groups.ts';
import { taylorScores, taylorTerms } from '../../../compiler/compress/taylor.ts';
import { randomValues } from '../ir/build-graph.ts';
import { residualConcat } from './models.ts';

/** Batch-mean softmax cross-entropy of the float64 reference over `xs`. */
function referenceLoss(g: Graph, xs: Float32Array[], labels: Int32Array): number {
  let loss = 0;
  xs.forEach((x, i) => {
    const z = evaluate(g, { [g.inputs[0]!]: x })[g.outputs[0]!]!;
    const m = Math.max(...z);
    let s = 0;
    for (const v of z) s += Math.exp(v - m);
    loss += Math.log(s) + m - z[labels[i]!]!;
  });
  return loss / xs.length;
}

test('taylor: Σ w·∂L/∂w of each unit = float64 central difference of the loss along its columns', async () => {
  const g = residualConcat();
  const dep = dependencyGroups(g);
  const groups = dep.groups.filter((x) => x.fixed === undefined);
  assert.equal(groups.map((x) => `${x.name}:${x.units.length}`).sort(), ['conv2d0+conv2d1:8', 'conv2d4:4']);
  const xs = Array.from({ length: 6 }, (_, i) => randomValues(32, 500 + i, 0, 1));
  const labels = Int32Array.from([0, 3, 1, 4, 2, 0]);
  const { terms, batch } = await taylorTerms(g, dep, groups, xs, labels, 3);
  assert.is(batch, 3);
  const eps = 1e-4;
  for (const grp of groups) {
    const cs = consumerColumns(g, dep, grp);
    assert.ok(cs.length > 0, `${grp.name} has consumers`);
    const perBatch = terms.get(grp)!;
    assert.is(perBatch.length, 2);
    for (let b = 0; b < 2; b++) {
      const bx = xs.slice(b * 3, b * 3 + 3),
        by = labels.slice(b * 3, b * 3 + 3);
      const want = grp.units.map((_, u) => {
        const scaled = (k: number) => {
          const h: Graph = { ...g, tensors: new Map(g.tensors) };
          for (const c of cs) {
            const t = g.tensors.get(c.weight)!;
            const data = Float64Array.from(t.data as Float32Array);
            for (const p of c.positions[u]!) {
              const blk = Math.floor(p / c.cols);
              for (let r = blk * c.rowsPerBlock; r < (blk + 1) * c.rowsPerBlock; r++)
                for (let m = 0; m < c.mid; m++) data[(r * c.mid + m) * c.cols + (p % c.cols)]! *= k;
            }
            h.tensors.set(c.weight, { ...t, data: data as unknown as Float32Array });
          }
          return referenceLoss(h, bx, by);
        };
        return (scaled(1 + eps) - scaled(1 - eps)) / (2 * eps);
      });
      const got = perBatch[b]!;
      const tol = 2e-3 * Math.max(...want.map(Math.abs)) + 1e-6;
      want.forEach((w, u) =>
        assert.ok(Math.abs(got[u]! - w) <= tol, `${grp.name} batch ${b} unit ${u}: engine ${got[u]} vs f64 ${w}`),
      );
      assert.ok(Math.max(...want.map(Math.abs)) > 1e-4, 'the check is not vacuous');
    }
    const score = taylorScores(perBatch, grp.units.length);
    score.forEach((s, u) =>
      assert.ok(Math.abs(s - (perBatch[0]![u]! ** 2 + perBatch[1]![u]! ** 2) / 2) <= 1e-12 * (1 + s)),
    );
  }
});

test('taylor without labels uses the model argmax', async () => {
  const g = residualConcat();
  const dep = dependencyGroups(g);
  const groups = dep.groups.filter((x) => x.fixed === undefined);
  const xs = Array.from({ length: 4 }, (_, i) => randomValues(32, 900 + i, 0, 1));
  const { labels } = await taylorTerms(g, dep, groups, xs, undefined, 4);
  const want = xs.map((x) => {
    const z = evaluate(g, { x })[g.outputs[0]!]!;
    return z.indexOf(Math.max(...z));
  });
  assert.equal([...labels], want);
});

test.run();
