// Layer pruning: drop whole residual blocks (Add(x, f(x)) where f reads only x: the Add becomes x, or its
// fused activation of x) and identity-shaped layers (a Conv2D / Dense whose output has its input's shape:
// it becomes the identity, or its fused activation). The blocks whose removal costs least on calibration
// data go first; `auto` keeps dropping while the top-1 agreement with the original stays ≥ 99 %.
import { cloneGraph } from '../compile.ts';
import type { Graph, Node } from '../ir/graph.ts';
import { attrStr } from '../ir/ops/helpers.ts';
import { eliminateDead } from '../passes/eliminate-dead.ts';
import { inferShapes } from '../passes/infer-shapes.ts';
import type { Agreement } from './measure.ts';

export interface LayerCandidate {
  /** The Add (residual) or the layer (identity-shaped) that goes. */
  node: string;
  kind: 'residual' | 'identity';
  /** Every node removed with it. */
  nodes: string[];
  /** The tensor that takes its place. */
  input: string;
}

/** Nodes computing `from` from `skip` alone, or undefined when anything else feeds in or reads out. */
function branchNodes(g: Graph, from: string, skip: string, add: Node): string[] | undefined {
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const set = new Set<Node>();
  const stack = [from];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (t === skip || t === '' || g.tensors.get(t)?.data) continue;
    const p = producer.get(t);
    if (!p) return undefined;
    if (set.has(p)) continue;
    set.add(p);
    stack.push(...p.inputs);
  }
  if (set.size === 0) return undefined;
  for (const n of g.nodes) {
    if (set.has(n) || n === add) continue;
    if (n.inputs.some((i) => [...set].some((s) => s.outputs.includes(i)))) return undefined;
  }
  if ([...set].some((s) => s.outputs.some((o) => g.outputs.includes(o)))) return undefined;
  return g.nodes.filter((n) => set.has(n)).map((n) => n.name);
}

export function layerCandidates(g: Graph): LayerCandidate[] {
  const out: LayerCandidate[] = [];
  for (const n of g.nodes) {
    if (n.op === 'Add' && n.inputs.every((i) => !g.tensors.get(i)?.data)) {
      const [a, b] = n.inputs as [string, string];
      for (const [skip, branch] of [
        [a, b],
        [b, a],
      ] as const) {
        if (g.tensors.get(skip)!.shape.join() !== g.tensors.get(n.outputs[0]!)!.shape.join()) continue;
        const nodes = branchNodes(g, branch, skip, n);
        if (nodes) {
          out.push({ node: n.name, kind: 'residual', nodes, input: skip });
          break;
        }
      }
    } else if (
      (n.op === 'Conv2D' || n.op === 'Dense') &&
      !g.tensors.get(n.inputs[0]!)?.data &&
      g.tensors.get(n.inputs[0]!)!.shape.join() === g.tensors.get(n.outputs[0]!)!.shape.join()
    ) {
      out.push({ node: n.name, kind: 'identity', nodes: [], input: n.inputs[0]! });
    }
  }
  return out;
}

/** The graph without the candidates (they must not overlap): each becomes its input, through its fused activation. */
export function dropLayers(g: Graph, drop: readonly LayerCandidate[]): Graph {
  const out = cloneGraph(g);
  const gone = new Set(drop.flatMap((c) => c.nodes));
  for (const c of drop) {
    const n = out.nodes.find((x) => x.name === c.node)!;
    const act = attrStr(n, 'activation', 'none');
    const shape = [...out.tensors.get(n.outputs[0]!)!.shape];
    if (act === 'relu') Object.assign(n, { op: 'Relu', inputs: [c.input], attrs: {} });
    else if (act === 'clip') {
      const [min, max] = n.attrs.clip as number[];
      Object.assign(n, { op: 'Clip', inputs: [c.input], attrs: { min, max } });
    } else Object.assign(n, { op: 'Reshape', inputs: [c.input], attrs: { shape } });
  }
  out.nodes = out.nodes.filter((n) => !gone.has(n.name));
  eliminateDead.run(out);
  inferShapes.run(out);
  return out;
}

export interface LayerChoice {
  dropped: LayerCandidate[];
  costs: { node: string; kind: string; agreement: Agreement }[];
}

/**
 * Measures each candidate alone (`measure` compares a graph with the original on calibration data), then
 * drops the `count` cheapest (by relative error) or, for 'auto', the cheapest ones while the combined
 * model keeps top-1 agreement ≥ 99 %. Candidates overlapping a chosen one are skipped.
 */
export async function chooseLayers(
  g: Graph,
  count: number | 'auto',
  measure: (h: Graph) => Promise<Agreement>,
): Promise<LayerChoice> {
  const cands = layerCandidates(g);
  const costs: LayerChoice['costs'] = [];
  const scored: { c: LayerCandidate; a: Agreement }[] = [];
  for (const c of cands) {
    const a = await measure(dropLayers(g, [c]));
    costs.push({ node: c.node, kind: c.kind, agreement: a });
    scored.push({ c, a });
  }
  scored.sort((x, y) => x.a.relError - y.a.relError);
  const dropped: LayerCandidate[] = [];
  const used = new Set<string>();
  for (const { c } of scored) {
    if (count !== 'auto' && dropped.length >= count) break;
    const touches = [c.node, ...c.nodes];
    if (touches.some((t) => used.has(t))) continue;
    if (count === 'auto') {
      const a = await measure(dropLayers(g, [...dropped, c]));
      if (a.top1 < 0.99) continue;
    }
    dropped.push(c);
    for (const t of touches) used.add(t);
  }
  return { dropped, costs };
}
