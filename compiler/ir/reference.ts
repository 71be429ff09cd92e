// The reference evaluator of the IR: runs the op table's obvious evaluations node by node, float64 (the
// truth for float plans) or, for int8 nodes, the op's integer reference (the truth for int8 plans).
// Values are row-major per tensor shape; constants are converted to float64 as stored.
import { ModelError, numElements, type DType, type Graph } from './graph.ts';
import { isInt8Node, OPS } from './ops/index.ts';
import { toFloat64 } from './ops/helpers.ts';
import type { Value } from './ops/op-def.ts';

export interface EvaluateOptions {
  /** Return every tensor (inputs, constants, intermediates), not just the graph outputs. */
  all?: boolean;
}

export function evaluate(
  graph: Graph,
  inputs: Record<string, ArrayLike<number>>,
  opts: EvaluateOptions = {},
): Record<string, Float64Array> {
  const values = new Map<string, Value>();
  const dtypes = new Map<string, DType>([...graph.tensors].map(([k, t]) => [k, t.dtype]));
  for (const name of graph.inputs) {
    const t = graph.tensors.get(name)!;
    const v = inputs[name];
    if (!v) throw new ModelError(graph.source, `input '${name}'`, `no value given`);
    if (v.length !== numElements(t.shape)) {
      throw new ModelError(
        graph.source,
        `input '${name}'`,
        `expected ${numElements(t.shape)} values for shape [${t.shape}], found ${v.length}`,
      );
    }
    values.set(name, { shape: t.shape, data: Float64Array.from(v) });
  }
  for (const [name, init] of graph.state ?? []) {
    const t = graph.tensors.get(name)!;
    values.set(name, { shape: t.shape, data: init ? toFloat64(init) : new Float64Array(numElements(t.shape)) });
  }
  const get = (name: string): Value | undefined => {
    if (name === '') return undefined;
    let v = values.get(name);
    if (!v) {
      const t = graph.tensors.get(name);
      if (!t?.data) throw new ModelError(graph.source, `tensor '${name}'`, `used before it is computed`);
      v = { shape: t.shape, data: toFloat64(t.data) };
      values.set(name, v);
    }
    return v;
  };
  for (const n of graph.nodes) {
    const ins = n.inputs.map(get);
    // shapes come from the values, so graphs whose intermediates were never shape-inferred evaluate too
    const insT = ins.map((v, i) =>
      v ? { name: n.inputs[i]!, shape: v.shape, dtype: dtypes.get(n.inputs[i]!) ?? ('float32' as const) } : undefined,
    );
    const outs = OPS[n.op].infer(n, insT, graph.source);
    n.outputs.forEach((o, i) => dtypes.set(o, outs[i]!.dtype));
    // int8 nodes follow the integer kernels bit for bit (each op file's int8.evaluate)
    const def = OPS[n.op];
    const res = isInt8Node(graph, n) ? def.int8!.evaluate!(graph, n, ins, outs) : def.evaluate(n, ins, outs);
    n.outputs.forEach((o, i) => values.set(o, { shape: outs[i]!.shape, data: res[i]! }));
  }
  const result: Record<string, Float64Array> = {};
  if (opts.all) {
    for (const name of graph.tensors.keys()) {
      const v = values.get(name) ?? (graph.tensors.get(name)?.data ? get(name) : undefined);
      if (v) result[name] = v.data;
    }
  }
  for (const o of graph.outputs) result[o] = get(o)!.data;
  return result;
}
