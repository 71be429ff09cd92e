// distill(job): knowledge distillation as one library call (docs/distillation.md), used by `edgec distill`
// and `edgec compress --distill`. A teacher (model graph or .edgec bundle, run on edgec's inference
// runtime) gives soft targets — and hint / embedding features — for every batch; with unaugmented data they
// are computed once for the whole data set and cached. The student trains in the wasm on
// α·T²·KL + (1 − α)·CE (+ hints, + relational terms), each term an output so the report splits the loss.
// --quantize int8: fake-quant training, ranges started at the starting weights' min/max calibration (step 0 is
// post-training quantisation), tracked, then frozen for the last `freezeEpochs` epochs, and an int8 graph
// quantised with the learned ranges. The run is a pure function of the job (seeded batches, fixed
// summation orders): the same job gives the same bytes.
import {
  Trainer,
  wasmEvaluator,
  type BatchSource,
  type Evaluator,
  type StepReport,
  type TrainerState,
} from '../../runtime/train.ts';
import { load } from '../../runtime/node.ts';
import { cloneGraph } from '../compile.ts';
import { ModelError, type Graph } from '../ir/graph.ts';
import { runPasses } from '../passes/index.ts';
import { augments, NO_AUGMENT, type AugmentOptions } from '../train/data/augment.ts';
import type { Dataset } from '../train/data/dataset.ts';
import { BatchLoader, inputLayout } from '../train/data/loader.ts';
import { learnedRanges } from '../train/fake-quant.ts';
import { calibrate } from '../quantize/calibrate.ts';
import type { Range } from '../quantize/observers.ts';
import type { RelationalKind } from '../train/distill-loss.ts';
import type { OptimizerOptions } from '../train/training-graph.ts';
import { evalBundle, studentPlan, trainedGraph, type StudentOptions, type StudentPlan } from './plan.ts';
import { finalReport, topAmong, type DistillReport, type EpochLine } from './report.ts';
import {
  bundleTeacher,
  embeddingOf,
  graphTeacher,
  logitsOf,
  tensorOf,
  unusedTeacher,
  type Teacher,
} from './teacher.ts';
import { TeacherBatches } from './batches.ts';
import { herdingTeacher, replayBuffer, withReplay, type Replay } from './replay.ts';
import { alignHead, headOf } from './continual.ts';

export type { DistillReport, EpochLine } from './report.ts';
export type { Replay } from './replay.ts';
export type { ReplaySelect } from './continual.ts';

export interface DistillJob {
  /** A model graph (run float) or a compiled bundle (float or int8; logits only, no hints / relational). */
  teacher: Graph | { bundle: Uint8Array; source: string };
  /** The student model (float; its weights are where training starts). */
  student: Graph;
  /** Training samples in the student's input layout; `labelled` says whether data.labels are real. */
  data: Dataset;
  labelled: boolean;
  /** Labelled samples scored after every epoch (and teacher vs student at the end). */
  validation?: Dataset;
  /** More labelled sets scored at the end for the teacher and for the student before and after (continual). */
  evalSets?: { name: string; data: Dataset }[];
  /** Softmax temperature T > 0 (default 4) and α in [0, 1] (default 0.7 with labels, 1 without; 0 = labels only). */
  temperature?: number;
  alpha?: number;
  /** FitNets hints: teacher node (or tensor) → student node (or tensor), weight `hintWeight` (default 1). */
  hints?: { teacher: string; student: string }[];
  hintWeight?: number;
  /** Relational KD over the embeddings feeding the final Dense of each model (or the tensors named). */
  relational?: { kinds: RelationalKind[]; weight?: number; student?: string; teacher?: string };
  /**
   * Continual: distil only the teacher's classes [from, to) (its old task; the previous student's distribution
   * renormalised over them), with CE on the labels weighted 1 − α — instead of α·KD over every class.
   */
  oldClasses?: [number, number];
  /** Continual: stored samples of the old task mixed into `data` (compiler/distill/replay.ts). */
  replay?: Replay;
  /**
   * Continual: weight aligning after training (compiler/distill/continual.ts): the final Dense's rows of the
   * classes outside `oldClasses` scaled to the old rows' mean norm. Needs `oldClasses`.
   */
  align?: boolean;
  /**
   * Quantisation-aware distillation to int8: ranges start at a min/max calibration of the starting weights over
   * the first `calibration` training samples (default 1,000), are tracked (EMA `momentum`, default 0.01) and
   * frozen for the last `freezeEpochs` (default 1).
   */
  quantize?: { freezeEpochs?: number; momentum?: number; calibration?: number };
  epochs: number;
  batch: number;
  optimizer: OptimizerOptions;
  /** Rate of optimiser step t of a run of `totalSteps` steps. */
  lr: number | ((t: number, totalSteps: number) => number);
  clipNorm?: number;
  labelSmoothing?: number;
  frozen?: string[];
  augment?: AugmentOptions;
  seed?: number;
  threads?: number;
  build?: 'simd' | 'scalar';
  /** Cache the teacher's outputs for the whole data set (default: when the data is not augmented). */
  cacheTeacher?: boolean;
  /** Continue a run from this state (every variable of `DistillResult.state`, and its position). */
  resume?: TrainerState;
  signal?: AbortSignal;
  /** Skip the end-of-run latency / bundle measurements (tests). Default true. */
  measure?: boolean;
  /** Before the first step: what will run (for a CLI's header lines). */
  onStart?(info: DistillStart): void;
  onStep?(r: StepReport): void | Promise<void>;
  onEpoch?(e: EpochLine, state: () => TrainerState): void | Promise<void>;
}

