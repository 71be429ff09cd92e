// fuse-activation: Relu / Relu6 / Clip right after a Conv2D, Dense or Add with no fused
// activation yet, whose output has no other consumer → the producer's activation attr.
import { attrNum } from '../ir/ops.ts';
import { consumers, producers, singleUse, type Pass } from './util.ts';

export const fuseActivation: Pass = {
  name: 'fuse-activation',
  run(g) {
    let changed = false;
    for (const r of [...g.nodes]) {
      if (r.op !== 'Relu' && r.op !== 'Relu6' && r.op !== 'Clip') continue;
      const x = r.inputs[0]!;
      const p = producers(g).get(x);
      if (!p || (p.op !== 'Conv2D' && p.op !== 'Dense' && p.op !== 'Add') || (p.attrs.activation ?? 'none') !== 'none') continue;
      if (!singleUse(g, consumers(g), x)) continue;
      if (r.op === 'Relu') p.attrs.activation = 'relu';
      else {
        const lo = r.op === 'Relu6' ? 0 : attrNum(r, 'min', -Infinity), hi = r.op === 'Relu6' ? 6 : attrNum(r, 'max', Infinity);
        p.attrs.activation = 'clip';
        p.attrs.clip = [lo, hi];
      }
      p.outputs[0] = r.outputs[0]!;
      g.tensors.delete(x);
      g.nodes.splice(g.nodes.indexOf(r), 1);
      changed = true;
    }
    return changed;
  },
};
