// Text form of an IR graph for --dump-after and test failure messages: one line per tensor
// boundary and per node, shapes and attrs included, stable across runs.
import type { Graph, Tensor } from './graph.ts';

const ty = (t: Tensor | undefined) => (t ? `${t.dtype}[${t.shape.join(',')}]` : '?');

export function formatGraph(g: Graph): string {
  const lines: string[] = [`graph ${g.name} (${g.source})`];
  for (const i of g.inputs) lines.push(`  input  ${i}: ${ty(g.tensors.get(i))}`);
  const consts = [...g.tensors.values()].filter((t) => t.data);
  for (const c of consts) lines.push(`  const  ${c.name}: ${ty(c)}`);
  for (const n of g.nodes) {
    const attrs = Object.entries(n.attrs)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ');
    const outs = n.outputs.map((o) => `${o}: ${ty(g.tensors.get(o))}`).join(', ');
    lines.push(
      `  ${outs} = ${n.op}(${n.inputs.map((i) => (i === '' ? '_' : i)).join(', ')})${attrs ? ` {${attrs}}` : ''}  # ${n.name}`,
    );
  }
  for (const o of g.outputs) lines.push(`  output ${o}: ${ty(g.tensors.get(o))}`);
  return lines.join('\n') + '\n';
}