export interface DistillStart {
  terms: string[];
  runner: 'sharded' | 'whole';
  arenaBytes: number;
  /** Training rows per epoch (the data, plus the replay buffer's rows). */
  samples: number;
  stepsPerEpoch: number;
  totalSteps: number;
  teacherCached: boolean;
  teacherSeconds: number;
  /** Why the teacher is not run at all (α 0, labels only). */
  teacherSkipped?: string;
}

export interface DistillResult {
  /** 'aborted': job.signal stopped the run; `state` is where it stopped, `model` the weights so far. */
  status: 'done' | 'aborted';
  /** The trained student (float, optimised graph). */
  model: Graph;
  /** --quantize int8: the int8 graph quantised with the learned ranges (compile with skipPasses). */
  int8?: Graph;
  report: DistillReport;
  /** Every variable of the run (weights, moments, regressors, ranges) and its position, for checkpoints. */
  state: TrainerState;
}

/** The student tensor a node name (or tensor name) means after the compile passes; refused by name otherwise. */
function studentTensor(orig: Graph, forward: Graph, name: string, what: string): string {
  const t = tensorOf(forward, name) ?? tensorOf(orig, name);
  if (t && forward.tensors.has(t)) return t;
  throw new ModelError(
    orig.source,
    `node '${name}'`,
    t
      ? `(${what}) is fused away by the compile passes; name the node whose output survives (e.g. the activation after it)`
      : `(${what}) is not in the student`,
  );
}

