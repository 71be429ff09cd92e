// Where a training step first went non-finite: the step is rerun in a debug build of the training
// bundle whose outputs are every node's outputs (same kernels, same float32 bits), from the state
// before the step, and the nodes are scanned in the training graph's order — forward, loss, backward
// (reverse layer order), clipping — until one produced a NaN or ±Inf. Runs once, after a failure.
import { load } from '../../runtime/node.ts';
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
  const out = m.run(feed);
  const lossAt = tg.graph.nodes.findIndex((n) => LOSSES.has(n.op));
  const forward = new Set(tg.graph.nodes.slice(0, lossAt).map((n) => n.name));
  const lossNode = tg.graph.nodes[lossAt]!.name;
  for (const n of nodes) {
    if (n.outputs.every((o) => out[o] === undefined || finite(out[o]!))) continue;
    if (forward.has(n.name)) return { node: n.name, op: n.op, phase: 'forward' };
    const grad = /^(.*)\/grad\//.exec(n.name);
    if (grad) return { node: n.name, op: n.op, phase: 'backward', layer: grad[1] };
    return { node: n.name, op: n.op, phase: n.name === lossNode ? 'loss' : 'update' };
  }
  return undefined;
}

/** The site in words for an error line. */
export function describeSite(s: NonFiniteSite): string {
  switch (s.phase) {
    case 'input':
      return `the input batch '${s.node}' holds NaN or Inf (check the data file)`;
    case 'forward':
      return `first non-finite value: the output of node '${s.node}' (${s.op}) in the forward pass`;
    case 'loss':
      return `first non-finite value: the loss node '${s.node}' (${s.op})`;
    case 'backward':
      return `first non-finite value: the gradient of layer '${s.layer}' (node '${s.node}', ${s.op}) in the backward pass`;
    case 'update':
      return `first non-finite value: '${s.node}' (${s.op}) in the update`;
  }
}
