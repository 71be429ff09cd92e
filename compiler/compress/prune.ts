// Channel pruning for real: the kept channels of each dependency group (groups.ts) get new, smaller
// weight tensors (rows of producers, columns of consumers, per-channel params) and the graph is
// re-inferred, so every cut shows up as a smaller kernel. Kept counts round to `roundTo` (the simd
// kernels' lane/tile multiple) and never go below 1 − maxRatio of a group.
import { cloneGraph } from '../compile.ts';
import { ModelError, numElements, type Graph, type Node, type TensorData } from '../ir/graph.ts';
import { inferShapes } from '../passes/infer-shapes.ts';
import { channelAxis, dependencyGroups, type DepGraph, type DepGroup } from './groups.ts';
import { unitScores, type Importance } from './importance.ts';

export interface KeepRule {
  /** Kept counts are multiples of this (per conv group, so the total is too when it can be). */
  roundTo: number;
  /** The largest share of a group's channels one cut may remove. */
  maxRatio: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Blocks of a group (grouped convs) and the units per block. */
function blocksOf(grp: DepGroup): { count: number; size: number } {
  const count = grp.blockOf ? Math.max(...grp.blockOf) + 1 : 1;
  return { count, size: grp.units.length / count };
}

/** How many channels of `grp` stay when `ratio` of them go, after rounding and the per-group ceiling. */
export function keptCount(grp: DepGroup, ratio: number, rule: KeepRule): number {
  const n = grp.units.length;
  if (grp.fixed !== undefined || ratio <= 0) return n;
  const { count, size } = blocksOf(grp);
  const step = rule.roundTo / gcd(rule.roundTo, count);
  const floor = Math.ceil(Math.ceil(size * (1 - rule.maxRatio)) / step) * step;
  const k = Math.max(Math.round((size * (1 - ratio)) / step) * step, step, floor);
  return k >= size ? n : k * count;
}

/** The `kept` most important units (indices, ascending), the same count from every block; ties keep the lower index. */
export function chooseUnits(grp: DepGroup, scores: Float64Array, kept: number): number[] {
  const { count } = blocksOf(grp);
  const per = kept / count;
  const chosen: number[] = [];
  for (let b = 0; b < count; b++) {
    const idx = grp.units.map((_, i) => i).filter((i) => (grp.blockOf?.[i] ?? 0) === b);
    idx.sort((x, y) => scores[y]! - scores[x]! || x - y);
    chosen.push(...idx.slice(0, per));
  }
  return chosen.sort((x, y) => x - y);
}

/** Copies `data` of `shape` keeping indices `keep` of `axis`. */
export function sliceAxis(
  data: TensorData,
  shape: readonly number[],
  axis: number,
  keep: readonly number[],
): TensorData {
  const outer = numElements(shape.slice(0, axis)),
    dim = shape[axis]!,
    inner = numElements(shape.slice(axis + 1));
  const Ctor = data.constructor as new (n: number) => TensorData;
  const out = new Ctor(outer * keep.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const k of keep) {
      const from = (a * dim + k) * inner;
      for (let i = 0; i < inner; i++) out[o++] = data[from + i]!;
    }
  }
  return out;
}

/** Grouped conv weights [Co,…,Ci/G]: row o keeps the columns its group keeps (`keepPerGroup`, equal counts). */
function sliceGroupedColumns(data: TensorData, shape: readonly number[], keepPerGroup: number[][]): TensorData {
  const co = shape[0]!,
    cig = shape.at(-1)!,
    mid = numElements(shape.slice(1, -1));
  const per = keepPerGroup[0]!.length,
    rowsPerGroup = co / keepPerGroup.length;
  const Ctor = data.constructor as new (n: number) => TensorData;
  const out = new Ctor(co * mid * per);
  let o = 0;
  for (let r = 0; r < co; r++) {
    const cols = keepPerGroup[Math.floor(r / rowsPerGroup)]!;
    for (let m = 0; m < mid; m++) for (const c of cols) out[o++] = data[(r * mid + m) * cig + c]!;
  }
  return out;
}

/**
 * The graph with only the kept units of each group (`kept`: unit indices per group; groups not in the map
 * keep everything). Constants shared by several nodes get a copy per node before they are cut.
 */