export async function distill(job: DistillJob): Promise<DistillResult> {
  const src = job.student.source;
  const T = job.temperature ?? 4;
  const alpha = job.alpha ?? (job.labelled ? 0.7 : 1);
  if (!(T > 0 && Number.isFinite(T))) throw new ModelError(src, 'temperature', `must be > 0, found ${T}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new ModelError(src, 'alpha', `must be in [0, 1], found ${alpha}`);
  if (alpha < 1 && !job.labelled)
    throw new ModelError(src, 'alpha', `${alpha} < 1 mixes in the labels' cross-entropy: give labels (or alpha 1)`);
  const freeze = job.quantize ? (job.quantize.freezeEpochs ?? 1) : 0;
  if (job.quantize && !(Number.isInteger(freeze) && freeze >= 0 && freeze < job.epochs))
    throw new ModelError(
      src,
      'freezeEpochs',
      `must be a whole number in [0, ${job.epochs - 1}] (ranges are tracked first), found ${freeze}`,
    );
  const build = job.build ?? 'simd';
  const forward = runPasses(cloneGraph(job.student));
  const sampleShape = forward.tensors.get(forward.inputs[0]!)!.shape.slice(1);

  // the teacher, with the features the hints and relational terms read
  const hintPairs = (job.hints ?? []).map((h) => ({
    ...h,
    studentTensor: studentTensor(job.student, forward, h.student, `hint '${h.teacher}:${h.student}'`),
  }));
  const rel = job.relational;
  let teacherEmb: string | undefined;
  if (rel && !('nodes' in job.teacher))
    throw new ModelError(
      (job.teacher as { source: string }).source,
      'teacher',
      'relational KD needs the teacher model (its embedding), not a compiled bundle',
    );
  if (rel) teacherEmb = rel.teacher ?? embeddingOf(job.teacher as Graph, logitsOf(job.teacher as Graph));
  const features = [...hintPairs.map((h) => h.teacher), ...(teacherEmb ? [teacherEmb] : [])];
  const studentLogits = logitsOf(forward);
  const classes = forward.tensors.get(studentLogits)!.shape.at(-1)!;
  // α 0 and nothing else reading the teacher (hints, relational, an unlabelled replay buffer, border selection):
  // labels only (herding runs a teacher of its own: herdingTeacher)
  const poolLogits = job.replay && (!job.replay.labelled || job.replay.select?.by === 'border');
  const skip = alpha === 0 && features.length === 0 && !poolLogits;
  let teacher: Teacher;
  if (skip) teacher = unusedTeacher(job.teacher, classes, 'alpha 0: labels only');
  else if ('nodes' in job.teacher) teacher = await graphTeacher(job.teacher, features, sampleShape, build);
  else {
    if (features.length)
      throw new ModelError(
        job.teacher.source,
        `node '${features[0]}'`,
        'hints need the teacher model (a .onnx / .json), not a compiled bundle',
      );
    teacher = await bundleTeacher(job.teacher.bundle, job.teacher.source, sampleShape, build);
  }
  if (classes !== teacher.classes)
    throw new ModelError(
      src,
      `output '${studentLogits}'`,
      `the student has ${classes} classes, the teacher (${teacher.source}) ${teacher.classes}`,
    );
  const oc = job.oldClasses;
  if (oc && !(Number.isInteger(oc[0]) && Number.isInteger(oc[1]) && oc[0] >= 0 && oc[0] < oc[1] && oc[1] <= classes))
    throw new ModelError(src, 'oldClasses', `must be a class range [from, to) inside [0, ${classes}), found [${oc}]`);
  if (oc && alpha < 1 && !job.labelled) throw new ModelError(src, 'oldClasses', 'needs the new labels');
  if (job.replay && !job.labelled)
    throw new ModelError(src, 'replay', 'needs the new labels (the buffer is learned through the hard-label term)');
  if (job.align && !oc) throw new ModelError(src, 'align', 'weight aligning needs the old classes (oldClasses)');
  const head = job.align ? headOf(forward, studentLogits) : undefined;
  // herding: the previous model run once over the pool gives both the logits and the penultimate features
  const herd = job.replay?.select?.by === 'herding' ? await herdingTeacher(teacher, sampleShape, build) : undefined;
  const buffer = job.replay && replayBuffer(herd?.teacher ?? teacher, job.replay, oc, src, herd?.feature);
  const data = buffer ? withReplay(job.data, { ...job.replay!, data: buffer.data }, buffer.labels, src) : job.data;
  const out = (name: string) => teacher.outputs.find((o) => o.name === name)!;
  const opts: StudentOptions = {
    batch: job.batch,
    temperature: T,
    alpha,
    labelSmoothing: job.labelSmoothing,
    optimizer: job.optimizer,
    clipNorm: job.clipNorm,
    frozen: job.frozen,
    hints: hintPairs.map((h) => ({
      student: h.studentTensor,
      teacher: h.teacher,
      teacherShape: out(h.teacher).shape,
      weight: job.hintWeight ?? 1,
    })),
    relational: rel && {
      student: rel.student
        ? studentTensor(job.student, forward, rel.student, 'relational embedding')
        : embeddingOf(forward, studentLogits),
      teacher: teacherEmb!,
      teacherShape: out(teacherEmb!).shape,
      kinds: rel.kinds.map((kind) => ({ kind, weight: rel.weight ?? (kind === 'distance' ? 25 : 50) })),
    },
    oldClasses: job.oldClasses,
    fakeQuant: job.quantize && {
      momentum: job.quantize.momentum ?? 0.01,
      // a resumed run restores its tracked ranges
      ranges: job.resume ? undefined : await startRanges(forward, data, job.quantize.calibration ?? 1000),
    },
    seed: job.seed ?? 0,
    build,
    threads: job.threads ?? 1,
  };

  const loader = new BatchLoader(data, {
    batch: job.batch,
    seed: job.seed ?? 0,
    augment: job.augment ?? NO_AUGMENT,
    layout: inputLayout(job.student, job.student.inputs[0]!),
  });
  const totalSteps = job.epochs * loader.batchesPerEpoch;
  const rate =
    typeof job.lr === 'number' ? job.lr : (t: number) => (job.lr as (t: number, n: number) => number)(t, totalSteps);
  let plan: StudentPlan = await studentPlan(forward, opts);
  try {
    const batches = new TeacherBatches(
      loader,
      teacher,
      plan.training,
      job.labelled,
      augments(job.augment ?? NO_AUGMENT),
      job.cacheTeacher,
      job.oldClasses,
    );
    const evaluator = wasmEvaluator(await load(evalBundle(forward, plan.training, job.batch), { build }));
    const valSource = (d: Dataset): BatchSource =>
      new BatchLoader(d, { batch: job.batch, seed: 0, shuffle: false, dropLast: false });
    let trainer = new Trainer(plan.runner, { evaluator });
    const evalSets = job.evalSets ?? [];
    const before = evalSets.map((s) => trainer.evaluate(valSource(s.data)).accuracy);
    // continual: on sets of old classes only, the old task's own decision (argmax over the old classes)
    const amongOld = (d: Dataset) =>
      oc && d.labels.every((y) => y >= oc[0] && y < oc[1])
        ? topAmong(setLogits(trainer, evaluator, valSource(d)), d.labels, d.size, oc)
        : undefined;
    const oldBefore = evalSets.map((s) => amongOld(s.data));
    const phase1 = job.epochs - freeze;
    if (job.resume) {
      if (job.quantize && job.resume.epoch >= phase1)
        plan = await frozenPlan(plan, forward, opts, job.resume.variables);
      trainer = new Trainer(plan.runner, { evaluator });
      trainer.restore(job.resume);
    }
    // one term: the bundle has no term outputs, the loss is the term
    const termNames = plan.training.terms.length ? plan.training.terms.map((t) => t.name) : [alpha === 0 ? 'ce' : 'kd'];
    job.onStart?.({
      terms: termNames,
      runner: plan.kind,
      arenaBytes: plan.trainArenaBytes,
      samples: data.size,
      stepsPerEpoch: loader.batchesPerEpoch,
      totalSteps,
      teacherCached: batches.cached,
      teacherSeconds: batches.seconds,
      ...(teacher.skipped && { teacherSkipped: teacher.skipped }),
    });
    const epochs: EpochLine[] = [];
    const fitTo = async (to: number, phase?: 'tracking' | 'frozen') =>
      trainer.fit(batches, {
        epochs: to,
        lr: rate,
        validation: job.validation && valSource(job.validation),
        signal: job.signal,
        onStep: job.onStep,
        async onEpoch(e) {
          const line: EpochLine = {
            epoch: e.epoch,
            loss: e.loss,
            terms: Object.fromEntries(termNames.map((t, k) => [t, e.terms?.[k] ?? e.loss])),
            accuracy: e.accuracy,
            validation: e.validation?.accuracy,
            seconds: e.seconds,
            samplesPerSecond: e.samplesPerSecond,
            ...(phase && { phase }),
          };
          epochs.push(line);
          await job.onEpoch?.(line, () => trainer.state());
        },
      });
    let res = await fitTo(job.quantize ? phase1 : job.epochs, job.quantize && 'tracking');
    if (job.quantize && res.status === 'done' && trainer.position.epoch < job.epochs) {
      const state = trainer.state();
      plan = await frozenPlan(plan, forward, opts, state.variables);
      trainer = new Trainer(plan.runner, { evaluator });
      trainer.restore(state);
      res = await fitTo(job.epochs, 'frozen');
    }
    // weight aligning: the sets scored first as trained, then the head's new rows rescaled in the variables
    let align: { gamma: number; unaligned: (number | undefined)[] } | undefined;
    if (head && res.status === 'done') {
      const unaligned = evalSets.map((s) => trainer.evaluate(valSource(s.data)).accuracy);
      const s = trainer.state();
      const w = Float32Array.from(s.variables.get(head.weight)!);
      const b = head.bias === undefined ? undefined : Float32Array.from(s.variables.get(head.bias)!);
      const gamma = alignHead(w, b, classes, oc!);
      trainer.restore({
        ...s,
        variables: new Map([...s.variables, [head.weight, w], ...(b ? [[head.bias!, b] as const] : [])]),
      });
      align = { gamma, unaligned };
    }
    const state = trainer.state();
    const model = trainedGraph(forward, trainer.weights());
    const ranges = plan.fq && learnedRanges(plan.fq, (r) => state.variables.get(r)!);
    const report = await finalReport({
      job,
      teacher,
      model,
      ranges,
      epochs,
      before,
      score: (d) => trainer.evaluate(valSource(d)).accuracy,
      amongOld: evalSets.map((s, i) =>
        oldBefore[i] === undefined ? undefined : { before: oldBefore[i], after: amongOld(s.data)! },
      ),
      align,
      terms: termNames,
      runner: plan.kind,
      teacherCached: batches.cached,
      steps: state.step,
      build,
    });
    return { status: res.status, model, int8: report.int8Graph, report: report.report, state };
  } finally {
    await plan.close();
  }
}

/** The logits [n, classes] of every sample of `source` (one epoch, in order) with the trainer's current variables. */
function setLogits(trainer: Trainer, ev: Evaluator, source: BatchSource): Float32Array {
  const w = trainer.state().variables;
  const parts: Float32Array[] = [];
  for (let k = 0; k < source.batchesPerEpoch; k++) {
    const x = source.batch(0, k).x;
    parts.push(ev.logits(x, x.length / ev.sampleElements, w));
  }
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/**
 * The fake-quant ranges at step 0: min/max calibration of the starting student over its first `count` training
 * samples — post-training quantisation of the starting weights, which the EMA then follows. Starting from one
 * batch's ranges instead left a trained student's ranges far too narrow for hundreds of steps (an EMA catching
 * up while everything downstream trained on clipped values) and made QAD worse than PTQ.
 */
async function startRanges(forward: Graph, data: Dataset, count: number): Promise<Map<string, Range>> {
  if (!(Number.isInteger(count) && count >= 1))
    throw new ModelError(forward.source, 'calibration', `must be a whole number ≥ 1, found ${count}`);
  const n = Math.min(count, data.size);
  const x = data.readSamples(Uint32Array.from({ length: n }, (_, i) => i));
  const per = data.sampleElements;
  const samples = Array.from({ length: n }, (_, i) => x.slice(i * per, (i + 1) * per));
  return (await calibrate(forward, { input: forward.inputs[0]!, data: samples }, 'minmax')).ranges;
}

/** The same plan with its fake-quant ranges frozen at the values in `vars`, weights and moments carried over. */
async function frozenPlan(
  plan: StudentPlan,
  forward: Graph,
  opts: StudentOptions,
  vars: ReadonlyMap<string, Float32Array>,
): Promise<StudentPlan> {
  const ranges = learnedRanges(plan.fq!, (r) => vars.get(r)!);
  await plan.close();
  const next = await studentPlan(forward, { ...opts, fakeQuant: { momentum: 0, ranges } });
  next.runner.writeVariables(vars);
  return next;
}

/** A Dataset over samples in memory (float32 [n, ...sampleShape]); without labels it is unlabelled (all 0). */
export function datasetOf(x: Float32Array, sampleShape: readonly number[], labels?: Int32Array): Dataset {
  const per = sampleShape.reduce((a, b) => a * b, 1);
  const size = x.length / per;
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`datasetOf: ${x.length} values are not samples of [${sampleShape}]`);
  if (labels && labels.length !== size) throw new RangeError(`datasetOf: ${labels.length} labels for ${size} samples`);
  return {
    size,
    sampleShape,
    sampleElements: per,
    labels: labels ?? new Int32Array(size),
    streamed: false,
    readSamples(rows) {
      const out = new Float32Array(rows.length * per);
      for (let i = 0; i < rows.length; i++) out.set(x.subarray(rows[i]! * per, (rows[i]! + 1) * per), i * per);
      return out;
    },
    close() {},
  };
}
