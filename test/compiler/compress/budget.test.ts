// --target-macs (budget.ts) on the tiny residual Fashion model, with the error measured on the float64
// reference (relative squared output error on 2 inputs): the budget is met on the pruned IR, the first
// step taken is the cheapest error per saved MAC among every group's first level, and a budget no ratio
// can reach stops with every group at --max-ratio and says so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../../compiler/ir/graph.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { ratiosForBudget } from '../../../compiler/compress/budget.ts';
import { applyPruning, graphMacs, keptCount, keptUnits, prunableGroups } from '../../../compiler/compress/prune.ts';
import { residualFashion } from '../../../scripts/compress-models.ts';
import { randomValues } from '../ir/build-graph.ts';

const g = residualFashion(8);
const xs = [randomValues(784, 1, 0, 1), randomValues(784, 2, 0, 1)];
const ref = xs.map((x) => evaluate(g, { x })[g.outputs[0]!]!);
async function error(h: Graph): Promise<number> {
  let num = 0,
    den = 0;
  xs.forEach((x, i) => {
    const y = evaluate(h, { x })[h.outputs[0]!]!;
    y.forEach((v, k) => {
      num += (v - ref[i]![k]!) ** 2;
      den += ref[i]![k]! ** 2;
    });
  });
  return num / den;
}
const rule = { roundTo: 2, maxRatio: 0.75 };

test('target 0.5: met on the pruned IR, with the ratios it returns', async () => {
  const { dep, prunable } = prunableGroups(g, []);
  const r = await ratiosForBudget(g, dep, prunable, 0.5, 'l1', rule, error);
  assert.ok(r.reached);
  const pruned = applyPruning(g, dep, keptUnits(g, { dep, ratios: r.ratios, importance: 'l1', rule }));
  assert.is(graphMacs(pruned), r.macs);
  assert.ok(r.macs <= 0.5 * graphMacs(g), `${r.macs} vs ${graphMacs(g)}`);
  assert.ok(r.ratios.size >= 2 && r.ratios.size <= prunable.length);
});

test('the first step is the least error per MAC saved', async () => {
  const { dep, prunable } = prunableGroups(g, []);
  const base = graphMacs(g);
  const r = await ratiosForBudget(g, dep, prunable, 1 - 1 / base, 'l1', rule, error);
  assert.is(r.ratios.size, 1, 'one step meets a budget one MAC below the original');
  const [[chosen, ratio]] = [...r.ratios];
  const first = prunable.map((grp) => r.sensitivity.find((s) => s.group === grp.name)!);
  const score = (s: (typeof first)[number]) => s.error / (base - s.macs);
  const best = first.reduce((a, b) => (score(b) < score(a) ? b : a));
  assert.is(chosen, best.group);
  assert.is(ratio, best.ratio);
});

test('an unreachable budget: every group at --max-ratio, reached false', async () => {
  const { dep, prunable } = prunableGroups(g, []);
  const r = await ratiosForBudget(g, dep, prunable, 0.01, 'l1', rule, error);
  assert.not.ok(r.reached);
  for (const grp of prunable)
    assert.is(keptCount(grp, r.ratios.get(grp.name)!, rule), keptCount(grp, rule.maxRatio, rule), grp.name);
});

test.run();