export function applyPruning(g: Graph, dep: DepGraph, kept: ReadonlyMap<DepGroup, readonly number[]>): Graph {
  const out = cloneGraph(g);
  const masks = new Map<string, Uint8Array>();
  for (const [grp, units] of kept) {
    const stay = new Set(units);
    grp.units.forEach((u, i) => {
      if (stay.has(i)) return;
      for (const [t, pos] of u.at) {
        let m = masks.get(t);
        if (!m) masks.set(t, (m = new Uint8Array(out.tensors.get(t)!.shape[channelAxis(dep, out, t)]!).fill(1)));
        for (const p of pos) m[p] = 0;
      }
    });
  }
  const keptOf = (t: string): number[] | undefined => {
    const m = masks.get(t);
    return m && [...m.keys()].filter((i) => m[i] === 1);
  };
  const uses = new Map<string, number>();
  for (const n of out.nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const owned = new Set<string>();
  /** The node's own copy of constant input i (a shared constant is copied once per node). */
  const own = (n: Node, i: number): string => {
    const name = n.inputs[i]!;
    if (owned.has(name) || (uses.get(name) ?? 0) <= 1) {
      owned.add(name);
      return name;
    }
    const copy = `${name}.${n.name}`;
    const t = out.tensors.get(name)!;
    out.tensors.set(copy, { ...t, name: copy, shape: [...t.shape] });
    n.inputs[i] = copy;
    owned.add(copy);
    return copy;
  };
  const cut = (n: Node, input: number, axis: number, keep: number[]): void => {
    const t = out.tensors.get(own(n, input))!;
    if (t.shape[axis] === keep.length) return;
    t.data = sliceAxis(t.data!, t.shape, axis, keep);
    t.shape = t.shape.map((d, k) => (k === axis ? keep.length : d));
  };
  for (const n of out.nodes) {
    const flow = dep.flows.get(n.name)!;
    const outKeep = keptOf(n.outputs[0]!);
    if (flow.kind === 'transform') {
      const inKeep = keptOf(n.inputs[flow.data]!);
      if (inKeep && flow.groups === 1) cut(n, flow.consumes.input, flow.consumes.axis, inKeep);
      else if (inKeep) {
        const t = out.tensors.get(own(n, flow.consumes.input))!;
        const cig = t.shape.at(-1)!;
        const perGroup = Array.from({ length: flow.groups }, (_, gi) =>
          inKeep.filter((c) => Math.floor(c / cig) === gi).map((c) => c - gi * cig),
        );
        t.data = sliceGroupedColumns(t.data!, t.shape, perGroup);
        t.shape = t.shape.map((d, k) => (k === t.shape.length - 1 ? perGroup[0]!.length : d));
      }
      if (outKeep) for (const p of flow.produces) cut(n, p.input, p.axis, outKeep);
    } else if (flow.kind === 'elementwise' && outKeep) {
      const c = out.tensors.get(n.outputs[0]!)!.shape.at(-1)!;
      for (const p of flow.params)
        if (out.tensors.get(n.inputs[p.input]!)!.shape[p.axis] === c) cut(n, p.input, p.axis, outKeep);
      flow.update?.(n, outKeep.length);
    } else if (flow.kind === 'reshape') {
      const inKeep = keptOf(n.inputs[0]!);
      if (inKeep)
        flow.update?.(n, inKeep.length, out.tensors.get(n.inputs[0]!)!.shape[channelAxis(dep, out, n.inputs[0]!)]!);
    }
  }
  inferShapes.run(out);
  return out;
}

/** Multiply-accumulates of one node (Conv2D, Dense; 0 for the rest), from the inferred shapes. */
export function nodeMacs(g: Graph, n: Node): number {
  const t = (i: string) => g.tensors.get(i)!.shape;
  if (n.op === 'Conv2D') {
    const w = t(n.inputs[1]!);
    return numElements(t(n.outputs[0]!)) * numElements(w.slice(1));
  }
  if (n.op === 'Dense') return t(n.outputs[0]!)[0]! * numElements(t(n.inputs[1]!));
  return 0;
}

export const graphMacs = (g: Graph): number => g.nodes.reduce((s, n) => s + nodeMacs(g, n), 0);

/** Elements of every constant the graph's nodes read (weights, biases, params). */
export function graphParams(g: Graph): number {
  const seen = new Set<string>();
  let s = 0;
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      const t = g.tensors.get(i);
      if (t?.data && !seen.has(i)) {
        seen.add(i);
        s += numElements(t.shape);
      }
    }
  }
  return s;
}

export interface ChannelPlan {
  dep: DepGraph;
  /** Removal ratio per group name (absent = 0). */
  ratios: ReadonlyMap<string, number>;
  importance: Importance;
  rule: KeepRule;
  /** Precomputed unit scores by group name (taylor, thinet: measured on calibration data). */
  scores?: ReadonlyMap<string, Float64Array>;
}

/** Kept units per prunable group for the plan's ratios. */
export function keptUnits(g: Graph, plan: ChannelPlan): Map<DepGroup, number[]> {
  const kept = new Map<DepGroup, number[]>();
  for (const grp of plan.dep.groups) {
    const ratio = plan.ratios.get(grp.name) ?? 0;
    const k = keptCount(grp, ratio, plan.rule);
    if (k === grp.units.length) continue;
    kept.set(grp, chooseUnits(grp, plan.scores?.get(grp.name) ?? unitScores(g, plan.dep, grp, plan.importance), k));
  }
  return kept;
}

/** The prunable groups of `g`, or a ModelError saying why none is (every channel protected). */
export function prunableGroups(g: Graph, keep: readonly string[]): { dep: DepGraph; prunable: DepGroup[] } {
  const dep = dependencyGroups(g, keep);
  const prunable = dep.groups.filter((grp) => grp.fixed === undefined);
  if (prunable.length === 0) {
    const why = [...new Set(dep.groups.map((grp) => `${grp.name}: ${grp.fixed}`))];
    throw new ModelError(
      g.source,
      'compress',
      `no channel can be pruned: every group keeps its channels (${why.slice(0, 6).join('; ')}${why.length > 6 ? '; …' : ''})`,
    );
  }
  return { dep, prunable };
}

/** One uniform ratio for every prunable group. */
export function pruneUniform(
  g: Graph,
  ratio: number,
  importance: Importance,
  rule: KeepRule,
  keep: readonly string[] = [],
): { graph: Graph; dep: DepGraph } {
  const { dep, prunable } = prunableGroups(g, keep);
  const plan: ChannelPlan = { dep, ratios: new Map(prunable.map((grp) => [grp.name, ratio])), importance, rule };
  return { graph: applyPruning(g, dep, keptUnits(g, plan)), dep };
}
