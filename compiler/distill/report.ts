// The end of a distillation run: teacher vs student (and int8 student) on the validation set, parameters,
// MACs, bundle bytes and measured latency (simd build, compiler/compress/measure.ts: median of timed runs),
// the per-epoch lines (train loss split by term, validation accuracy) and, for continual runs, every extra
// labelled set scored for the teacher and the student before and after. JSON-safe (`--report file.json`).
import { scoreLogits } from '../../runtime/train.ts';
import { load } from '../../runtime/node.ts';
import { cloneGraph, compileGraph } from '../compile.ts';
import { inferShapes } from '../passes/infer-shapes.ts';
import type { Graph } from '../ir/graph.ts';
import { graphMacs, graphParams } from '../compress/prune.ts';
import { latencyMs } from '../compress/measure.ts';
import { quantize } from '../quantize/index.ts';
import type { Range } from '../quantize/observers.ts';
import type { Dataset } from '../train/data/dataset.ts';
import { teacherOutputs } from './batches.ts';
import type { DistillJob } from './index.ts';
import type { Teacher } from './teacher.ts';

export interface EpochLine {
  epoch: number;
  /** Mean train loss and its weighted terms (they sum to it), by term name (kd, ce, hint:<t>, rkd-…). */
  loss: number;
  terms: Record<string, number>;
  /** Running train accuracy against the labels (labelled data only). */
  accuracy?: number;
  /** Validation top-1 of the student after the epoch. */
  validation?: number;
  seconds: number;
  samplesPerSecond: number;
  /** QAD: ranges tracked or frozen in this epoch. */
  phase?: 'tracking' | 'frozen';
}

export interface ModelFigures {
  /** Top-1 on the validation set (when given). */
  accuracy?: number;
  params?: number;
  macs?: number;
  bundleBytes: number;
  /** Median ms of one sample on the simd build (absent when not measured). */
  latencyMs?: number;
}

export interface DistillReport {
  terms: string[];
  epochs: EpochLine[];
  /** 'sharded': the data-parallel plan (bytes independent of threads); 'whole': one instance, whole batches. */
  runner: 'sharded' | 'whole';
  steps: number;
  teacherCached: boolean;
  /** Why the teacher was never run (α 0, labels only): its row has sizes, no accuracy or latency. */
  teacherSkipped?: string;
  teacher: ModelFigures;
  student: ModelFigures;
  /** --quantize int8: the int8 student with the learned ranges. */
  int8?: ModelFigures & { ranges: number };
  /**
   * Extra labelled sets (continual distillation: old task, new task): top-1 of teacher, student before, after; for a
   * set of old classes only (continual with `oldClasses`) also the student's top-1 among those classes alone (argmax
   * over [from, to)): what the old task still knows, apart from the new classes' logits outranking it.
   */
  sets: {
    name: string;
    samples: number;
    teacher?: number;
    before?: number;
    after?: number;
    amongOld?: { before: number; after: number };
    /** Weight aligning: top-1 after training, before the head was aligned (`after` is aligned). */
    unaligned?: number;
  }[];
  /** Continual weight aligning: the factor γ on the new classes' rows of the final Dense. */
  align?: { gamma: number };
}

export interface FinalInput {
  job: DistillJob;
  teacher: Teacher;
  model: Graph;
  ranges?: Map<string, Range>;
  epochs: EpochLine[];
  before: (number | undefined)[];
  score(d: Dataset): number | undefined;
  /** Continual, per set of job.evalSets whose labels are all old classes: top-1 among them, before and after. */
  amongOld?: ({ before: number; after: number } | undefined)[];
  /** Weight aligning: γ and every set's top-1 before it. */
  align?: { gamma: number; unaligned: (number | undefined)[] };
  terms: string[];
  runner: 'sharded' | 'whole';
  teacherCached: boolean;
  steps: number;
  build: 'simd' | 'scalar';
}

function teacherAccuracy(t: Teacher, d: Dataset): number | undefined {
  const logits = teacherOutputs(t, (rows) => d.readSamples(rows), d.size).get('logits')!;
  return scoreLogits(logits, d.labels, d.size).accuracy;
}

