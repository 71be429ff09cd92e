// Where a training step first went non-finite: the step is rerun in a debug build of the training
// bundle whose outputs are every node's outputs (same kernels, same float32 bits), from the state
// before the step, and the nodes are scanned in the training graph's order — forward, loss, backward
// (reverse layer order), clipping — until one produced a NaN or ±Inf. Runs once, after a failure.
// findNonFiniteSharded does the same for the data-parallel step `edgec train` runs at every thread count: the
// shards 0..S−1 in order through a debug build of the gradient bundle, then the update bundle on their stacked
// gradients — what the threads computed, byte for byte, since a shard does not depend on who ran it.
import { load } from '../../runtime/node.ts';
import type { Graph } from '../ir/graph.ts';
import type { ShardedTraining } from './shard.ts';
import type { Batch, TrainerState } from '../../runtime/train.ts';
import { compileGraph, cloneGraph } from '../compile.ts';
import type { TrainingGraph } from './training-graph.ts';

export interface NonFiniteSite {
  /** The node that produced the first non-finite value, and its op. */
  node: string;
  op: string;
  /** 'input' (the batch itself), 'forward', 'loss', 'backward' (then `layer` is the forward node) or 'update'. */
  phase: 'input' | 'forward' | 'loss' | 'backward' | 'update';
  layer?: string;
  /** The sharded step: the shard (0-based) whose forward, loss or backward went non-finite, of `shards`. */
  shard?: number;
  shards?: number;
}

const UPDATES = new Set(['SgdUpdate', 'AdamUpdate']);
const LOSSES = new Set(['SoftmaxCrossEntropy', 'MseLoss', 'KlDivergence']);

const finite = (a: ArrayLike<number>) => {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
};

export async function findNonFinite(
  tg: TrainingGraph,
  state: TrainerState,
  batch: Batch,
  lr: number,
  build: 'relaxed' | 'simd' | 'scalar',
): Promise<NonFiniteSite | undefined> {
  if (!finite(batch.x)) return { node: tg.x, op: 'input', phase: 'input' };
  const g = cloneGraph(tg.graph);
  const nodes = g.nodes.filter((n) => !UPDATES.has(n.op));
  g.outputs = [...new Set(nodes.flatMap((n) => n.outputs).filter((o) => g.tensors.get(o)?.dtype === 'float32'))];
  const m = await load(compileGraph(g, { skipPasses: true }).bundle, { build });
  for (const [k, v] of state.variables) m.writeVariable(k, v);
  const feed: Record<string, Float32Array | Int32Array> = {
    [tg.x]: batch.x,
    [tg.labels]: batch.y,
    [tg.lr]: Float32Array.of(lr),
  };
  if (tg.step) feed[tg.step] = Float32Array.of(state.step + 1);
  return scan(tg.graph, nodes, m.run(feed));
}

/** The first node of `nodes` (in order) with a non-finite output in `out`, placed in its phase. */
function scan(g: Graph, nodes: Graph['nodes'], out: Record<string, ArrayLike<number>>): NonFiniteSite | undefined {
  const lossAt = g.nodes.findIndex((n) => LOSSES.has(n.op));
  const forward = new Set(g.nodes.slice(0, Math.max(0, lossAt)).map((n) => n.name));
  const lossNode = g.nodes[lossAt]?.name;
  for (const n of nodes) {
    if (n.outputs.every((o) => out[o] === undefined || finite(out[o]!))) continue;
    if (forward.has(n.name)) return { node: n.name, op: n.op, phase: 'forward' };
    const grad = /^(.*)\/grad\//.exec(n.name);
    if (grad) return { node: n.name, op: n.op, phase: 'backward', layer: grad[1] };
    return { node: n.name, op: n.op, phase: n.name === lossNode ? 'loss' : 'update' };
  }
  return undefined;
}

