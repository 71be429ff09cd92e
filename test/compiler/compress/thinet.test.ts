// --importance thinet against the float64 reference: with every output position sampled, the greedy
// walk's error after removing order[0..k] equals Σ_consumers ‖Δy‖² / ‖Δy_all‖² measured by running the
// original with those units' consumer columns zeroed (Δy_all: every unit of the group zeroed), for every
// k; the first unit removed is the brute-force best single one; a dead channel (zero activations,
// large weights — l1 would keep it) is removed first at zero error. Tolerance 1e-9 relative (float64 both).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { consumerColumns } from '../../../compiler/compress/columns.ts';
import { dependencyGroups, type DepGraph, type DepGroup } from '../../../compiler/compress/groups.ts';
import { unitScores } from '../../../compiler/compress/importance.ts';
import { consumerActivations, thinetScores } from '../../../compiler/compress/thinet.ts';
import { randomValues } from '../ir/build-graph.ts';
import { residualConcat } from './models.ts';

/**
 * Each consumer's output (pre-activation: the test consumers have none fused) with `units` of `grp` zeroed in
 * that consumer's columns only: ThiNet reconstructs every layer from the original activations, so a consumer
 * that also feeds the group (the residual conv) does not change what the others read.
 */
function consumerOutputs(
  g: Graph,
  dep: DepGraph,
  grp: DepGroup,
  units: number[],
  xs: Float32Array[],
): Float64Array[][] {
  return consumerColumns(g, dep, grp).map((c) => {
    const h: Graph = { ...g, tensors: new Map(g.tensors) };
    const t = g.tensors.get(c.weight)!;
    const data = Float32Array.from(t.data as Float32Array);
    for (const u of units)
      for (const p of c.positions[u]!) {
        const blk = Math.floor(p / c.cols);
        for (let r = blk * c.rowsPerBlock; r < (blk + 1) * c.rowsPerBlock; r++)
          for (let m = 0; m < c.mid; m++) data[(r * c.mid + m) * c.cols + (p % c.cols)] = 0;
      }
    h.tensors.set(c.weight, { ...t, data });
    return xs.map((x) => evaluate(h, { x }, { all: true })[c.node.outputs[0]!]!);
  });
}

const sqDiff = (a: Float64Array[], b: Float64Array[]) =>
  a.reduce((s, v, i) => s + v.reduce((t, x, k) => t + (x - b[i]![k]!) ** 2, 0), 0);

test('thinet: greedy errors = float64 reference with the removed columns zeroed, at every step', () => {
  const g = residualConcat();
  const dep = dependencyGroups(g);
  const xs = Array.from({ length: 3 }, (_, i) => randomValues(32, 700 + i, 0, 1));
  for (const grp of dep.groups.filter((x) => x.fixed === undefined)) {
    const acts = consumerActivations(g, dep, [grp], xs);
    const r = thinetScores(g, dep, grp, acts, { positions: Infinity });
    assert.equal(
      [...r.order].sort((a, b) => a - b),
      grp.units.map((_, i) => i),
    );
    const base = consumerOutputs(g, dep, grp, [], xs);
    const all = consumerOutputs(
      g,
      dep,
      grp,
      grp.units.map((_, i) => i),
      xs,
    );
    const energy = base.map((b, c) => sqDiff(b, all[c]!));
    const measured = (units: number[]) => {
      const z = consumerOutputs(g, dep, grp, units, xs);
      return base.reduce((s, b, c) => s + sqDiff(b, z[c]!) / energy[c]!, 0);
    };
    for (let k = 1; k <= grp.units.length; k++) {
      const want = measured(r.order.slice(0, k));
      assert.ok(
        Math.abs(r.errors[k - 1]! - want) <= 1e-9 * (1 + want),
        `${grp.name} step ${k}: ${r.errors[k - 1]} vs ${want}`,
      );
    }
    const single = grp.units.map((_, u) => measured([u]));
    const best = single.indexOf(Math.min(...single));
    assert.is(r.order[0], best, `${grp.name}: first removal is the best single unit`);
    assert.ok(r.errors.at(-1)! > 0 && Math.abs(r.errors.at(-1)! - base.length) < 1e-9, 'all removed = 1 per consumer');
  }
});

test('thinet removes a dead channel first; l1 keeps it', () => {
  const g = residualConcat();
  // the concat branch conv2d4: BN shift +3 keeps every channel alive but channel 2, whose BN scale 0 and
  // shift −1 make relu give 0 whatever its filter
  (g.tensors.get('bb')!.data as Float32Array).fill(3);
  (g.tensors.get('s')!.data as Float32Array)[2] = 0;
  (g.tensors.get('bb')!.data as Float32Array)[2] = -1;
  const wd = g.tensors.get('wd')!.data as Float32Array;
  for (let i = 0; i < wd.length; i++) if (i % 12 === 10) wd[i] = 5;
  const dep = dependencyGroups(g);
  const grp = dep.groups.find((x) => x.name === 'conv2d4')!;
  const xs = Array.from({ length: 3 }, (_, i) => randomValues(32, 800 + i, 0, 1));
  const r = thinetScores(g, dep, grp, consumerActivations(g, dep, [grp], xs), { positions: Infinity });
  assert.is(r.order[0], 2);
  assert.is(r.errors[0], 0);
  assert.ok(r.errors[1]! > 0, 'the live channels do cost');
  assert.is(r.scores[2], 0);
  const l1 = unitScores(g, dep, grp, 'l1');
  assert.ok(l1[2]! > Math.min(...l1), 'weight norms alone would not find it');
});

test('thinet samples a fixed number of positions, deterministically', () => {
  const g = residualConcat();
  const dep = dependencyGroups(g);
  const grp = dep.groups.find((x) => x.name === 'conv2d0+conv2d1')!;
  const xs = Array.from({ length: 2 }, (_, i) => randomValues(32, 600 + i, 0, 1));
  const acts = consumerActivations(g, dep, [grp], xs);
  const a = thinetScores(g, dep, grp, acts, { positions: 40, seed: 3 }),
    b = thinetScores(g, dep, grp, acts, { positions: 40, seed: 3 });
  assert.is(a.positions, 50, 'conv2d1: 40 of 256 positions; the Dense: all of its 10');
  assert.equal(a.order, b.order);
});

test.run();
