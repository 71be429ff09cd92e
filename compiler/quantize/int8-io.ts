// `io: 'int8'` (CLI --io int8): the int8 graph's float boundaries dropped, as TFLite's full-integer models
// (inference_input_type=int8). A graph input read only by a Quantize becomes that Quantize's int8 tensor under
// the input's name; a graph output written by a Dequantize becomes the int8 tensor it reads. The caller then
// passes and gets int8 codes, real = (q − zeroPoint)·scale, with the params the bundle records on the tensor.
// A uint8 model (.tflite or ONNX QDQ) was imported on int8 (zero point − 128): its codes are u − 128 (docs/quantization.md).
import { ModelError, type Graph, type Node, type Tensor } from '../ir/graph.ts';
import { sameQuant } from './params.ts';

export type IoKind = 'float' | 'int8';
export const IO_KINDS: readonly IoKind[] = ['float', 'int8'];

/** Graph g (the int8 IR from quantizeGraph) with int8 inputs and outputs; throws a ModelError where it cannot. */
export function int8Boundaries(g: Graph): Graph {
  const fail = (where: string, detail: string): never => {
    throw new ModelError(g.source, where, `--io int8: ${detail}`);
  };
  if (g.state) fail('graph', 'a training bundle keeps float32 inputs and outputs (its loss and gradients are float)');
  if (!g.nodes.some((n) => n.op === 'Quantize' || n.op === 'Dequantize'))
    fail('graph', 'needs a quantised model (--quantize int8): this one computes in float32 throughout');
  const readers = new Map<string, Node[]>();
  const writer = new Map<string, Node>();
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i !== '') readers.set(i, [...(readers.get(i) ?? []), n]);
    for (const o of n.outputs) writer.set(o, n);
  }
  const drop = new Set<Node>();
  const rename = new Map<string, string>(); // int8 tensor → the boundary name it takes
  const tensors = new Map(g.tensors);
  const describe = (n: Node) => `node '${n.name}' (${n.op})`;

  for (const x of g.inputs) {
    const where = `input '${x}'`;
    if (g.outputs.includes(x)) fail(where, 'is also a graph output: no int8 step lies between them');
    const rs = readers.get(x) ?? [];
    if (rs.length === 0) fail(where, 'is read by no node');
    const float = rs.find((n) => n.op !== 'Quantize');
    if (float) fail(where, `is read in float32 by ${describe(float)} (kept float: --io int8 needs it on int8)`);
    const q = rs[0]!.outputs[0]!;
    const qt = g.tensors.get(q)!;
    for (const n of rs.slice(1))
      if (!sameQuant(g.tensors.get(n.outputs[0]!)!.quant, qt.quant))
        fail(where, `is quantised with two different scales (${describe(rs[0]!)}, ${describe(n)})`);
    for (const n of rs) {
      drop.add(n);
      rename.set(n.outputs[0]!, x);
      tensors.delete(n.outputs[0]!);
    }
    tensors.set(x, int8Tensor(x, qt));
  }
  for (const o of g.outputs) {
    const where = `output '${o}'`;
    const w = writer.get(o);
    if (!w || w.op !== 'Dequantize') {
      if (w) fail(where, `is computed in float32 by ${describe(w)} (kept float, or an op with no int8 kernel)`);
      return fail(where, 'is written by no node');
    }
    const q = w.inputs[0]!;
    if (g.inputs.includes(rename.get(q) ?? q)) fail(where, 'is the dequantised graph input: no int8 step computes it');
    if (rename.has(q)) fail(where, `shares its int8 tensor with output '${rename.get(q)}'`);
    drop.add(w);
    rename.set(q, o);
    tensors.set(o, int8Tensor(o, g.tensors.get(q)!));
    tensors.delete(q);
  }
  const to = (t: string) => rename.get(t) ?? t;
  return {
    ...g,
    tensors,
    nodes: g.nodes
      .filter((n) => !drop.has(n))
      .map((n) => ({ ...n, inputs: n.inputs.map(to), outputs: n.outputs.map(to) })),
  };
}

function int8Tensor(name: string, t: Tensor): Tensor {
  return { name, dtype: 'int8', shape: [...t.shape], ...(t.quant ? { quant: t.quant } : {}) };
}
