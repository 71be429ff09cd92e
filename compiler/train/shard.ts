// Data-parallel training plans (docs/training.md, "Threads"): the batch B is cut into S fixed shards of
// b = B/S samples; S depends on the batch only, never on the thread count. Two graphs come out:
// - the *gradient* graph, one shard: forward, loss (the shard mean), backward; outputs loss, logits and
//   every trained weight's gradient (weights are its state, written by the host before each shard);
// - the *update* graph: per weight an input [S, ...shape] of the shard gradients, summed in shard order
//   0..S−1 (ReduceSum: acc = 0, ascending), times 1/S (shard means → batch mean), then the clipping and
//   optimiser nodes of the full-batch training graph unchanged; its state is the weights and moments.
// Whoever computes a shard, the update sees the same bytes, so any thread count gives the same weights.
// BatchNorm in training mode: each shard normalises with its own statistics (as PyTorch DDP without SyncBatchNorm)
// and outputs them (mean, unbiased variance); the update graph's BatchNormMerge combines the S shards' exactly into
// the whole batch's, in shard order, and moves the running statistics (docs/training.md "Threads").
import { ModelError, numElements, type Graph, type Node, type Tensor } from '../ir/graph.ts';
import { inferNode } from '../ir/ops/index.ts';
import { verify } from '../ir/verify.ts';
import { compileGraph, type CompileOptions } from '../compile.ts';
import { buildTrainingGraph, withBatch, type TrainingGraph, type TrainingOptions } from './training-graph.ts';
import type { ShardPlan, ShardedBundles } from '../../runtime/train-shards.ts';

export interface ShardedTraining {
  /** Names the runtime needs (runtime/train-parallel.ts). */
  plan: ShardPlan;
  gradient: Graph;
  update: Graph;
}

/** Samples a shard holds at least, by default, when BatchNorm trains: its statistics normalise the shard. */
export const MIN_BATCHNORM_SHARD = 16;

/**
 * Default shard count: the largest divisor of `batch` that is ≤ `max` (8: every thread count up to 8 is busy)
 * and leaves every shard `minShard` samples or more (1 when none does).
 */
export function defaultShards(batch: number, max = 8, minShard = 1): number {
  for (let s = Math.min(Math.floor(batch / minShard), max); s > 1; s--) if (batch % s === 0) return s;
  return 1;
}

/** One BatchNorm in training mode: what the update graph merges. */
interface BatchNormStats {
  node: string;
  runningMean: string;
  runningVar: string;
  momentum: number;
  /** Rows per shard: b·H·W (the statistics' M in one shard). */
  rows: number;
  /** The gradient graph's outputs: the shard's batch mean and unbiased variance (its running var at momentum 1). */
  mean: string;
  var: string;
}

const UPDATE_OPS = new Set(['GlobalNormScale', 'SgdUpdate', 'AdamUpdate']);

/**
 * Splits the training step of `fwd` at batch `batch` into a shard-gradient graph and an update graph. Default
 * shards: defaultShards(batch), with ≥ MIN_BATCHNORM_SHARD samples a shard when a BatchNorm trains.
 */
