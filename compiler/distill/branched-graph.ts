// The graphs a branched student (a BlockModel: Branch / EarlyExit pieces, compiler/ir/blocks.ts) trains as:
// every piece flattened into one ordinary IR graph that computes ALL exits and branches at once (training needs
// every head's logits for every sample; the runtime still runs only the chosen path), the full network (the
// teacher by default), and the way back: trained tensors written into the block model, and into the model.json
// and its weights file byte for byte where nothing was trained. Dense weights are IR layout [out, in].
import { ModelError, type Graph, type Node, type Tensor } from '../ir/graph.ts';
import type { BlockModel, Piece } from '../ir/blocks.ts';
import { cloneGraph } from '../compile.ts';

/** One early decision point: an EarlyExit head, or a non-last branch of a Branch block. */
export interface ExitHead {
  /** `exit1` (EarlyExit) or `route/branches[0]` (Branch). */
  name: string;
  logits: string;
}

/** A Branch block's gate: its scores tensor, its nodes, and each branch's output (cheapest first, full last). */
export interface GateInfo {
  block: string;
  scores: string;
  nodes: string[];
  branchOutputs: string[];
}

export interface FlatModel {
  /** Every piece's nodes in order; outputs: [full logits, ...exits' logits] (prune before training). */
  graph: Graph;
  /** The full network's logits: the model output, a Branch output read as its last branch's. */
  full: string;
  exits: ExitHead[];
  gates: GateInfo[];
}

/**
 * Flattens `bm`: trunk pieces, each exit head and every branch of every Branch (its merged output renamed to the
 * last branch's, the "full" one by convention: branches are listed cheapest first) and gate.
 */
export function flattenBlocks(bm: BlockModel): FlatModel {
  if (bm.inputs.length !== 1 || bm.outputs.length !== 1)
    throw new ModelError(bm.source, 'model', 'a branched student needs one input and one output (the logits)');
  const tensors = new Map<string, Tensor>();
  const nodes: Node[] = [];
  const rename = new Map<string, string>();
  const exits: ExitHead[] = [];
  const gates: GateInfo[] = [];
  const take = (g: Graph): string[] => {
    for (const [k, t] of g.tensors)
      if (!tensors.has(k) && !rename.has(k)) tensors.set(k, { ...t, shape: [...t.shape] });
    for (const n of g.nodes)
      nodes.push({
        ...n,
        inputs: n.inputs.map((i) => rename.get(i) ?? i),
        outputs: [...n.outputs],
        attrs: structuredClone(n.attrs),
      });
    return g.nodes.map((n) => n.name);
  };
  for (const p of bm.pieces as Piece[]) {
    if (p.kind === 'graph') take(p.graph);
    else if (p.kind === 'exit') {
      take(p.head);
      exits.push({ name: p.name, logits: p.head.outputs[0]! });
    } else {
      const gateNodes = take(p.gate);
      const outs = p.branches.map((b) => {
        take(b);
        return b.outputs[0]!;
      });
      outs.slice(0, -1).forEach((o, k) => exits.push({ name: `${p.name}/branches[${k}]`, logits: o }));
      gates.push({ block: p.name, scores: p.gate.outputs[0]!, nodes: gateNodes, branchOutputs: outs });
      rename.set(p.output, outs.at(-1)!);
    }
  }
  // activations the pieces leave shapeless: their inferred shapes
  for (const n of nodes)
    for (const o of n.outputs) {
      const t = bm.shapes.get(o);
      if (!tensors.has(o) && t) tensors.set(o, { ...t, shape: [...t.shape] });
    }
  const full = rename.get(bm.outputs[0]!) ?? bm.outputs[0]!;
  const graph: Graph = {
    name: `${bm.name}:flat`,
    tensors,
    nodes,
    inputs: [...bm.inputs],
    outputs: [full, ...exits.map((e) => e.logits)],
    source: bm.source,
  };
  return { graph, full, exits, gates };
}

/** `g` computing only `outputs`: the nodes they need, the tensors those nodes touch. */
export function pruneTo(g: Graph, outputs: string[]): Graph {
  const need = new Set(outputs);
  const keep: Node[] = [];
  for (const n of [...g.nodes].reverse())
    if (n.outputs.some((o) => need.has(o))) {
      keep.unshift(n);
      n.inputs.forEach((i) => need.add(i));
    }
  const c = cloneGraph({ ...g, nodes: keep, outputs: [...outputs] });
  for (const k of [...c.tensors.keys()]) if (!need.has(k) && !c.inputs.includes(k)) c.tensors.delete(k);
  return c;
}

/** A copy of `bm` whose constants named in `w` hold those values (every piece that reads them). */
export function withTensors(bm: BlockModel, w: ReadonlyMap<string, Float32Array>): BlockModel {
  const patch = (g: Graph): Graph => {
    const c = cloneGraph(g);
    for (const [k, v] of w) {
      const t = c.tensors.get(k);
      if (t?.data) c.tensors.set(k, { ...t, data: Float32Array.from(v) });
    }
    return c;
  };
  const pieces = bm.pieces.map((p): Piece => {
    if (p.kind === 'graph') return { ...p, graph: patch(p.graph) };
    if (p.kind === 'exit') return { ...p, head: patch(p.head) };
    return { ...p, gate: patch(p.gate), branches: p.branches.map(patch) };
  });
  return { ...bm, pieces };
}

