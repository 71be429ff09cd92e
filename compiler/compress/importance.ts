// Channel importance of a dependency group's units, from the producing layers' filters (the weight rows,
// axis 0, of every transform making the channels): l1 = Σ|w| (Li et al. 2017), l2 = √Σw², fpgm = Σ of
// L2 distances to the group's other filters (He et al. 2019: filters near the geometric median are the
// most replaceable). Float64 sums in row order. Higher = more important. taylor and thinet score units
// from calibration data (taylor.ts, thinet.ts; dataScores) and reach keptUnits as precomputed scores.
import type { Graph } from '../ir/graph.ts';
import type { DepGraph, DepGroup } from './groups.ts';

export const IMPORTANCE = ['l1', 'l2', 'fpgm', 'taylor', 'thinet'] as const;
export type Importance = (typeof IMPORTANCE)[number];
export const DATA_IMPORTANCE: readonly Importance[] = ['taylor', 'thinet'];

/** The filter of each unit in each producer: rows[p][u] = the unit's weights in producer p (positions joined). */
function filters(g: Graph, dep: DepGraph, grp: DepGroup): Float64Array[][] {
  return grp.producers.map((name) => {
    const n = g.nodes.find((x) => x.name === name)!;
    const flow = dep.flows.get(name)!;
    if (flow.kind !== 'transform') throw new Error(`producer '${name}' is not a transform`);
    const w = g.tensors.get(n.inputs[flow.produces[0]!.input]!)!;
    const row = w.shape.slice(1).reduce((a, b) => a * b, 1);
    return grp.units.map((u) => {
      const pos = u.at.get(n.outputs[0]!) ?? [];
      const f = new Float64Array(pos.length * row);
      pos.forEach((p, k) => {
        for (let i = 0; i < row; i++) f[k * row + i] = Number(w.data![p * row + i]!);
      });
      return f;
    });
  });
}

export function unitScores(g: Graph, dep: DepGraph, grp: DepGroup, kind: Importance): Float64Array {
  if (DATA_IMPORTANCE.includes(kind))
    throw new Error(`importance '${kind}' is measured on calibration data: pass its scores (dataScores)`);
  const scores = new Float64Array(grp.units.length);
  for (const rows of filters(g, dep, grp)) {
    rows.forEach((f, u) => {
      if (kind === 'l1') {
        let s = 0;
        for (const v of f) s += Math.abs(v);
        scores[u] += s;
      } else if (kind === 'l2') {
        let s = 0;
        for (const v of f) s += v * v;
        scores[u] += Math.sqrt(s);
      } else {
        let s = 0;
        for (const other of rows) {
          let d = 0;
          for (let i = 0; i < f.length; i++) d += (f[i]! - other[i]!) ** 2;
          s += Math.sqrt(d);
        }
        scores[u] += s;
      }
    });
  }
  return scores;
}
