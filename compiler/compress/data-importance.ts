// The calibration-data criteria (--importance taylor | thinet) for every prunable group at once, computed
// on the graph before any cut and handed to keptUnits as precomputed scores (by group name).
import { ModelError, type Graph } from '../ir/graph.ts';
import type { DepGraph, DepGroup } from './groups.ts';
import type { Importance } from './importance.ts';
import { taylorScores, taylorTerms } from './taylor.ts';
import { consumerActivations, thinetScores } from './thinet.ts';

/** ThiNet runs the float64 reference per sample: at most this many calibration samples feed it. */
export const THINET_SAMPLES = 16;

export async function dataScores(
  g: Graph,
  dep: DepGraph,
  groups: readonly DepGroup[],
  kind: Importance,
  samples: readonly Float32Array[],
  labels?: ArrayLike<number>,
): Promise<Map<string, Float64Array>> {
  if (samples.length === 0)
    throw new ModelError(g.source, `--importance ${kind}`, 'needs --calibration samples to measure on');
  const scores = new Map<string, Float64Array>();
  if (kind === 'taylor') {
    const { terms } = await taylorTerms(g, dep, groups, samples, labels);
    for (const grp of groups) scores.set(grp.name, taylorScores(terms.get(grp)!, grp.units.length));
  } else if (kind === 'thinet') {
    const acts = consumerActivations(g, dep, groups, samples.slice(0, THINET_SAMPLES));
    for (const grp of groups) scores.set(grp.name, thinetScores(g, dep, grp, acts).scores);
  }
  return scores;
}
