// fold-batchnorm: BatchNorm after a Conv2D/Dense (no fused activation, output used only by the
// BatchNorm) becomes scaled weights + bias; any other BatchNorm with constant parameters becomes
// Mul + Add with per-channel constants (channel = last axis). s = scale/√(var+ε), b' = (b−mean)·s + bias.
import { attrNum } from '../ir/ops/helpers.ts';
import { numElements, type Graph, type Node } from '../ir/graph.ts';
import { GraphEdit, constF64, type Pass } from './util.ts';

function bnFactors(g: Graph, n: Node): { s: Float64Array; shift: Float64Array } | undefined {
  const ts = n.inputs.slice(1, 5).map((i) => g.tensors.get(i));
  if (ts.length !== 4 || ts.some((t) => !t?.data)) return undefined;
  const [scale, bias, mean, vr] = ts.map((t) => constF64(t!)) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const eps = attrNum(n, 'epsilon', 1e-5);
  const s = scale.map((v, c) => v / Math.sqrt(vr[c]! + eps));
  // shift = bias − mean·s, so y = x·s + shift
  const shift = bias.map((v, c) => v - mean[c]! * s[c]!);
  return { s, shift };
}

export const foldBatchnorm: Pass = {
  name: 'fold-batchnorm',
  run(g) {
    let changed = false;
    const e = new GraphEdit(g);
    for (const n of g.nodes) {
      if (n.op !== 'BatchNorm') continue;
      const f = bnFactors(g, n);
      if (!f) continue;
      const x = n.inputs[0]!;
      const p = e.producer(x);
      const w = p && g.tensors.get(p.inputs[1] ?? '');
      const b = p && p.inputs[2] ? g.tensors.get(p.inputs[2]) : undefined;
      if (
        p &&
        (p.op === 'Conv2D' || p.op === 'Dense') &&
        (p.attrs.activation ?? 'none') === 'none' &&
        e.singleUse(x) &&
        w?.data &&
        (!p.inputs[2] || b?.data)
      ) {
        const co = w.shape[0]!,
          per = numElements(w.shape) / co;
        const wd = constF64(w),
          bd = b ? constF64(b) : new Float64Array(co);
        const nw = new Float32Array(wd.length);
        for (let i = 0; i < wd.length; i++) nw[i] = wd[i]! * f.s[Math.floor(i / per)]!;
        const nb = new Float32Array(co);
        for (let c = 0; c < co; c++) nb[c] = bd[c]! * f.s[c]! + f.shift[c]!;
        const wName = e.addConstant(`${p.name}_w_bn`, [...w.shape], nw);
        e.setInputs(p, [p.inputs[0]!, wName, e.addConstant(`${p.name}_b_bn`, [co], nb), ...p.inputs.slice(3)]);
        e.remove(n);
        e.setOutput(p, 0, n.outputs[0]!);
        g.tensors.delete(x);
      } else {
        const c = f.s.length,
          xt = g.tensors.get(x)!;
        const sName = e.addConstant(`${n.name}_scale`, [c], Float32Array.from(f.s));
        const hName = e.addConstant(`${n.name}_shift`, [c], Float32Array.from(f.shift));
        const mid = e.addTensor(`${n.name}_scaled`, xt);
        const mul: Node = {
          name: e.freshName(`${n.name}_mul`),
          op: 'Mul',
          inputs: [x, sName],
          outputs: [mid],
          attrs: {},
        };
        const add: Node = {
          name: n.name,
          op: 'Add',
          inputs: [mid, hName],
          outputs: [...n.outputs],
          attrs: { activation: 'none' },
        };
        e.replace(n, [mul, add]);
      }
      changed = true;
    }
    e.commit();
    return changed;
  },
};