async function figures(g0: Graph, bundle: Uint8Array, measure: boolean, accuracy?: number): Promise<ModelFigures> {
  const g = cloneGraph(g0);
  inferShapes.run(g);
  const x = g.inputs[0]!;
  const sample = new Float32Array(g.tensors.get(x)!.shape.reduce((a, b) => a * b, 1)).fill(0.5);
  return {
    ...(accuracy !== undefined && { accuracy }),
    params: graphParams(g),
    macs: graphMacs(g),
    bundleBytes: bundle.length,
    ...(measure && { latencyMs: await latencyMs(bundle, x, sample) }),
  };
}

/**
 * Top-1 of logits [n, classes] against `labels` with the argmax taken over the classes [from, to) only (first
 * maximum on ties, as scoreLogits); a label outside the range counts as wrong.
 */
export function topAmong(logits: Float32Array, labels: Int32Array, n: number, [from, to]: [number, number]): number {
  const classes = logits.length / n;
  let right = 0;
  for (let i = 0; i < n; i++) {
    let best = from;
    for (let k = from + 1; k < to; k++) if (logits[i * classes + k]! > logits[i * classes + best]!) best = k;
    if (best === labels[i]) right++;
  }
  return right / n;
}

/** Scores an int8 graph (a bundle of it on the simd build) on a labelled set. */
export async function int8Accuracy(bundle: Uint8Array, d: Dataset): Promise<number | undefined> {
  const m = await load(bundle, { build: 'simd' });
  const xi = m.info.inputs[0]!,
    out = m.info.outputs[0]!.name;
  const rows = Uint32Array.from({ length: d.size }, (_, i) => i);
  const y = m.run({ [xi.name]: d.readSamples(rows) })[out] as Float32Array;
  return scoreLogits(Float32Array.from(y), d.labels, d.size).accuracy;
}

export async function finalReport(f: FinalInput): Promise<{ report: DistillReport; int8Graph?: Graph }> {
  const measure = f.job.measure ?? true;
  const val = f.job.validation;
  const tg = f.teacher.graph;
  const teacherBundle = tg ? compileGraph(tg, { target: 'simd' }).bundle : f.teacher.bundle;
  const ran = !f.teacher.skipped;
  const teacher: ModelFigures = tg
    ? await figures(tg, teacherBundle, measure && ran, val && ran ? teacherAccuracy(f.teacher, val) : undefined)
    : {
        ...(val && ran && { accuracy: teacherAccuracy(f.teacher, val) }),
        bundleBytes: teacherBundle.length,
      };
  const student = await figures(
    f.model,
    compileGraph(f.model, { target: 'simd' }).bundle,
    measure,
    val && f.score(val),
  );
  let int8: DistillReport['int8'];
  let int8Graph: Graph | undefined;
  if (f.ranges) {
    int8Graph = (await quantize(f.model, { ranges: f.ranges })).graph;
    const b = compileGraph(int8Graph, { skipPasses: true, target: 'simd' }).bundle;
    const fig = await figures(f.model, b, measure, val && (await int8Accuracy(b, val)));
    int8 = { ...fig, ranges: f.ranges.size };
  }
  const sets = (f.job.evalSets ?? []).map((s, i) => ({
    name: s.name,
    samples: s.data.size,
    teacher: ran ? teacherAccuracy(f.teacher, s.data) : undefined,
    before: f.before[i],
    after: f.score(s.data),
    ...(f.amongOld?.[i] && { amongOld: f.amongOld[i] }),
    ...(f.align?.unaligned[i] !== undefined && { unaligned: f.align.unaligned[i] }),
  }));
  return {
    report: {
      terms: f.terms,
      epochs: f.epochs,
      runner: f.runner,
      steps: f.steps,
      teacherCached: f.teacherCached,
      ...(f.teacher.skipped && { teacherSkipped: f.teacher.skipped }),
      teacher,
      student,
      ...(int8 && { int8 }),
      sets,
      ...(f.align && { align: { gamma: f.align.gamma } }),
    },
    int8Graph,
  };
}