/** A bundle of `g` (a clone) whose outputs are every float32 output of `nodes`, holding `state`'s variables. */
async function debugModel(
  g: Graph,
  nodes: (g: Graph) => Graph['nodes'],
  state: TrainerState,
  build: 'relaxed' | 'simd' | 'scalar',
) {
  const d = cloneGraph(g);
  d.outputs = [
    ...new Set(
      nodes(d)
        .flatMap((n) => n.outputs)
        .filter((o) => d.tensors.get(o)?.dtype === 'float32'),
    ),
  ];
  const m = await load(compileGraph(d, { skipPasses: true }).bundle, { build });
  for (const v of m.variables) {
    const w = state.variables.get(v.name);
    if (w) m.writeVariable(v.name, w);
  }
  return m;
}

/**
 * The sharded step (compiler/train/shard.ts) from `state` on `batch`: shards in order, each scanned as
 * findNonFinite scans the unsharded step (the site names the shard), then the update on the stacked gradients.
 */
export async function findNonFiniteSharded(
  st: ShardedTraining,
  state: TrainerState,
  batch: Batch,
  lr: number,
  build: 'relaxed' | 'simd' | 'scalar',
): Promise<NonFiniteSite | undefined> {
  const { plan } = st,
    S = plan.shards;
  if (!finite(batch.x)) return { node: plan.gradient.x, op: 'input', phase: 'input' };
  const grad = await debugModel(st.gradient, (g) => g.nodes, state, build);
  const cut = <T extends Float32Array | Int32Array>(a: T, s: number) =>
    a.subarray((s * a.length) / S, ((s + 1) * a.length) / S) as T;
  const g = plan.gradient;
  const sizes = g.grads.map((n) => st.gradient.tensors.get(n)!.shape.reduce((x, d) => x * d, 1));
  const stats = g.stats ?? [];
  const statSizes = stats.map((n) => st.gradient.tensors.get(n)!.shape.reduce((x, d) => x * d, 1));
  const stacked = sizes.map((n) => new Float32Array(S * n));
  const statStacked = statSizes.map((n) => new Float32Array(S * n));
  for (let s = 0; s < S; s++) {
    const feed: Record<string, Float32Array | Int32Array> = { [g.x]: cut(batch.x, s), [g.labels]: cut(batch.y, s) };
    for (const t of g.targets ?? []) feed[t] = cut(batch.targets![t]!, s);
    const out = grad.run(feed);
    const site = scan(st.gradient, st.gradient.nodes, out);
    if (site) return { ...site, shard: s, shards: S };
    g.grads.forEach((n, k) => stacked[k]!.set(out[n] as Float32Array, s * sizes[k]!));
    stats.forEach((n, k) => statStacked[k]!.set(out[n] as Float32Array, s * statSizes[k]!));
  }
  const up = await debugModel(st.update, (u) => u.nodes.filter((n) => !UPDATES.has(n.op)), state, build);
  const u = plan.update;
  const feed: Record<string, Float32Array> = { [u.lr]: Float32Array.of(lr) };
  u.grads.forEach((n, k) => (feed[n] = stacked[k]!));
  (u.stats ?? []).forEach((n, k) => (feed[n] = statStacked[k]!));
  if (u.step) feed[u.step] = Float32Array.of(state.step + 1);
  return scan(
    st.update,
    st.update.nodes.filter((n) => !UPDATES.has(n.op)),
    up.run(feed),
  );
}

/** The site in words for an error line. */
export function describeSite(s: NonFiniteSite): string {
  switch (s.phase) {
    case 'input':
      return `the input batch '${s.node}' holds NaN or Inf (check the data file)`;
    case 'forward':
      return `first non-finite value: the output of node '${s.node}' (${s.op}) in the forward pass${ofShard(s)}`;
    case 'loss':
      return `first non-finite value: the loss node '${s.node}' (${s.op})${ofShard(s)}`;
    case 'backward':
      return `first non-finite value: the gradient of layer '${s.layer}' (node '${s.node}', ${s.op}) in the backward pass${ofShard(s)}`;
    case 'update':
      return `first non-finite value: '${s.node}' (${s.op}) in the update`;
  }
}

const ofShard = (s: NonFiniteSite) => (s.shards && s.shards > 1 ? ` of shard ${s.shard! + 1}/${s.shards}` : '');
