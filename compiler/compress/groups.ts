// Dependency groups for channel pruning (as Torch-Pruning's DepGraph): every channel position of every
// computed tensor (the last axis, or the axis a Transpose moved the channels to) is a node of a union-find; each op's channelFlow rule (compiler/ir/ops)
// joins the positions that must go together. A unit is one joined set (one prunable channel); units
// running through the same tensors form a group, pruned together. Graph inputs/outputs, --keep nodes
// and boundary ops (a rule that says so, or no rule at all) keep their channels; groups say why.
import { ModelError, type Graph, type Node, type Tensor } from '../ir/graph.ts';
import { OPS } from '../ir/ops/index.ts';
import type { ChannelFlow, OpDef } from '../ir/ops/op-def.ts';

/** One prunable channel: its positions (last axis) in every tensor it runs through. */
export interface ChannelUnit {
  at: Map<string, number[]>;
}

export interface DepGroup {
  /** The producing layers' names joined by '+' (or the first tensor's name). */
  name: string;
  tensors: string[];
  /** Ordered by position in the first tensor. */
  units: ChannelUnit[];
  /** Nodes whose weights make these channels (transform outputs). */
  producers: string[];
  /** Nodes whose weights read these channels (transform inputs). */
  consumers: string[];
  /** Grouped convolutions: the block of each unit; the same count must stay in every block. */
  blockOf?: number[];
  /** Why these channels cannot go (graph output, --keep, a boundary); undefined = prunable. */
  fixed?: string;
}

export interface Boundary {
  node: string;
  op: string;
  why: string;
}

export interface DepGraph {
  groups: DepGroup[];
  boundaries: Boundary[];
  /** Every node's channel flow by node name. */
  flows: Map<string, ChannelFlow>;
  /** Tensors whose channels are not on the last axis (a Transpose moved them): their channel axis. */
  axes: Map<string, number>;
}

/** The axis of `t` that runs over channels. */
export const channelAxis = (dep: DepGraph, g: Graph, t: string): number =>
  dep.axes.get(t) ?? g.tensors.get(t)!.shape.length - 1;