export function buildShardedTraining(
  fwd: Graph,
  batch: number,
  opts: TrainingOptions = {},
  shardCount?: number,
): ShardedTraining {
  if (shardCount !== undefined && (!Number.isInteger(shardCount) || shardCount < 1 || batch % shardCount !== 0)) {
    throw new ModelError(fwd.source, 'shards', `must be a whole divisor of the batch ${batch}, found ${shardCount}`);
  }
  const full = buildTrainingGraph(withBatch(fwd, batch), opts);
  const shards = shardCount ?? defaultShards(batch, 8, full.runningStats.length > 0 ? MIN_BATCHNORM_SHARD : 1);
  const extra = [...full.graph.state!.keys()].filter(
    (k) =>
      !full.params.includes(k) &&
      !full.runningStats.includes(k) &&
      ![...full.moments.values()].some((m) => m.includes(k)),
  );
  if (extra.length > 0) {
    throw new ModelError(
      fwd.source,
      `state '${extra[0]}'`,
      'is neither a weight nor a moment: a sharded step cannot keep it per batch',
    );
  }
  // the shard graph: the same step at batch b with plain SGD and no clipping, cut before its updates; its
  // BatchNorms at momentum 1, so their running outputs are the shard's statistics
  const sg = buildTrainingGraph(withBatch(fwd, batch / shards), {
    loss: opts.loss,
    frozen: opts.frozen,
    optimizer: { kind: 'sgd' },
    ...(opts.extraLosses && { extraLosses: opts.extraLosses }),
    ...(opts.termOutputs && { termOutputs: true }),
    batchNorm: opts.batchNorm,
    batchNormMomentum: 1,
  });
  const bn = full.graph.nodes
    .filter((n) => n.op === 'BatchNormTrain')
    .map((n): BatchNormStats => {
      const s = sg.graph.nodes.find((o) => o.op === 'BatchNormTrain' && o.name === n.name)!;
      const x = sg.graph.tensors.get(s.inputs[0]!)!.shape;
      return {
        node: n.name,
        runningMean: n.inputs[3]!,
        runningVar: n.inputs[4]!,
        momentum: typeof n.attrs.momentum === 'number' ? n.attrs.momentum : 0.1,
        rows: numElements(x) / x[x.length - 1]!,
        mean: s.outputs[1]!,
        var: s.outputs[4]!,
      };
    });
  const update = updateGraph(full, shards, bn);
  const gradient = gradientGraph(sg, bn);
  const grads = sg.params.map((p) => sg.graph.nodes.find((n) => n.op === 'SgdUpdate' && n.inputs[0] === p)!.inputs[1]!);
  // more targets (distillation): the shard graph's, fed by the full graph's names, so they must agree
  const targets = sg.targets.filter((t) => t !== sg.labels);
  if (targets.join() !== full.targets.filter((t) => t !== full.labels).join())
    throw new ModelError(fwd.source, 'graph', `shard targets [${targets}] differ from the batch's [${full.targets}]`);
  const plan: ShardPlan = {
    batch,
    shards,
    params: full.params,
    gradient: {
      x: sg.x,
      labels: sg.labels,
      loss: sg.loss,
      logits: sg.logits,
      grads,
      ...(targets.length && { targets }),
      ...(sg.terms.length && { terms: sg.terms.map((t) => t.output) }),
    },
    update: { grads: update.gradInputs, lr: full.lr, step: full.step },
  };
  if (bn.length > 0) {
    plan.gradient.stats = bn.flatMap((b) => [b.mean, b.var]);
    plan.update.stats = update.statInputs;
  }
  return { plan, gradient, update: update.graph };
}

/** Compiles both graphs (no passes: they are training graphs) into bundle bytes. */
export function compileShardedTraining(st: ShardedTraining, opts: CompileOptions = {}): ShardedBundles {
  const o = { ...opts, skipPasses: true };
  return { plan: st.plan, gradient: compileGraph(st.gradient, o).bundle, update: compileGraph(st.update, o).bundle };
}

function gradientGraph(sg: TrainingGraph, bn: BatchNormStats[]): Graph {
  const g = sg.graph;
  const nodes = g.nodes.filter((n) => n.op !== 'SgdUpdate');
  const grads = sg.params.map((p) => g.nodes.find((n) => n.op === 'SgdUpdate' && n.inputs[0] === p)!.inputs[1]!);
  const out: Graph = {
    ...g,
    name: g.name.replace(/:train$/, ':shard'),
    nodes,
    inputs: g.inputs.filter((i) => i !== sg.lr),
    outputs: [sg.loss, sg.logits, ...grads, ...sg.terms.map((t) => t.output), ...bn.flatMap((b) => [b.mean, b.var])],
  };
  out.tensors = pruneTensors(out);
  verify(out);
  return out;
}

