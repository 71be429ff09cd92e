// fold-constants: a node whose inputs are all constants is evaluated once with the reference ops
// and replaced by a constant (float32, or the integer dtype shape inference gave). Graph outputs
// stay computed so the bundle's outputs remain arena tensors.
import { evaluate } from '../ir/reference.ts';
import type { Graph, TensorData } from '../ir/graph.ts';
import { GraphEdit, type Pass } from './util.ts';

function store(dtype: string, v: Float64Array): TensorData {
  switch (dtype) {
    case 'int32':
      return Int32Array.from(v);
    case 'int8':
      return Int8Array.from(v);
    case 'uint8':
      return Uint8Array.from(v);
    case 'int64':
      return BigInt64Array.from(v, (x) => BigInt(Math.trunc(x)));
    default:
      return Float32Array.from(v);
  }
}

export const foldConstants: Pass = {
  name: 'fold-constants',
  run(g) {
    let changed = false;
    const e = new GraphEdit(g);
    for (const n of g.nodes) {
      const present = n.inputs.filter((i) => i !== '');
      if (present.length === 0 || !present.every((i) => g.tensors.get(i)?.data)) continue;
      if (n.outputs.some((o) => e.outputs.has(o))) continue;
      const sub: Graph = {
        name: n.name,
        source: g.source,
        tensors: g.tensors,
        nodes: [n],
        inputs: [],
        outputs: n.outputs,
      };
      const vals = evaluate(sub, {});
      for (const o of n.outputs) {
        const t = g.tensors.get(o)!;
        t.data = store(t.dtype, vals[o]!);
      }
      e.remove(n);
      changed = true;
    }
    e.commit();
    return changed;
  },
};