/** The constant tensor `name` of `bm` (the first piece holding it). */
export function tensorData(bm: BlockModel, name: string): Float32Array | undefined {
  for (const p of bm.pieces) {
    const gs = p.kind === 'graph' ? [p.graph] : p.kind === 'exit' ? [p.head] : [p.gate, ...p.branches];
    for (const g of gs) {
      const d = g.tensors.get(name)?.data;
      if (d instanceof Float32Array) return d;
    }
  }
  return undefined;
}

/** The Dense node that makes a 2-branch gate's scores ([2, D] weight and a bias), if that is its last node. */
export function gateDense(flat: Graph, gate: GateInfo): { weight: string; bias: string; inputs: number } | undefined {
  const n = flat.nodes.find((k) => k.outputs.includes(gate.scores));
  if (n?.op !== 'Dense' || gate.branchOutputs.length !== 2 || n.inputs.length < 3) return undefined;
  const w = flat.tensors.get(n.inputs[1]!),
    b = flat.tensors.get(n.inputs[2]!);
  if (!w?.data || !b?.data || w.shape.length !== 2 || w.shape[0] !== 2) return undefined;
  return { weight: n.inputs[1]!, bias: n.inputs[2]!, inputs: w.shape[1]! };
}

const logit = (p: number) => Math.log(p / (1 - p));

/**
 * The threshold form of a trained 2-branch gate (scores s0 cheap, s1 full; softmax = P(cheap agrees)): row 0 becomes
 * s0 − s1 and row 1 the constant logit(τ), so the cheap branch runs exactly when P(cheap agrees) > τ — the form
 * examples/branches uses, where a threshold is one bias.
 */
export function foldGate(w: Float32Array, b: Float32Array, d: number, tau: number): [Float32Array, Float32Array] {
  const fw = new Float32Array(2 * d);
  for (let j = 0; j < d; j++) fw[j] = w[j]! - w[d + j]!;
  return [fw, Float32Array.of(b[0]! - b[1]!, logit(tau))];
}

/** τ of a gate in threshold form (row 1 all zero: s1 = logit(τ)), else undefined. */
export function gateThreshold(w: Float32Array, b: Float32Array, d: number): number | undefined {
  for (let j = 0; j < d; j++) if (w[d + j] !== 0) return undefined;
  return 1 / (1 + Math.exp(-b[1]!));
}

/** `bm` with every EarlyExit at threshold τ and every threshold-form gate's bias 1 set to logit(τ). */
export function atThreshold(bm: BlockModel, flat: FlatModel, tau: number): BlockModel {
  const w = new Map<string, Float32Array>();
  for (const gt of flat.gates) {
    const d = gateDense(flat.graph, gt);
    if (!d) continue;
    const wt = tensorData(bm, d.weight)!,
      b = tensorData(bm, d.bias)!;
    if (gateThreshold(wt, b, d.inputs) !== undefined) w.set(d.bias, Float32Array.of(b[0]!, logit(tau)));
  }
  const out = withTensors(bm, w);
  return { ...out, pieces: out.pieces.map((p) => (p.kind === 'exit' ? { ...p, threshold: tau } : p)) };
}

type Obj = Record<string, unknown>;

/**
 * The model.json of `json` (its weights file `bin`) with the tensors in `w` replaced: float32 tensors stored in the
 * weights file are overwritten in a copy at their own offset, inline ones get the new values as numbers. Every other
 * byte stays. Returns the JSON and the new weights bytes (undefined when the model has no weights file).
 */
export function patchModelJson(
  json: Obj,
  bin: Uint8Array | undefined,
  w: ReadonlyMap<string, Float32Array>,
  file: string,
): { json: Obj; bin?: Uint8Array } {
  const out = structuredClone(json);
  const tensors = (out.tensors ?? {}) as Record<string, Obj>;
  const copy = bin && bin.slice();
  for (const [k, v] of w) {
    const t = tensors[k];
    if (!t) throw new ModelError(file, `tensor '${k}'`, 'is trained but not a constant of the model file');
    if ((t.dtype ?? 'float32') !== 'float32')
      throw new ModelError(file, `tensor '${k}'`, `is trained, so it must be float32, found ${String(t.dtype)}`);
    if (Array.isArray(t.data)) t.data = Array.from(v);
    else if (typeof t.offset === 'number' && copy) {
      if (t.length !== undefined && t.length !== v.byteLength)
        throw new ModelError(file, `tensor '${k}'`, `holds ${String(t.length)} bytes, the trained one ${v.byteLength}`);
      copy.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), t.offset);
    } else throw new ModelError(file, `tensor '${k}'`, 'has neither inline data nor an offset in the weights file');
  }
  return { json: out, bin: copy };
}
