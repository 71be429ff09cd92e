// The residual Fashion-MNIST model of scripts/compress-models.ts (tiny, untrained: width 4) through every
// compression stage: its dependency groups (a residual Add over a Concat's offset slices gives two groups
// that each join a concat branch with the block's last conv), pruning = the original with the removed
// columns zeroed on the float64 reference (exact), smaller compiled convs, taylor and thinet scores for
// every group, and both residual blocks as layer candidates.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileGraph } from '../../../compiler/compile.ts';
import { summarizeBundle } from '../../../compiler/cli/inspect.ts';
import { evaluate } from '../../../compiler/ir/reference.ts';
import { dataScores } from '../../../compiler/compress/data-importance.ts';
import { layerCandidates } from '../../../compiler/compress/layers.ts';
import { applyPruning, graphMacs, keptUnits, prunableGroups } from '../../../compiler/compress/prune.ts';
import { residualFashion } from '../../../scripts/compress-models.ts';
import { randomValues } from '../ir/build-graph.ts';
import { zeroRemoved } from './models.ts';

const xs = Array.from({ length: 4 }, (_, i) => randomValues(784, 40 + i, 0, 1));

test('groups: residual over concat slices, the stem block, the inner convs', () => {
  const g = residualFashion(4);
  const { dep, prunable } = prunableGroups(g, []);
  assert.equal(prunable.map((x) => `${x.name}:${x.units.length}`).sort(), [
    'block1.conv1:4',
    'block2.conv1:8',
    'branch.conv+block2.conv2:4',
    'branch.pw+block2.conv2:4',
    'stem+block1.conv2:4',
  ]);
  const fc = dep.groups.find((x) => x.name === 'fc')!;
  assert.match(fc.fixed!, /graph output/);
});

test('pruning each importance: exact against the zeroed original, smaller convs', async () => {
  const g = residualFashion(4);
  const { dep, prunable } = prunableGroups(g, []);
  const rule = { roundTo: 1, maxRatio: 0.75 };
  const ratios = new Map(prunable.map((x) => [x.name, 0.5]));
  for (const importance of ['l1', 'fpgm', 'taylor', 'thinet'] as const) {
    const scores =
      importance === 'taylor' || importance === 'thinet'
        ? await dataScores(g, dep, prunable, importance, xs)
        : undefined;
    const kept = keptUnits(g, { dep, ratios, importance, rule, scores });
    assert.is(kept.size, prunable.length, importance);
    const pruned = applyPruning(g, dep, kept);
    const zeroed = zeroRemoved(g, dep, kept);
    for (const x of xs.slice(0, 2)) {
      const want = evaluate(zeroed, { x })[g.outputs[0]!]!,
        got = evaluate(pruned, { x })[g.outputs[0]!]!;
      assert.equal(Array.from(got), Array.from(want), importance);
    }
    assert.ok(graphMacs(pruned) < 0.45 * graphMacs(g), `${importance}: ${graphMacs(g)} → ${graphMacs(pruned)}`);
    const before = summarizeBundle(compileGraph(g).bundle),
      after = summarizeBundle(compileGraph(pruned).bundle);
    assert.ok(after.macs < before.macs, `${importance}: bundle MACs ${before.macs} → ${after.macs}`);
  }
});

test('layer candidates: both residual blocks', () => {
  const g = residualFashion(4);
  assert.equal(
    layerCandidates(g)
      .filter((c) => c.kind === 'residual')
      .map((c) => [c.node, c.nodes]),
    [
      ['block1.add', ['block1.conv1', 'block1.conv2']],
      ['block2.add', ['block2.conv1', 'block2.conv2']],
    ],
  );
});

test.run();
