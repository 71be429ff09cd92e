// The student side of a distillation run: the optimised forward graph at the training batch, fake
// quantisation (QAD) on it, FitNets regressors and hint terms, relational terms, the KD training graph
// with every loss term as an output, and where its steps run. Plans without state besides weights and
// moments and without batch-coupled terms run on the data-parallel shard plan (the bytes do not depend on
// --threads); fake-quant ranges are state of the whole batch and relational terms couple the samples of a
// batch, so those plans run whole batches on one wasm instance (threads unused, said in the report).
import { load } from '../../runtime/node.ts';
import { wasmStepRunner, type StepRunner, type TrainingSpec } from '../../runtime/train.ts';
import { parallelStepRunner, trainParallel, type ParallelTrainer } from '../../runtime/train-parallel.ts';
import { cloneGraph, compileGraph } from '../compile.ts';
import { ModelError, type Graph } from '../ir/graph.ts';
import type { Range } from '../quantize/observers.ts';
import { classRangeKd, prepareHints, relationalLosses, type RelationalKind } from '../train/distill-loss.ts';
import { logitsOf } from './teacher.ts';
import { insertFakeQuant, type FakeQuantGraph } from '../train/fake-quant.ts';
import { buildShardedTraining, compileShardedTraining } from '../train/shard.ts';
import {
  buildTrainingGraph,
  withBatch,
  type ExtraLoss,
  type OptimizerOptions,
  type TrainingGraph,
  type TrainingOptions,
} from '../train/training-graph.ts';

export interface StudentHint {
  /** Student tensor, teacher output name (its input is `teacher:<teacher>`), teacher feature shape without batch. */
  student: string;
  teacher: string;
  teacherShape: number[];
  weight: number;
}

export interface StudentOptions {
  batch: number;
  temperature: number;
  alpha: number;
  labelSmoothing?: number;
  optimizer: OptimizerOptions;
  clipNorm?: number;
  frozen?: string[];
  hints: StudentHint[];
  relational?: {
    student: string;
    teacher: string;
    teacherShape: number[];
    kinds: { kind: RelationalKind; weight: number }[];
  };
  /** Continual: KD over the teacher's classes [from, to) only (classRangeKd), CE on the labels weighted 1 − α. */
  oldClasses?: [number, number];
  /** QAD: EMA momentum of the tracked ranges, or the frozen ranges (momentum 0). */
  fakeQuant?: { momentum: number; ranges?: Map<string, Range> };
  seed: number;
  build: 'simd' | 'scalar';
  threads: number;
}

export interface StudentPlan {
  /** The student's optimised forward graph (input batch as loaded): what is written out. */
  forward: Graph;
  training: TrainingGraph;
  fq?: FakeQuantGraph;
  spec: TrainingSpec;
  runner: StepRunner;
  /** 'sharded' (data-parallel plan) or 'whole' (one instance, whole batches). */
  kind: 'sharded' | 'whole';
  /** Regressor nodes added for hints (trained, not written out). */
  regressors: string[];
  trainArenaBytes: number;
  close(): Promise<void>;
}

