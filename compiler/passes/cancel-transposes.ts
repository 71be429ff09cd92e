// cancel-transposes: Transpose∘Transpose merges into one (removed when the composition is the
// identity, as for the ONNX importer's NCHW↔NHWC pairs); an identity Transpose is removed; a
// Transpose feeding a unary elementwise op whose result is transposed again moves after that op,
// so the pair meets and cancels.
import type { Node } from '../ir/graph.ts';
import { transposePerm } from '../ir/ops.ts';
import { addTensor, bypass, consumers, producers, singleUse, type Pass } from './util.ts';

const ELEMENTWISE = new Set(['Relu', 'Relu6', 'Clip', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Exp']);
const isIdentity = (p: number[]) => p.every((v, i) => v === i);

export const cancelTransposes: Pass = {
  name: 'cancel-transposes',
  run(g) {
    let changed = false;
    for (const t2 of [...g.nodes]) {
      if (t2.op !== 'Transpose' || !g.nodes.includes(t2)) continue;
      const x = t2.inputs[0]!;
      const p2 = transposePerm(t2, g.tensors.get(x)!.shape.length, g.source);
      const t1 = producers(g).get(x);
      if (t1?.op === 'Transpose') {
        const p1 = transposePerm(t1, g.tensors.get(t1.inputs[0]!)!.shape.length, g.source);
        t2.inputs[0] = t1.inputs[0]!;
        t2.attrs = { ...t2.attrs, perm: p2.map((i) => p1[i]!) };
        if (!consumers(g).has(x) && !g.outputs.includes(x)) {
          g.nodes.splice(g.nodes.indexOf(t1), 1);
          g.tensors.delete(x);
        }
        changed = true;
      }
      const perm = transposePerm(t2, g.tensors.get(t2.inputs[0]!)!.shape.length, g.source);
      if (isIdentity(perm) && bypass(g, t2, t2.inputs[0]!, t2.outputs[0]!)) { changed = true; continue; }
      // push t2 (as t1 of a later pair) through a following unary op that feeds another Transpose
      const uses = consumers(g);
      const out = t2.outputs[0]!;
      const u = uses.get(out)?.[0];
      if (!u || !singleUse(g, uses, out) || !ELEMENTWISE.has(u.op)) continue;
      const uOut = u.outputs[0]!;
      const next = uses.get(uOut);
      if (!next || next.length !== 1 || next[0]!.op !== 'Transpose' || g.outputs.includes(uOut)) continue;
      const src = g.tensors.get(t2.inputs[0]!)!;
      const pre = addTensor(g, `${u.name}_pre`, { shape: src.shape, dtype: g.tensors.get(uOut)!.dtype });
      u.inputs = [t2.inputs[0]!];
      u.outputs = [pre];
      t2.inputs = [pre];
      t2.outputs = [uOut];
      g.tensors.delete(out);
      g.nodes.splice(g.nodes.indexOf(t2), 1);
      g.nodes.splice(g.nodes.indexOf(u) + 1, 0, t2 as Node);
      changed = true;
    }
    return changed;
  },
};