function updateGraph(
  full: TrainingGraph,
  shards: number,
  bn: BatchNormStats[],
): { graph: Graph; gradInputs: string[]; statInputs: string[] } {
  const g = full.graph;
  const first = g.nodes.findIndex((n) => UPDATE_OPS.has(n.op));
  const tail = g.nodes.slice(first);
  // the batch gradient of each weight: what GlobalNormScale reads (clipping) or the update reads
  const clip = tail.find((n) => n.op === 'GlobalNormScale');
  const gradOf = full.params.map((p, k) =>
    clip ? clip.inputs[k]! : tail.find((n) => UPDATE_OPS.has(n.op) && n.inputs[0] === p)!.inputs[1]!,
  );
  const u: Graph = {
    name: g.name.replace(/:train$/, ':update'),
    tensors: new Map(),
    nodes: [],
    inputs: [],
    outputs: [],
    source: g.source,
    state: g.state,
  };
  const copy = (name: string, t?: Partial<Tensor>) => u.tensors.set(name, { ...g.tensors.get(name)!, ...t, name });
  for (const s of g.state!.keys()) copy(s);
  const fresh = (base: string) => {
    let k = 0,
      n = base;
    while (g.tensors.has(n) || u.tensors.has(n)) n = `${base}#${++k}`;
    return n;
  };
  const add = (name: string, op: Node['op'], inputs: string[], output: string, attrs: Node['attrs'] = {}) => {
    const node: Node = { name: fresh(name), op, inputs, outputs: [output], attrs };
    u.tensors.set(output, { name: output, ...inferNode(u, node)[0]! });
    u.nodes.push(node);
  };
  const inv = fresh('shards:inverse');
  u.tensors.set(inv, { name: inv, dtype: 'float32', shape: [1], data: Float32Array.of(1 / shards) });
  const gradInputs = full.params.map((p, k) => {
    const shape = g.tensors.get(p)!.shape;
    const stacked = fresh(`${p}:shard-grads`);
    u.tensors.set(stacked, { name: stacked, dtype: 'float32', shape: [shards, ...shape] });
    u.inputs.push(stacked);
    const sum = fresh(`${p}:grad-sum`);
    add(`${p}/shards/ReduceSum`, 'ReduceSum', [stacked], sum, { axis: 0 });
    add(`${p}/shards/Mul`, 'Mul', [sum, inv], gradOf[k]!);
    return stacked;
  });
  u.inputs.push(full.lr, ...(full.step ? [full.step] : []));
  for (const i of u.inputs.slice(full.params.length)) copy(i);
  for (const n of tail) {
    for (const i of n.inputs) if (i !== '' && !u.tensors.has(i)) copy(i);
    for (const o of n.outputs) copy(o);
    u.nodes.push(n);
  }
  // the update graph's outputs: the new weights (views of the variables) keep every update node live
  u.outputs = tail.filter((n) => n.op !== 'GlobalNormScale').map((n) => n.outputs[0]!);
  // per training BatchNorm: the shard statistics stacked [S, C] in shard order, merged into the running ones
  const statInputs = bn.flatMap((b) => {
    const c = numElements(g.tensors.get(b.runningMean)!.shape);
    const stack = (what: string) => {
      const name = fresh(`${b.node}:shard-${what}`);
      u.tensors.set(name, { name, dtype: 'float32', shape: [shards, c] });
      u.inputs.push(name);
      return name;
    };
    const means = stack('means'),
      vars = stack('vars');
    const rows = fresh(`${b.node}:shard-rows`);
    u.tensors.set(rows, { name: rows, dtype: 'float32', shape: [1], data: Float32Array.of(b.rows) });
    const node: Node = {
      name: fresh(`${b.node}/shards/BatchNormMerge`),
      op: 'BatchNormMerge',
      inputs: [means, vars, b.runningMean, b.runningVar, rows],
      outputs: [fresh(`${b.runningMean}:merged`), fresh(`${b.runningVar}:merged`)],
      attrs: { momentum: b.momentum },
    };
    inferNode(u, node).forEach((o, i) => u.tensors.set(node.outputs[i]!, { name: node.outputs[i]!, ...o }));
    u.nodes.push(node);
    u.outputs.push(...node.outputs);
    return [means, vars];
  });
  if (u.outputs.length === 0 || numElements(g.tensors.get(full.lr)!.shape) !== 1)
    throw new ModelError(g.source, 'graph', 'has no optimiser step');
  verify(u);
  return { graph: u, gradInputs, statInputs };
}

/** The tensors a graph still names (its nodes, inputs, outputs and state). */
function pruneTensors(g: Graph): Map<string, Tensor> {
  const used = new Set<string>([...g.inputs, ...g.outputs, ...g.state!.keys()]);
  for (const n of g.nodes) [...n.inputs, ...n.outputs].forEach((t) => t && used.add(t));
  return new Map([...g.tensors].filter(([k]) => used.has(k)));
}