/** Builds and loads the training plan of `forward` (optimised, batch as loaded). */
export async function studentPlan(forward: Graph, o: StudentOptions): Promise<StudentPlan> {
  let g = withBatch(forward, o.batch);
  let fq: FakeQuantGraph | undefined;
  if (o.fakeQuant) {
    fq = insertFakeQuant(g, o.fakeQuant.momentum, o.fakeQuant.ranges);
    g = fq.graph;
  }
  const hinted = prepareHints(
    g,
    o.hints.map((h) => ({
      student: h.student,
      teacher: h.teacher,
      teacherShape: [o.batch, ...h.teacherShape],
      weight: h.weight,
    })),
    o.seed + 1,
  );
  g = hinted.graph;
  const extra: ExtraLoss[] = [...hinted.losses];
  if (o.relational) {
    const r = o.relational;
    const shape = g.tensors.get(r.student)?.shape;
    if (!shape || shape.length !== 2)
      throw new ModelError(
        forward.source,
        `tensor '${r.student}'`,
        `a relational embedding must be [batch, D], found ${shape ? `[${shape}]` : 'nothing'}`,
      );
    if (o.batch < 2)
      throw new ModelError(forward.source, 'batch', 'relational terms need at least 2 samples per batch');
    extra.push(...relationalLosses(r.student, r.teacher, [o.batch, ...r.teacherShape], r.kinds));
  }
  if (o.oldClasses && o.alpha > 0) extra.unshift(classRangeKd(logitsOf(g), ...o.oldClasses, o.temperature, o.alpha));
  const opts: TrainingOptions = {
    // α 0: the labels alone (the baseline a KD run is compared with), through the same plan
    loss:
      o.alpha === 0 || o.oldClasses
        ? {
            kind: 'softmax-cross-entropy',
            labelSmoothing: o.labelSmoothing ?? 0,
            weight: o.oldClasses ? 1 - o.alpha : 1,
          }
        : { kind: 'kd', temperature: o.temperature, alpha: o.alpha, labelSmoothing: o.labelSmoothing ?? 0 },
    optimizer: o.optimizer,
    clipNorm: o.clipNorm,
    frozen: o.frozen,
    extraLosses: extra,
    termOutputs: true,
  };
  const training = buildTrainingGraph(g, opts);
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
  const trainBundle = compileGraph(training.graph, { skipPasses: true, modelName: `${forward.name}:distill` }).bundle;
  const model = await load(trainBundle, { build: o.build });
  const onlyWeights = [...training.graph.state!.keys()].every(
    (k) => training.params.includes(k) || Object.values(spec.moments).some((m) => m.includes(k)),
  );
  let parallel: ParallelTrainer | undefined;
  let runner: StepRunner;
  if (onlyWeights && !o.relational && !fq) {
    parallel = await trainParallel(compileShardedTraining(buildShardedTraining(g, o.batch, opts)), {
      threads: o.threads,
      build: o.build,
    });
    runner = parallelStepRunner(parallel, spec);
  } else runner = wasmStepRunner(model, spec);
  return {
    forward,
    training,
    fq,
    spec,
    runner,
    kind: parallel ? 'sharded' : 'whole',
    regressors: hinted.regressors,
    trainArenaBytes: model.info.arenaBytes,
    close: async () => {
      await parallel?.close();
    },
  };
}

/**
 * The inference bundle of the student at batch `batch`, logits out, its trained weights as variables
 * (validation with the current weights without recompiling), as compile-training.ts makes it.
 */
export function evalBundle(forward: Graph, training: TrainingGraph, batch: number): Uint8Array {
  const ev = withBatch(forward, batch);
  const last = ev.nodes.find((n) => n.outputs.includes(ev.outputs[0]!));
  if (last?.op === 'Softmax') {
    ev.outputs = [last.inputs[0]!];
    ev.nodes = ev.nodes.filter((n) => n !== last);
  }
  ev.state = new Map();
  for (const p of training.params) {
    const t = ev.tensors.get(p);
    if (!t?.data) continue;
    ev.state.set(p, training.graph.state!.get(p)!);
    ev.tensors.set(p, { name: p, dtype: t.dtype, shape: [...t.shape] });
  }
  return compileGraph(ev, { skipPasses: true, modelName: `${forward.name}:eval` }).bundle;
}

/** The forward graph with the trained weights `w` written in (regressors and other state left out). */
export function trainedGraph(forward: Graph, w: ReadonlyMap<string, Float32Array>): Graph {
  const g = cloneGraph(forward);
  for (const [k, v] of w) {
    const t = g.tensors.get(k);
    if (t?.data) g.tensors.set(k, { ...t, data: Float32Array.from(v) });
  }
  return g;
}
