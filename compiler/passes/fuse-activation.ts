// fuse-activation: Relu / Relu6 / Clip right after a Conv2D, Dense or Add whose output has no other
// consumer → the producer's activation attr. Clamps compose (relu = [0, ∞)): clamping to [a,b] then
// [c,d] is clamping to [clamp(a,c,d), clamp(b,c,d)], so a fused producer can take another one.
import { FLOAT32_MAX, activationOf, attrNum } from '../ir/ops/helpers.ts';
import { GraphEdit, type Pass } from './util.ts';

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

export const fuseActivation: Pass = {
  name: 'fuse-activation',
  run(g) {
    let changed = false;
    const e = new GraphEdit(g);
    for (const r of g.nodes) {
      if (r.op !== 'Relu' && r.op !== 'Relu6' && r.op !== 'Clip') continue;
      const x = r.inputs[0]!;
      const p = e.producer(x);
      if (!p || (p.op !== 'Conv2D' && p.op !== 'Dense' && p.op !== 'Add')) continue;
      if (!e.singleUse(x)) continue;
      const [c, d] =
        r.op === 'Relu'
          ? [0, Infinity]
          : r.op === 'Relu6'
            ? [0, 6]
            : [attrNum(r, 'min', -Infinity), attrNum(r, 'max', Infinity)];
      const prev = activationOf(p);
      const lo = clamp(prev.min, c, d),
        hi = clamp(prev.max, c, d);
      if (lo === 0 && hi >= FLOAT32_MAX) {
        p.attrs.activation = 'relu';
      } else {
        // finite bounds: attrs may be written back to model.json, which has no Infinity
        p.attrs.activation = 'clip';
        p.attrs.clip = [Math.max(lo, -FLOAT32_MAX), Math.min(hi, FLOAT32_MAX)];
      }
      e.remove(r);
      e.setOutput(p, 0, r.outputs[0]!);
      g.tensors.delete(x);
      changed = true;
    }
    e.commit();
    return changed;
  },
};
