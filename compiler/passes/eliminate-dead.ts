// eliminate-dead: drops nodes none of whose outputs reach a graph output, then tensors nothing
// references (unused constants, orphaned intermediates).
import type { Pass } from './util.ts';

export const eliminateDead: Pass = {
  name: 'eliminate-dead',
  run(g) {
    const live = new Set<string>(g.outputs);
    const keep = new Array<boolean>(g.nodes.length).fill(false);
    for (let k = g.nodes.length - 1; k >= 0; k--) {
      const n = g.nodes[k]!;
      if (n.outputs.some((o) => live.has(o))) {
        keep[k] = true;
        for (const i of n.inputs) if (i !== '') live.add(i);
      }
    }
    const before = g.nodes.length,
      tensorsBefore = g.tensors.size;
    g.nodes = g.nodes.filter((_, k) => keep[k]);
    const used = new Set<string>([...g.inputs, ...g.outputs]);
    for (const n of g.nodes) for (const t of [...n.inputs, ...n.outputs]) used.add(t);
    for (const name of [...g.tensors.keys()]) if (!used.has(name)) g.tensors.delete(name);
    return g.nodes.length !== before || g.tensors.size !== tensorsBefore;
  },
};
