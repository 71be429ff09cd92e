// fuse-bias: Conv2D/Dense (no fused activation) followed by Add of a constant that is one value
// per output channel (shape [Co], [1,Co], [1,1,1,Co]) → the constant joins the bias; the Add's
// fused activation moves onto the producer.
import { numElements } from '../ir/graph.ts';
import { GraphEdit, constF64, type Pass } from './util.ts';

export const fuseBias: Pass = {
  name: 'fuse-bias',
  run(g) {
    let changed = false;
    const e = new GraphEdit(g);
    for (const a of g.nodes) {
      if (a.op !== 'Add') continue;
      const k = a.inputs.findIndex((i) => g.tensors.get(i)?.data);
      if (k < 0) continue;
      const x = a.inputs[1 - k]!,
        c = g.tensors.get(a.inputs[k]!)!;
      const p = e.producer(x);
      if (!p || (p.op !== 'Conv2D' && p.op !== 'Dense') || (p.attrs.activation ?? 'none') !== 'none') continue;
      if (!e.singleUse(x)) continue;
      const xt = g.tensors.get(x)!,
        out = g.tensors.get(a.outputs[0]!)!;
      const co = xt.shape[xt.shape.length - 1]!;
      if (
        out.shape.join() !== xt.shape.join() ||
        numElements(c.shape) !== co ||
        c.shape.length > xt.shape.length ||
        c.shape.slice(0, -1).some((d) => d !== 1)
      )
        continue;
      const old = p.inputs[2] ? g.tensors.get(p.inputs[2]) : undefined;
      if (p.inputs[2] && !old?.data) continue;
      const cd = constF64(c),
        od = old ? constF64(old) : new Float64Array(co);
      const bias = e.addConstant(
        `${p.name}_bias`,
        [co],
        Float32Array.from(od, (v, i) => v + cd[i]!),
      );
      if (p.inputs.length > 2) e.setInput(p, 2, bias);
      else e.setInputs(p, [...p.inputs, bias]);
      for (const key of ['activation', 'clip']) if (a.attrs[key] !== undefined) p.attrs[key] = a.attrs[key]!;
      e.remove(a);
      e.setOutput(p, 0, a.outputs[0]!);
      g.tensors.delete(x);
      changed = true;
    }
    e.commit();
    return changed;
  },
};
