// Quantisation-aware training (docs/distillation.md): insertFakeQuant puts FakeQuant / FakeQuantWeight nodes
// (compiler/ir/ops/fake-quant.ts) into an optimised float graph (runPasses' output, so tensor names are the
// ones the int8 quantize pass sees) wherever the int8 rewrite (compiler/quantize/rewrite.ts) gives a tensor
// its own params or quantises it: the graph input, the outputs of Conv2D / Dense / Add / GlobalAvgPool /
// Concat / standalone Relu, Relu6, Clip, and float-only ops' outputs an int8 op reads; and on every Conv2D /
// Dense weight, and on their biases (int32 at s_in·s_w[c], s_in from the range of the layer's input). Each range is a state tensor `<t>:range` ([min, max], NaN until the first batch). After
// training, learnedRanges() reads them back for quantize({ ranges }), so the int8 bundle uses what was trained.
import { ModelError, type Graph, type Node, type OpType } from '../ir/graph.ts';
import { OPS } from '../ir/ops/index.ts';
import type { OpDef } from '../ir/ops/op-def.ts';
import { cloneGraph } from '../compile.ts';
import { inferShapes } from '../passes/infer-shapes.ts';
import type { Range } from '../quantize/observers.ts';

/** Ops whose int8 output gets its own calibrated params in the rewrite. */
const OWN_PARAMS = new Set<OpType>(['Conv2D', 'Dense', 'Add', 'GlobalAvgPool', 'Concat', 'Relu', 'Relu6', 'Clip']);

const int8Capable = (op: OpType) => (OPS[op] as OpDef).int8?.quantize !== undefined;

export interface FakeQuantGraph {
  graph: Graph;
  /** Quantised tensor name (of the optimised float graph) → its range state tensor. */
  ranges: Map<string, string>;
}

/** Momentum: EMA factor of the tracked ranges (0 = frozen: the ranges in `initial` are used as they are). */
export function insertFakeQuant(fwd: Graph, momentum: number, initial?: Map<string, Range>): FakeQuantGraph {
  const g = cloneGraph(fwd);
  g.state = new Map(fwd.state ?? []);
  const ranges = new Map<string, string>();
  const consumers = (t: string) => g.nodes.filter((n) => n.inputs.includes(t));
  const wantsFq = (t: string, producer: Node | undefined) => {
    if (producer && OWN_PARAMS.has(producer.op)) return true;
    // the graph input and float-only ops' outputs are quantised where an int8 op reads them
    const floatSource = !producer || !int8Capable(producer.op);
    return floatSource && consumers(t).some((n) => int8Capable(n.op) && n.inputs[0] === t);
  };
  const nodes: Node[] = [];
  /** The updated range (a FakeQuant's second output) of each quantised tensor, through pass-through ops. */
  const rangeOf = new Map<string, string>();
  const rewire = (from: string, to: string, after: Node | undefined) => {
    for (const n of g.nodes)
      if (n !== after && !n.name.startsWith('fq/')) n.inputs = n.inputs.map((i) => (i === from ? to : i));
    g.outputs = g.outputs.map((o) => (o === from ? to : o));
  };
  const addFq = (t: string, producer: Node | undefined) => {
    const r = `${t}:range`,
      fq: Node = {
        name: `fq/${t}`,
        op: 'FakeQuant',
        inputs: [t, r],
        outputs: [`${t}/fq`, `${t}:range'`],
        attrs: { momentum },
      };
    if (g.tensors.has(r) || g.tensors.has(fq.outputs[0]!))
      throw new ModelError(fwd.source, `tensor '${t}'`, 'already has a fake-quant range');
    g.tensors.set(r, { name: r, dtype: 'float32', shape: [2] });
    const init = initial?.get(t);
    if (momentum === 0 && !init)
      throw new ModelError(fwd.source, `tensor '${t}'`, 'frozen fake quantisation needs its learned range');
    g.state!.set(r, init ? Float32Array.of(init.min, init.max) : Float32Array.of(NaN, NaN));
    rewire(t, fq.outputs[0]!, producer);
    rangeOf.set(fq.outputs[0]!, fq.outputs[1]!);
    nodes.push(fq);
    ranges.set(t, r);
  };
  const original = [...g.nodes];
  for (const x of g.inputs) if (wantsFq(x, undefined)) addFq(x, undefined);
  for (const n of original) {
    if ((n.op === 'Conv2D' || n.op === 'Dense') && g.tensors.get(n.inputs[1]!)?.data) {
      const w = n.inputs[1]!,
        b = n.inputs[2],
        fw: Node = { name: `fq/${w}`, op: 'FakeQuantWeight', inputs: [w], outputs: [`${w}/fq`], attrs: {} };
      const inRange = rangeOf.get(n.inputs[0]!);
      n.inputs[1] = fw.outputs[0]!;
      nodes.push(fw);
      if (b && g.tensors.get(b)?.data && inRange) {
        nodes.push({ name: `fq/${b}`, op: 'FakeQuantBias', inputs: [b, w, inRange], outputs: [`${b}/fq`], attrs: {} });
        n.inputs[2] = `${b}/fq`;
      }
    }
    nodes.push(n);
    const r0 = rangeOf.get(n.inputs[0]!);
    if (r0 && OPS[n.op].int8?.quantize === 'input-params') rangeOf.set(n.outputs[0]!, r0);
    if (wantsFq(n.outputs[0]!, n)) addFq(n.outputs[0]!, n);
  }
  g.nodes = nodes;
  inferShapes.run(g);
  return { graph: g, ranges };
}

/** The tracked ranges by quantised tensor name, from the state values `read` returns (e.g. readVariable). */
export function learnedRanges(fq: FakeQuantGraph, read: (state: string) => ArrayLike<number>): Map<string, Range> {
  const out = new Map<string, Range>();
  for (const [t, r] of fq.ranges) {
    const v = read(r);
    if (Number.isNaN(v[0]!) || Number.isNaN(v[1]!))
      throw new ModelError(
        fq.graph.source,
        `tensor '${t}'`,
        'its fake-quant range was never tracked (no training step ran)',
      );
    out.set(t, { min: v[0]!, max: v[1]! });
  }
  return out;
}
