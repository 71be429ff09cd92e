// infer-shapes: recomputes every node output's shape and dtype from the op table, in order.
import { inferNode } from '../ir/ops.ts';
import type { Pass } from './util.ts';

export const inferShapes: Pass = {
  name: 'infer-shapes',
  run(g) {
    let changed = false;
    for (const n of g.nodes) {
      const outs = inferNode(g, n);
      n.outputs.forEach((o, i) => {
        const t = g.tensors.get(o);
        const { shape, dtype } = outs[i]!;
        if (!t) { g.tensors.set(o, { name: o, shape, dtype }); changed = true; return; }
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