class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    let r = i;
    while (this.parent[r] !== r) r = this.parent[r]!;
    while (this.parent[i] !== r) {
      const next = this.parent[i]!;
      this.parent[i] = r;
      i = next;
    }
    return r;
  }
  union(a: number, b: number): void {
    const ra = this.find(a),
      rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

/**
 * The node's channel flow, with the checks the rules leave to us (params are constants; an input whose
 * channels are off the last axis needs a rule that says where they go). `axes`: channel axes so far.
 */
export function channelFlowOf(g: Graph, n: Node, axes: ReadonlyMap<string, number> = new Map()): ChannelFlow {
  const def: OpDef = OPS[n.op];
  if (!def.channelFlow) return { kind: 'boundary', why: `${n.op} has no channel rule` };
  const ins = n.inputs.map((name) => (name === '' ? undefined : g.tensors.get(name)));
  const outs = n.outputs.map((name) => g.tensors.get(name)!);
  const inAxes = ins.map((t) => (t && !t.data ? (axes.get(t.name) ?? t.shape.length - 1) : undefined));
  const flow = def.channelFlow(n, ins, outs, inAxes);
  const moved = inAxes.findIndex((a, i) => a !== undefined && a !== ins[i]!.shape.length - 1);
  const follows =
    (flow.kind === 'elementwise' && flow.axis !== undefined && flow.params.length === 0) ||
    (flow.kind === 'reshape' && flow.inner !== undefined) ||
    flow.kind === 'boundary';
  if (moved >= 0 && !follows)
    return {
      kind: 'boundary',
      why: `reads '${n.inputs[moved]}' with its channels on axis ${inAxes[moved]}, not the last (a Transpose moved them)`,
    };
  const params =
    flow.kind === 'elementwise' ? flow.params : flow.kind === 'transform' ? [flow.consumes, ...flow.produces] : [];
  for (const p of params) {
    const t = ins[p.input];
    if (t && !t.data) return { kind: 'boundary', why: `its weights '${t.name}' are computed, not constants` };
  }
  return flow;
}

/** Finds the dependency groups of a shape-inferred float graph; `keep` names nodes that keep their shape. */
export function dependencyGroups(g: Graph, keep: readonly string[] = []): DepGraph {
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  for (const k of keep) {
    if (!byName.has(k))
      throw new ModelError(
        g.source,
        `--keep '${k}'`,
        `no node of that name (nodes: ${g.nodes
          .slice(0, 8)
          .map((n) => n.name)
          .join(', ')}${g.nodes.length > 8 ? ', …' : ''})`,
      );
  }
  // every node's flow, in graph order, so each tensor's channel axis is known before positions are laid out
  const flows = new Map<string, ChannelFlow>();
  const axes = new Map<string, number>();
  for (const n of g.nodes) {
    const flow = channelFlowOf(g, n, axes);
    flows.set(n.name, flow);
    const out = g.tensors.get(n.outputs[0]!);
    if (flow.kind === 'elementwise' && flow.axis !== undefined && out && flow.axis !== out.shape.length - 1)
      axes.set(out.name, flow.axis);
  }
  const channelsOf = (t: Tensor): number => t.shape[axes.get(t.name) ?? t.shape.length - 1] ?? 1;
  // channel positions of computed tensors: base offset per tensor
  const base = new Map<string, number>();
  let total = 0;
  const carry = (name: string): void => {
    const t = g.tensors.get(name);
    if (!t || t.data || t.shape.length === 0 || base.has(name)) return;
    base.set(name, total);
    total += channelsOf(t);
  };
  g.inputs.forEach(carry);
  for (const n of g.nodes) n.outputs.forEach(carry);
  const uf = new UnionFind(total);
  const fixed = new Map<string, string>();
  const fix = (name: string, why: string): void => {
    if (base.has(name) && !fixed.has(name)) fixed.set(name, why);
  };
  const C = (name: string): number => channelsOf(g.tensors.get(name)!);

  const boundaries: Boundary[] = [];
  for (const n of g.nodes) {
    const flow = flows.get(n.name)!;
    const out = n.outputs[0]!;
    const o = base.get(out);
    switch (flow.kind) {
      case 'elementwise':
        for (const i of flow.data) {
          const b = base.get(n.inputs[i]!);
          if (b === undefined || o === undefined) continue;
          for (let c = 0; c < C(out); c++) uf.union(b + c, o + c);
        }
        break;
      case 'concat': {
        let off = 0;
        for (const x of n.inputs) {
          const b = base.get(x);
          if (b !== undefined && o !== undefined) for (let c = 0; c < C(x); c++) uf.union(b + c, o + off + c);
          else fix(out, `node '${n.name}' concatenates the constant '${x}'`);
          off += C(x);
        }
        break;
      }
      case 'reshape': {
        const x = n.inputs[0]!,
          b = base.get(x),
          cin = C(x),
          inner = flow.inner ?? 1;
        if (b === undefined || o === undefined) break;
        for (let m = 0; m < C(out) / (cin * inner); m++)
          for (let c = 0; c < cin; c++) for (let k = 0; k < inner; k++) uf.union(b + c, o + (m * cin + c) * inner + k);
        break;
      }
      case 'transform':
        break;
      case 'boundary': {
        const why = `node '${n.name}' (${n.op}) ${flow.why}`;
        boundaries.push({ node: n.name, op: n.op, why: flow.why });
        for (const t of [...n.inputs, ...n.outputs]) fix(t, why);
        break;
      }
    }
  }
  for (const i of g.inputs) fix(i, `graph input '${i}' keeps its shape`);
  for (const o of g.outputs) fix(o, `graph output '${o}' keeps its shape`);
  for (const k of keep) {
    const n = byName.get(k)!;
    for (const t of [...n.inputs, ...n.outputs]) fix(t, `--keep '${k}'`);
  }

  // units: the union-find's sets, with their positions per tensor
  const units = new Map<number, ChannelUnit>();
  for (const [name, b] of base) {
    for (let c = 0; c < C(name); c++) {
      const r = uf.find(b + c);
      let u = units.get(r);
      if (!u) units.set(r, (u = { at: new Map() }));
      let at = u.at.get(name);
      if (!at) u.at.set(name, (at = []));
      at.push(c);
    }
  }
  const byKey = new Map<string, DepGroup>();
  for (const u of units.values()) {
    const tensors = [...u.at.keys()];
    const key = [...tensors].sort().join('\u0000');
    let grp = byKey.get(key);
    if (!grp) byKey.set(key, (grp = { name: '', tensors, units: [], producers: [], consumers: [] }));
    grp.units.push(u);
  }
  const groupOf = new Map<string, DepGroup[]>();
  for (const grp of byKey.values()) {
    for (const t of grp.tensors) {
      let l = groupOf.get(t);
      if (!l) groupOf.set(t, (l = []));
      l.push(grp);
    }
    const first = grp.tensors[0]!;
    grp.units.sort((a, b) => a.at.get(first)![0]! - b.at.get(first)![0]!);
    for (const t of grp.tensors) {
      const why = fixed.get(t);
      if (why !== undefined) {
        grp.fixed = why;
        break;
      }
    }
  }
  for (const n of g.nodes) {
    const flow = flows.get(n.name)!;
    if (flow.kind !== 'transform') continue;
    for (const grp of groupOf.get(n.outputs[0]!) ?? []) grp.producers.push(n.name);
    for (const grp of groupOf.get(n.inputs[flow.data]!) ?? []) grp.consumers.push(n.name);
    if (flow.groups > 1) {
      for (const t of [n.inputs[flow.data]!, n.outputs[0]!])
        blockConstraint(g, n, t, flow.groups, groupOf.get(t) ?? []);
    }
  }
  for (const grp of byKey.values()) {
    grp.name = grp.producers.length > 0 ? grp.producers.join('+') : grp.tensors[0]!;
    if (grp.fixed === undefined && grp.producers.length === 0) grp.fixed = 'no layer with weights makes these channels';
  }
  return { groups: [...byKey.values()], boundaries, flows, axes };
}

/** A grouped conv keeps its groups equal: the same count of channels stays in each block of `t`. */
function blockConstraint(g: Graph, n: Node, t: string, groups: number, grps: DepGroup[]): void {
  const c = g.tensors.get(t)!.shape.at(-1) ?? 1;
  if (grps.length !== 1) {
    for (const grp of grps)
      grp.fixed ??= `grouped conv '${n.name}' reads '${t}', whose channels come from ${grps.length} groups`;
    return;
  }
  const grp = grps[0]!;
  const blocks = grp.units.map((u) => Math.floor(u.at.get(t)![0]! / (c / groups)));
  if (grp.blockOf && grp.blockOf.some((b, i) => b !== blocks[i])) {
    grp.fixed ??= `grouped convs split '${t}' differently ('${n.name}' and another)`;
    return;
  }
  grp.blockOf = blocks;
}
