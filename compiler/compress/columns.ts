// Where a dependency group's channels are read: for every consumer (a transform reading the group's
// tensors) the weight columns each unit feeds. Pruning a unit is exactly zeroing these columns (the
// float64 identity prune.test.ts checks), so the data-driven criteria (taylor.ts, thinet.ts) score a
// unit by what those columns contribute. Weights are [Co, …, Ci/G] (Dense [N, K], Conv2D OHWI); a
// grouped conv's input position p is column p mod Ci/G of the rows of block ⌊p / (Ci/G)⌋ only.
import type { Graph, Node } from '../ir/graph.ts';
import type { DepGraph, DepGroup } from './groups.ts';

export interface ConsumerColumns {
  node: Node;
  /** The consumer's data input (activations) and weight tensor names. */
  data: string;
  weight: string;
  /** Weight layout: rows (Co), inner elements per row and column (product of the middle dims), columns (Ci/G). */
  rows: number;
  mid: number;
  cols: number;
  /** Rows per conv group (Co / G; Co for groups = 1). */
  rowsPerBlock: number;
  /** Per unit: its positions in the data tensor's last axis. */
  positions: number[][];
}

export function consumerColumns(g: Graph, dep: DepGraph, grp: DepGroup): ConsumerColumns[] {
  return grp.consumers.map((name) => {
    const node = g.nodes.find((n) => n.name === name)!;
    const flow = dep.flows.get(name)!;
    if (flow.kind !== 'transform') throw new Error(`consumer '${name}' is not a transform`);
    const data = node.inputs[flow.data]!,
      weight = node.inputs[flow.consumes.input]!;
    const shape = g.tensors.get(weight)!.shape;
    const rows = shape[0]!,
      cols = shape.at(-1)!;
    return {
      node,
      data,
      weight,
      rows,
      mid: shape.slice(1, -1).reduce((a, b) => a * b, 1),
      cols,
      rowsPerBlock: rows / flow.groups,
      positions: grp.units.map((u) => u.at.get(data) ?? []),
    };
  });
}

/** Σ over the unit's columns of f(w, dw) in one consumer (rows of the position's block only), float64 in row order. */
export function columnSum(
  c: ConsumerColumns,
  unit: number,
  w: ArrayLike<number | bigint>,
  dw: ArrayLike<number>,
  f: (w: number, dw: number) => number,
): number {
  let s = 0;
  for (const p of c.positions[unit]!) {
    const block = Math.floor(p / c.cols),
      col = p % c.cols;
    for (let r = block * c.rowsPerBlock; r < (block + 1) * c.rowsPerBlock; r++)
      for (let m = 0; m < c.mid; m++)
        s += f(Number(w[(r * c.mid + m) * c.cols + col]), dw[(r * c.mid + m) * c.cols + col]!);
  }
  return s;
}
