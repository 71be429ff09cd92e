// fuse-pad: a zero Pad of only H and W (NHWC) feeding Conv2D (its only consumer) becomes the conv's
// explicit padding: the conv skips padded taps, which is the same as reading zeros. Common in
// TF-exported models (explicit Pad then 'valid' conv).
import { attrNum, attrNums, resolvePadding } from '../ir/ops/helpers.ts';
import { GraphEdit, type Pass } from './util.ts';

export const fusePad: Pass = {
  name: 'fuse-pad',
  run(g) {
    let changed = false;
    const e = new GraphEdit(g);
    for (const c of g.nodes) {
      if (c.op !== 'Conv2D') continue;
      const x = c.inputs[0]!;
      const p = e.producer(x);
      if (!p || p.op !== 'Pad' || attrNum(p, 'value', 0) !== 0 || !e.singleUse(x)) continue;
      const pads = attrNums(p, 'pads', []);
      // NHWC rank 4: begins [n,h,w,c], ends [n,h,w,c]; only h and w may be padded
      if (pads.length !== 8 || pads[0] || pads[3] || pads[4] || pads[7]) continue;
      const src = g.tensors.get(p.inputs[0]!)!,
        xt = g.tensors.get(x)!,
        w = g.tensors.get(c.inputs[1]!)!;
      const [sh, sw] = attrNums(c, 'strides', [1, 1]) as [number, number];
      const [dh, dw] = attrNums(c, 'dilations', [1, 1]) as [number, number];
      const own = resolvePadding(c, g.source, xt.shape[1]!, xt.shape[2]!, w.shape[1]!, w.shape[2]!, sh, sw, dh, dw);
      c.attrs.padding = [own[0] + pads[1]!, own[1] + pads[2]!, own[2] + pads[5]!, own[3] + pads[6]!];
      e.setInput(c, 0, src.name);
      e.remove(p);
      g.tensors.delete(x);
      changed = true;
    }
    e.commit();
    return changed;
  },
};
