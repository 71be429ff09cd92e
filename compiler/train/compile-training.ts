// A model graph → what the on-device Trainer (runtime/train.ts) runs: the optimised forward graph at
// the training batch, its training bundle (one run = one step), an inference bundle of the same
// forward graph whose trained weights are variables (validation with the current weights, no
// recompiling), and the names that tie them together. `edgec train` and the compiler API use it.
// The training bundle compiles on first use only (`edgec train` steps through the sharded plan).
import { compileGraph, cloneGraph } from '../compile.ts';
import type { Graph } from '../ir/graph.ts';
import { runPasses } from '../passes/index.ts';
import { buildTrainingGraph, withBatch, type TrainingGraph, type TrainingOptions } from './training-graph.ts';
import type { TrainingSpec } from '../../runtime/train.ts';

export interface CompiledTraining {
  /** The forward graph after the compile passes (BatchNorm folded unless kept, activations fused), batch as loaded. */
  forward: Graph;
  training: TrainingGraph;
  /** Training bundle: run({ x, labels, lr, step? }) is one step. */
  trainBundle: Uint8Array;
  /** Inference bundle of `forward` at the training batch, ending at the logits, trained weights and BatchNorm
   *  running statistics as variables. */
  evalBundle: Uint8Array;
  spec: TrainingSpec;
}

/**
 * Optimises `graph` like `edgec compile` and builds + compiles its training plan for batch `batch`.
 * `keepBatchNorm`: skip the fold pass, so BatchNorm trains as `opts.batchNorm` says (train or frozen).
 */
export function compileTraining(
  graph: Graph,
  batch: number,
  opts: TrainingOptions = {},
  passes: { keepBatchNorm?: boolean } = {},
): CompiledTraining {
  const forward = runPasses(cloneGraph(graph), passes.keepBatchNorm ? { skip: ['fold-batchnorm'] } : {});
  const training = buildTrainingGraph(withBatch(forward, batch), opts);
  let trainBundle: Uint8Array | undefined;

  const ev = withBatch(forward, batch);
  const last = ev.nodes.find((n) => n.outputs.includes(ev.outputs[0]!));
  if (last && last.outputs[0] !== training.logits && last.inputs[0] === training.logits)
    ev.nodes = ev.nodes.filter((n) => n !== last);
  ev.outputs = [training.logits];
  ev.state = new Map();
  for (const p of [...training.params, ...training.runningStats]) {
    const t = ev.tensors.get(p)!;
    ev.state.set(p, training.graph.state!.get(p)!);
    ev.tensors.set(p, { name: p, dtype: t.dtype, shape: [...t.shape] });
  }
  const evalBundle = compileGraph(ev, { skipPasses: true, modelName: `${graph.name}:eval` }).bundle;
  const spec: TrainingSpec = {
    x: training.x,
    target: training.labels,
    targets: training.targets.filter((t) => t !== training.labels),
    lr: training.lr,
    step: training.step,
    loss: training.loss,
    logits: training.logits,
    terms: training.terms.map((t) => t.output),
    params: [...training.params],
    moments: Object.fromEntries(training.moments),
  };
  return {
    forward,
    training,
    get trainBundle() {
      return (trainBundle ??= compileGraph(training.graph, {
        skipPasses: true,
        modelName: `${graph.name}:train`,
      }).bundle);
    },
    evalBundle,
    spec,
  };
}
