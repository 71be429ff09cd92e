// infer-shapes: recomputes every node output's shape and dtype from the op table, in order. Runs
// first, so it also refuses a graph whose nodes are not in topological order.
import { ModelError } from '../ir/graph.ts';
import { inferNode } from '../ir/ops/index.ts';
import type { Pass } from './util.ts';

export const inferShapes: Pass = {
  name: 'infer-shapes',
  run(g) {
    let changed = false;
    const defined = new Set<string>(g.inputs);
    for (const [name, t] of g.tensors) if (t.data) defined.add(name);
    for (const name of g.state?.keys() ?? []) defined.add(name); // training state: values from the bundle
    for (const n of g.nodes) {
      n.inputs.forEach((i, k) => {
        if (i !== '' && !defined.has(i) && g.tensors.has(i)) {
          throw new ModelError(
            g.source,
            `node '${n.name}' (${n.op})`,
            `input ${k} '${i}' is used before the node that computes it (nodes must be in topological order)`,
          );
        }
      });
      const outs = inferNode(g, n);
      n.outputs.forEach((o, i) => {
        defined.add(o);
        const t = g.tensors.get(o);
        const { shape, dtype } = outs[i]!;
        if (!t) {
          g.tensors.set(o, { name: o, shape, dtype });
          changed = true;
          return;
        }
        if (t.shape?.join() !== shape.join() || t.dtype !== dtype) {
          t.shape = shape;
          t.dtype = dtype;
          changed = true;
        }
      });
    }
    return changed;
  },
};
