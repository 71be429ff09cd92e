// Graph-editing helpers shared by the passes: consumer lookup, fresh names, constants, and
// bypassing a node whose output equals its input (keeping graph output names stable).
import type { Graph, Node, Tensor } from '../ir/graph.ts';

export interface Pass {
  name: string;
  /** Rewrites the graph in place; returns true when anything changed. */
  run(graph: Graph): boolean;
}

export function consumers(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes) for (const i of n.inputs) {
    if (i === '') continue;
    const l = m.get(i);
    if (l) { if (!l.includes(n)) l.push(n); } else m.set(i, [n]);
  }
  return m;
}

export function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) m.set(o, n);
  return m;
}

/** A tensor another node may be rewired into: read once, by one node, and not a graph output. */
export function singleUse(g: Graph, uses: Map<string, Node[]>, name: string): boolean {
  return (uses.get(name)?.length ?? 0) === 1 && !g.outputs.includes(name)
    && g.nodes.reduce((c, n) => c + n.inputs.filter((i) => i === name).length, 0) === 1;
}

export function freshName(g: Graph, base: string): string {
  if (!g.tensors.has(base) && !g.nodes.some((n) => n.name === base)) return base;
  for (let i = 1; ; i++) {
    const s = `${base}_${i}`;
    if (!g.tensors.has(s) && !g.nodes.some((n) => n.name === s)) return s;
  }
}

export function addConstant(g: Graph, base: string, shape: number[], data: Float32Array): string {
  const name = freshName(g, base);
  g.tensors.set(name, { name, dtype: 'float32', shape, data });
  return name;
}

export function addTensor(g: Graph, base: string, like: Pick<Tensor, 'shape' | 'dtype'>): string {
  const name = freshName(g, base);
  g.tensors.set(name, { name, dtype: like.dtype, shape: [...like.shape] });
  return name;
}

function renameUses(g: Graph, from: string, to: string): void {
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
}

/**
 * Removes `node`, whose output `out` holds the same values (and shape) as `inp`. Returns false when
 * that would merge two boundary tensors (graph input/output or constant → graph output).
 */
export function bypass(g: Graph, node: Node, inp: string, out: string): boolean {
  if (!g.outputs.includes(out)) {
    renameUses(g, out, inp);
  } else {
    const t = g.tensors.get(inp)!;
    if (t.data || g.inputs.includes(inp) || g.outputs.includes(inp)) return false;
    // keep the graph output's name: the producer of `inp` now writes `out`
    for (const n of g.nodes) n.outputs = n.outputs.map((o) => (o === inp ? out : o));
    renameUses(g, inp, out);
    g.tensors.delete(inp);
  }
  g.nodes.splice(g.nodes.indexOf(node), 1);
  if (!g.outputs.includes(out) && !g.nodes.some((n) => n.inputs.includes(out))) g.tensors.delete(out);
  return true;
}

export function constF64(t: Tensor): Float64Array {
  const d = t.data!;
  const out = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return out;
}
