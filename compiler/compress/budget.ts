// --target-macs: per-group pruning ratios that meet a MAC budget, chosen by measured sensitivity. Each
// prunable group is pruned alone at each level (25 / 50 / 75 % up to --max-ratio) and the output error on
// calibration data is measured; then a greedy walk takes the step with the least error per MAC saved
// until the whole model's MACs (counted on the pruned IR) are within the budget.
import type { Graph } from '../ir/graph.ts';
import type { DepGraph, DepGroup } from './groups.ts';
import type { Importance } from './importance.ts';
import { applyPruning, graphMacs, keptCount, keptUnits, type KeepRule } from './prune.ts';

export const LEVELS = [0.25, 0.5, 0.75] as const;

export interface Sensitivity {
  group: string;
  ratio: number;
  kept: number;
  error: number;
  macs: number;
}

export interface BudgetResult {
  ratios: Map<string, number>;
  macs: number;
  /** false: every group at its largest level and still above the budget. */
  reached: boolean;
  sensitivity: Sensitivity[];
}

/** `error(g)` measures a pruned graph against the original on calibration data (≥ 0, lower is better). */
export async function ratiosForBudget(
  g: Graph,
  dep: DepGraph,
  prunable: readonly DepGroup[],
  share: number,
  importance: Importance,
  rule: KeepRule,
  error: (pruned: Graph) => Promise<number>,
  progress?: (done: number, total: number) => void,
  scores?: ReadonlyMap<string, Float64Array>,
): Promise<BudgetResult> {
  const budget = share * graphMacs(g);
  const prunedWith = (ratios: Map<string, number>) =>
    applyPruning(g, dep, keptUnits(g, { dep, ratios, importance, rule, scores }));
  // the levels that change a group's kept count, each once
  const steps = new Map<string, { ratio: number; kept: number }[]>();
  for (const grp of prunable) {
    const seen = new Set<number>([grp.units.length]);
    const list: { ratio: number; kept: number }[] = [];
    for (const ratio of [...LEVELS.filter((l) => l < rule.maxRatio), rule.maxRatio]) {
      const kept = keptCount(grp, ratio, rule);
      if (!seen.has(kept)) {
        seen.add(kept);
        list.push({ ratio, kept });
      }
    }
    steps.set(grp.name, list);
  }
  const total = [...steps.values()].reduce((s, l) => s + l.length, 0);
  const sensitivity: Sensitivity[] = [];
  for (const [name, list] of steps) {
    for (const { ratio, kept } of list) {
      const pruned = prunedWith(new Map([[name, ratio]]));
      sensitivity.push({ group: name, ratio, kept, error: await error(pruned), macs: graphMacs(pruned) });
      progress?.(sensitivity.length, total);
    }
  }
  const at = new Map<string, number>(prunable.map((grp) => [grp.name, -1]));
  const ratios = new Map<string, number>();
  const base = graphMacs(g);
  let macs = base;
  const costOf = (name: string, i: number) =>
    i < 0
      ? { error: 0, macs: base }
      : sensitivity.find((s) => s.group === name && s.ratio === steps.get(name)![i]!.ratio)!;
  while (macs > budget) {
    let best: { name: string; score: number } | undefined;
    for (const [name, i] of at) {
      if (i + 1 >= steps.get(name)!.length) continue;
      const cur = costOf(name, i),
        next = costOf(name, i + 1);
      const saved = cur.macs - next.macs;
      if (saved <= 0) continue;
      const score = Math.max(next.error - cur.error, 0) / saved;
      if (!best || score < best.score) best = { name, score };
    }
    if (!best) break;
    const i = at.get(best.name)! + 1;
    at.set(best.name, i);
    ratios.set(best.name, steps.get(best.name)![i]!.ratio);
    macs = graphMacs(prunedWith(ratios));
  }
  return { ratios, macs, reached: macs <= budget, sensitivity };
}
