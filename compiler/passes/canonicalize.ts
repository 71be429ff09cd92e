// canonicalize: one spelling per meaning, so later passes and lowering see fewer ops:
// Relu6 → Clip [0,6], Flatten → Reshape with an explicit shape, 1-input Concat and identity
// Reshape (output shape = input shape) removed.
import type { Pass } from './util.ts';
import { GraphEdit } from './util.ts';

export const canonicalize: Pass = {
  name: 'canonicalize',
  run(g) {
    let changed = false;
    const e = new GraphEdit(g);
    for (const n of g.nodes) {
      if (!e.isLive(n)) continue;
      if (n.op === 'Relu6') {
        n.op = 'Clip';
        n.attrs = { min: 0, max: 6 };
        changed = true;
      } else if (n.op === 'Flatten') {
        n.op = 'Reshape';
        n.attrs = { shape: [...g.tensors.get(n.outputs[0]!)!.shape] };
        changed = true;
      }
      if ((n.op === 'Concat' && n.inputs.length === 1) || n.op === 'Reshape') {
        const i = g.tensors.get(n.inputs[0]!)!,
          o = g.tensors.get(n.outputs[0]!)!;
        if (i.shape.join() === o.shape.join() && e.bypass(n, i.name, o.name)) changed = true;
        else if (n.op === 'Concat') {
          n.op = 'Reshape';
          n.attrs = { shape: [...o.shape] };
          changed = true;
        }
      }
    }
    e.commit();
    return changed;
  },
};
