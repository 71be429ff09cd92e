// distillBranched(job): trains the exit heads (and, unless frozen, the trunk) and the gates of a branched student
// (Branch / EarlyExit block model) by distillation from the full network (docs/distillation.md "Branched students").
// Phase 1, exits: one training graph computes every exit's logits; loss = Σ_k w_k·[α·T²·KL(t ‖ s_k) + (1 − α)·CE],
// k over the full output and every early exit / non-last branch (weights `exitWeights`, early exits in model order,
// the full output last); t = the teacher's logits (default: the student's own full network before training).
// Phase 2, gates: each Branch gate learns, per input, the first branch (cheapest first) whose top-1 agrees with the
// teacher's (2 branches: a binary "cheap agrees" target; softmax CE over the 2 scores = BCE on their difference), on
// rows the heads did not train on (`gateHoldout`), with every other weight frozen. A 2-branch gate whose scores come
// from a Dense is written in threshold form (foldGate). EarlyExit heads decide by their own confidence, which the
// soft targets train. Report: accuracy, teacher agreement and executed MACs per threshold, before and after, and with
// `quantize` for the int8 bundle too (every piece post-training quantised on the first training rows, per threshold;
// its routes and top-1 against the float model's). Deterministic: seeded row order, the engine's fixed summation
// orders — so a run stopped by `signal` and continued from its state (`resume`) ends on the uninterrupted bytes.
import {
  Trainer,
  wasmStepRunner,
  type Batch,
  type BatchSource,
  type TrainerState,
  type TrainingSpec,
} from '../../runtime/train.ts';
import { load } from '../../runtime/node.ts';
import { compileGraph } from '../compile.ts';
import { ModelError, type Graph } from '../ir/graph.ts';
import type { BlockModel } from '../ir/blocks.ts';
import { compileBlockModel } from '../lower/branches.ts';
import { compileBlockModelInt8 } from '../lower/branches-int8.ts';
import { buildTrainingGraph, withBatch, type OptimizerOptions, type TrainingOptions } from '../train/training-graph.ts';
import {
  atThreshold,
  flattenBlocks,
  foldGate,
  gateDense,
  gateThreshold,
  pruneTo,
  tensorData,
  withTensors,
  type FlatModel,
} from './branched-graph.ts';
import { exitKd, type ExitInputs } from './branched-loss.ts';

export interface Samples {
  /** float32 [N, ...the model input without its batch axis]. */
  x: Float32Array;
  labels?: Int32Array;
}

export interface BranchedJob {
  student: BlockModel;
  /** The teacher (batch-1 graph with the student's input; a final Softmax is dropped). Default: the student's full network. */
  teacher?: Graph;
  data: Samples;
  /** Where the report scores before / after (default: `data`). */
  validation?: Samples;
  /** Per-exit weights: every early exit in model order, then the full output (default 1 each). */
  exitWeights?: number[];
  temperature?: number;
  /** Weight of the soft targets in [0, 1] (default 0.7 with labels, 1 without; 0 = labels only, the baseline). */
  alpha?: number;
  epochs: number;
  batch: number;
  optimizer: OptimizerOptions;
  lr: number | ((t: number, totalSteps: number) => number);
  /** Node names (as in the block model, block paths included) whose weights stay fixed. */
  frozen?: string[];
  /** Gates: epochs (default `epochs`), share of the rows held out of head training for them (default 0.2). */
  gateEpochs?: number;
  gateHoldout?: number;
  /** τ written into a 2-branch gate (default: the one it had, else 0.5). */
  gateThreshold?: number;
  /** Thresholds of the report (EarlyExit thresholds; threshold-form gates' τ). Default 0.9, 0.99, 0.999. */
  thresholds?: number[];
  seed?: number;
  build?: 'simd' | 'scalar';
  /** int8: every piece quantised (min/max) on the first `calibration` training rows (default 500). */
  quantize?: { calibration?: number };
  /** Continue a stopped run from its state (same job otherwise). */
  resume?: BranchedState;
  /** Stops the run before the next batch; the result is then 'aborted' with the state to resume from. */
  signal?: AbortSignal;
  onEpoch?(line: BranchedEpoch, state: () => BranchedState): void | Promise<void>;
}

/** Where a run is: its phase (0 exits, k ≥ 1 the k-th gate), that phase's trainer, what earlier phases trained. */
export interface BranchedState {
  phase: number;
  trainer: TrainerState;
  trained: Map<string, Float32Array>;
}

export interface BranchedEpoch {
  phase: 'exits' | 'gate';
  epoch: number;
  epochs: number;
  loss: number;
  terms: Record<string, number>;
  samplesPerSecond: number;
}

/** One model at one threshold on the report's samples. */
export interface PathScore {
  /** Top-1 against the labels (when given). */
  accuracy?: number;
  /** Top-1 agreement with the teacher (absent at α 0: the teacher is not run). */
  agreement?: number;
  /** Mean multiply-accumulates the executor ran per sample. */
  macs: number;
  /** Share of samples that left early or took a branch other than the last. */
  cheap: number;
}

export interface BranchedReport {
  samples: number;
  scoredOn: 'validation' | 'training data';
  /** The teacher (default the full network) on the same samples; empty at α 0. */
  teacher: { accuracy?: number; macs?: number };
  /** Why the teacher was never run (α 0: labels only). */
  teacherSkipped?: string;
  exits: { name: string; weight: number }[];
  headRows: number;
  gateRows: number;
  epochs: BranchedEpoch[];
  thresholds: { threshold: number; before: PathScore; after: PathScore; int8?: Int8Score }[];
  /** `quantize`: calibration rows and the bytes of the int8 bundle (the model's own thresholds) vs the float one. */
  int8?: { calibration: number; bundleBytes: number; floatBundleBytes: number };
}

/** The int8 bundle at one threshold, and how often it takes the float model's route and top-1. */
export interface Int8Score extends PathScore {
  sameRoute: number;
  sameTop1: number;
}

export interface BranchedResult {
  /** 'aborted': `signal` stopped the run; `state` resumes it (model: what is trained so far, report unscored). */
  status: 'done' | 'aborted';
  state?: BranchedState;
  model: BlockModel;
  /** `quantize`: the int8 bundle of the trained model. */
  int8?: Uint8Array;
  /** Every trained (and folded) tensor by name: what changes in the model file. */
  weights: Map<string, Float32Array>;
  report: BranchedReport;
}

const argmax = (v: ArrayLike<number>, at: number, n: number): number => {
  let b = 0;
  for (let c = 1; c < n; c++) if (v[at + c]! > v[at + b]!) b = c;
  return b;
};

/** The logits a batch-1 graph gives for every sample (the runtime runs a stack of samples one by one). */
async function runLogits(g: Graph, x: Float32Array, build: 'simd' | 'scalar'): Promise<Record<string, Float32Array>> {
  const m = await load(compileGraph(g).bundle, { build });
  return m.runDetailed({ [g.inputs[0]!]: x }).outputs as Record<string, Float32Array>;
}

/** The teacher graph with a final Softmax dropped (KD needs logits). */
function teacherLogits(t: Graph): Graph {
  const out = t.outputs[0]!;
  const last = t.nodes.find((n) => n.outputs.includes(out));
  return last?.op === 'Softmax' ? pruneTo(t, [last.inputs[0]!]) : pruneTo(t, [out]);
}

/** `rows` in a seeded order (mulberry32 Fisher–Yates). */
function shuffled(rows: number[], seed: number): number[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = [...rows];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Whole batches of `rows`, reshuffled every epoch. */
function rowBatches(rows: number[], batch: number, seed: number, make: (rows: number[]) => Batch): BatchSource {
  return {
    batchesPerEpoch: Math.floor(rows.length / batch),
    batch: (epoch, index) =>
      make(shuffled(rows, seed * 7919 + epoch * 104729).slice(index * batch, (index + 1) * batch)),
  };
}

function gather<T extends Float32Array | Int32Array>(src: T, rows: number[], per: number): T {
  const out = new (src.constructor as new (n: number) => T)(rows.length * per);
  rows.forEach((r, i) => out.set(src.subarray(r * per, (r + 1) * per), i * per));
  return out;
}

/** Trains `g` (one output, batch as given) with `opts` on batches; returns its trained weights. */
async function train(
  g: Graph,
  opts: TrainingOptions,
  source: (spec: TrainingSpec) => BatchSource,
  job: BranchedJob,
  phase: BranchedEpoch['phase'],
  epochs: number,
  terms: string[],
  log: BranchedEpoch[],
  at: { resume?: TrainerState; state: (t: TrainerState) => BranchedState },
): Promise<{ weights: Map<string, Float32Array>; stopped?: TrainerState }> {
  const tg = buildTrainingGraph(g, { ...opts, termOutputs: true });
  const spec: TrainingSpec = {
    x: tg.x,
    target: tg.labels,
    targets: tg.targets.filter((t) => t !== tg.labels),
    lr: tg.lr,
    step: tg.step,
    loss: tg.loss,
    logits: tg.logits,
    terms: tg.terms.map((t) => t.output),
    params: [...tg.params],
    moments: Object.fromEntries(tg.moments),
  };
  const model = await load(compileGraph(tg.graph, { skipPasses: true }).bundle, { build: job.build ?? 'simd' });
  const src = source(spec);
  const total = epochs * src.batchesPerEpoch;
  const rate =
    typeof job.lr === 'number' ? job.lr : (t: number) => (job.lr as (t: number, n: number) => number)(t, total);
  const trainer = new Trainer(wasmStepRunner(model, spec));
  if (at.resume) trainer.restore(at.resume);
  const res = await trainer.fit(src, {
    epochs,
    lr: rate,
    signal: job.signal,
    async onEpoch(e) {
      const line: BranchedEpoch = {
        phase,
        epoch: e.epoch,
        epochs,
        loss: e.loss,
        terms: Object.fromEntries(terms.map((t, k) => [t, e.terms?.[k] ?? e.loss])),
        samplesPerSecond: e.samplesPerSecond,
      };
      log.push(line);
      await job.onEpoch?.(line, () => at.state(trainer.state()));
    },
  });
  return { weights: trainer.weights(), ...(res.status === 'aborted' && { stopped: trainer.state() }) };
}

export async function distillBranched(job: BranchedJob): Promise<BranchedResult> {
  const bm = job.student,
    src = bm.source;
  const build = job.build ?? 'simd';
  const flat = flattenBlocks(bm);
  if (flat.exits.length === 0)
    throw new ModelError(src, 'model', 'has no early exit and no Branch with two or more branches to distil');
  const inT = bm.shapes.get(bm.inputs[0]!)!;
  const per = inT.shape.slice(1).reduce((a, b) => a * b, 1);
  const n = job.data.x.length / per;
  if (!Number.isInteger(n) || n < 1)
    throw new ModelError(src, 'data', `${job.data.x.length} values are not samples of [${inT.shape.slice(1)}]`);
  const labels = job.data.labels;
  if (labels && labels.length !== n) throw new ModelError(src, 'labels', `${labels.length} labels for ${n} samples`);
  const T = job.temperature ?? 4;
  const alpha = job.alpha ?? (labels ? 0.7 : 1);
  if (!(T > 0)) throw new ModelError(src, 'temperature', `must be > 0, found ${T}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new ModelError(src, 'alpha', `must be in [0, 1], found ${alpha}`);
  if (alpha < 1 && !labels)
    throw new ModelError(src, 'alpha', `${alpha} < 1 mixes in the labels' cross-entropy: give labels`);
  const names = [...flat.exits.map((e) => e.name), 'full'];
  const weights = job.exitWeights ?? names.map(() => 1);
  if (
    weights.length !== names.length ||
    weights.some((w) => !(w >= 0 && Number.isFinite(w))) ||
    !weights.some((w) => w > 0)
  )
    throw new ModelError(
      src,
      'exitWeights',
      `expected ${names.length} weights ≥ 0, not all 0 (${names.join(', ')}), found [${weights.join(', ')}]`,
    );
  const frozen = job.frozen ?? [];
  for (const f of frozen)
    if (!flat.graph.nodes.some((k) => k.name === f))
      throw new ModelError(src, `frozen node '${f}'`, 'is not in the model');
  const holdout = flat.gates.length ? (job.gateHoldout ?? 0.2) : 0;
  const start = job.resume;
  if (start && !(Number.isInteger(start.phase) && start.phase >= 0 && start.phase <= flat.gates.length))
    throw new ModelError(src, 'resume', `phase ${start.phase} is not one of this model's (0..${flat.gates.length})`);
  const calibration = job.quantize ? Math.min(n, job.quantize.calibration ?? 500) : 0;
  if (job.quantize && !(Number.isInteger(calibration) && calibration >= 1))
    throw new ModelError(src, 'quantize.calibration', `must be a whole number ≥ 1, found ${calibration}`);
  if (!(holdout >= 0 && holdout < 1)) throw new ModelError(src, 'gateHoldout', `must be in [0, 1), found ${holdout}`);

  // the teacher's logits for every sample, computed once; α 0 (labels only) never compiles or runs it
  const teacherG = alpha === 0 ? undefined : teacherLogits(job.teacher ?? pruneTo(flat.graph, [flat.full]));
  const tl = teacherG && (await runLogits(teacherG, job.data.x, build))[teacherG.outputs[0]!]!;
  const fullClasses = flat.graph.tensors.get(flat.full)!.shape.at(-1)!;
  const classes = tl ? tl.length / n : fullClasses;
  if (classes !== fullClasses)
    throw new ModelError(src, 'teacher', `gives ${classes} classes per sample, the student ${String(fullClasses)}`);

  // rows: a fixed shuffle; the last `holdout` share trains the gates only
  const all = shuffled(
    Array.from({ length: n }, (_, i) => i),
    (job.seed ?? 0) + 1,
  );
  const gateCount = Math.round(n * holdout);
  const headRows = all.slice(0, n - gateCount),
    gateRows = gateCount ? all.slice(n - gateCount) : all;
  if (headRows.length < job.batch || gateRows.length < job.batch)
    throw new ModelError(
      src,
      'batch',
      `${job.batch} is more than the ${Math.min(headRows.length, gateRows.length)} rows a phase trains on`,
    );

  // phase 1: every exit's KD term, weighted
  const log: BranchedEpoch[] = [];
  const used = names
    .map((name, k) => ({ name, logits: k < flat.exits.length ? flat.exits[k]!.logits : flat.full, w: weights[k]! }))
    .filter((e) => e.w > 0);
  const primary = used[0]!;
  const fwd1 = pruneTo(
    flat.graph,
    used.map((e) => e.logits),
  );
  fwd1.outputs = [primary.logits];
  const g1 = withBatch(fwd1, job.batch);
  const extraInputs: ExitInputs[] = used.slice(1).map(() => ({}));
  const opts1: TrainingOptions = {
    loss:
      alpha === 0
        ? { kind: 'softmax-cross-entropy', weight: primary.w }
        : { kind: 'kd', temperature: T, alpha, weight: primary.w },
    optimizer: job.optimizer,
    frozen: frozen.filter((f) => g1.nodes.some((k) => k.name === f)),
    extraLosses: used.slice(1).map((e, k) => exitKd(e.name, e.logits, T, alpha, e.w, extraInputs[k]!)),
  };
  const termNames = [
    ...(alpha === 0 ? [] : [`kd:${primary.name}`]),
    ...(alpha < 1 ? [`ce:${primary.name}`] : []),
    ...used.slice(1).map((e) => `${alpha === 0 ? 'ce' : 'kd'}:${e.name}`),
  ];
  const x = job.data.x;
  const stop = (phase: number, t: TrainerState, done: Map<string, Float32Array>): BranchedResult => ({
    status: 'aborted',
    state: { phase, trainer: t, trained: done },
    model: withTensors(bm, done),
    weights: done,
    report: {
      samples: 0,
      scoredOn: job.validation ? 'validation' : 'training data',
      teacher: {},
      exits: names.map((name, k) => ({ name, weight: weights[k]! })),
      headRows: headRows.length,
      gateRows: flat.gates.length ? gateRows.length : 0,
      epochs: log,
      thresholds: [],
    },
  });
  let trained = new Map(start?.trained ?? []);
  const p1 = !start || start.phase === 0;
  const r1 = !p1
    ? undefined
    : await train(
        g1,
        opts1,
        (spec) =>
          rowBatches(headRows, job.batch, job.seed ?? 0, (rows) => {
            const t = tl && gather(tl, rows, classes),
              y = labels && gather(labels, rows, 1);
            const targets: Record<string, Float32Array | Int32Array> = {};
            for (const e of extraInputs) {
              if (e.teacher) targets[e.teacher] = t!;
              if (e.labels) targets[e.labels] = y!;
            }
            // the rest: the primary term's hard labels (α < 1)
            for (const name of spec.targets) targets[name] ??= y!;
            return { x: gather(x, rows, per), y: alpha === 0 ? y! : t!, targets, labels: y };
          }),
        job,
        'exits',
        job.epochs,
        termNames,
        log,
        { resume: start?.trainer, state: (t) => ({ phase: 0, trainer: t, trained: new Map() }) },
      );
  if (r1?.stopped) return stop(0, r1.stopped, new Map());
  if (r1) trained = r1.weights;

  // phase 2: each gate learns which branch agrees with the teacher (α 0: which branch is right)
  for (const [gi, gate] of flat.gates.entries()) {
    const phase = gi + 1;
    // resumed past this gate: its folded weights are in `trained`
    if (start && start.phase > phase) continue;
    const now = withTensors(bm, trained);
    const f2 = flattenBlocks(now).graph;
    const outs = await runLogits(pruneTo(f2, gate.branchOutputs), gather(x, gateRows, per), build);
    const target = Int32Array.from(gateRows, (r, i) => {
      const want = tl ? argmax(tl, r * classes, classes) : labels![r]!;
      const k = gate.branchOutputs.findIndex((o) => argmax(outs[o]!, i * classes, classes) === want);
      return k < 0 ? gate.branchOutputs.length - 1 : k;
    });
    const byRow = new Map(gateRows.map((r, i) => [r, target[i]!]));
    const fwd2 = withBatch(pruneTo(f2, [gate.scores]), job.batch);
    const before = new Map(trained);
    const g2 = await train(
      fwd2,
      {
        loss: { kind: 'softmax-cross-entropy' },
        optimizer: job.optimizer,
        frozen: fwd2.nodes.filter((k) => !gate.nodes.includes(k.name) || frozen.includes(k.name)).map((k) => k.name),
      },
      () =>
        rowBatches(gateRows, job.batch, (job.seed ?? 0) + 2, (rows) => {
          const y = Int32Array.from(rows, (r) => byRow.get(r)!);
          return { x: gather(x, rows, per), y, labels: y };
        }),
      job,
      'gate',
      job.gateEpochs ?? job.epochs,
      ['ce'],
      log,
      {
        resume: start?.phase === phase ? start.trainer : undefined,
        state: (t) => ({ phase, trainer: t, trained: new Map(before) }),
      },
    );
    if (g2.stopped) return stop(phase, g2.stopped, before);
    for (const [k, v] of g2.weights) trained.set(k, v);
    const d = gateDense(flat.graph, gate);
    if (d && trained.has(d.weight) && trained.has(d.bias)) {
      const tau =
        job.gateThreshold ?? gateThreshold(tensorData(bm, d.weight)!, tensorData(bm, d.bias)!, d.inputs) ?? 0.5;
      const [w, b] = foldGate(trained.get(d.weight)!, trained.get(d.bias)!, d.inputs, tau);
      trained.set(d.weight, w);
      trained.set(d.bias, b);
    }
  }
  const after = withTensors(bm, trained);
  const calib = Array.from({ length: calibration }, (_, i) => x.slice(i * per, (i + 1) * per));
  const report = await compare(job, flat, bm, after, teacherG, classes, names, weights, log, build, calib);
  const int8 = calib.length ? (await compileBlockModelInt8(after, { samples: calib })).bundle : undefined;
  return {
    status: 'done',
    model: after,
    ...(int8 && { int8 }),
    weights: trained,
    report: {
      ...report,
      headRows: headRows.length,
      gateRows: flat.gates.length ? gateRows.length : 0,
      ...(int8 && {
        int8: { calibration, bundleBytes: int8.length, floatBundleBytes: compileBlockModel(after).bundle.length },
      }),
    },
  };
}

/** Accuracy, teacher agreement and executed MACs of the student before and after, per threshold. */
async function compare(
  job: BranchedJob,
  flat: FlatModel,
  before: BlockModel,
  after: BlockModel,
  teacherG: Graph | undefined,
  classes: number,
  names: string[],
  weights: number[],
  epochs: BranchedEpoch[],
  build: 'simd' | 'scalar',
  calib: Float32Array[],
): Promise<Omit<BranchedReport, 'headRows' | 'gateRows' | 'int8'>> {
  const set = job.validation ?? job.data;
  const input = before.inputs[0]!;
  const per = before.shapes
    .get(input)!
    .shape.slice(1)
    .reduce((a, b) => a * b, 1);
  const n = set.x.length / per;
  const tr =
    teacherG && (await load(compileGraph(teacherG).bundle, { build })).runDetailed({ [teacherG.inputs[0]!]: set.x });
  const tl = tr?.outputs[teacherG!.outputs[0]!] as Float32Array | undefined;
  const score = (logits: Float32Array, picks: (i: number) => number) => {
    let ok = 0;
    for (let i = 0; i < n; i++) if (argmax(logits, i * classes, classes) === picks(i)) ok++;
    return ok / n;
  };
  const teacherTop = (i: number) => argmax(tl!, i * classes, classes);
  const last = new Map(flat.gates.map((g) => [g.block, g.branchOutputs.length - 1]));
  /** The bundle's scores on the set, with every sample's route and output (to compare int8 with float). */
  const run = async (bundle: Uint8Array) => {
    const m = await load(bundle, { build });
    const r = m.runDetailed({ [input]: set.x });
    const out = r.outputs[before.outputs[0]!] as Float32Array;
    const s: PathScore = {
      ...(set.labels && { accuracy: score(out, (i) => set.labels![i]!) }),
      ...(tl && { agreement: score(out, teacherTop) }),
      macs: r.samples.reduce((a, k) => a + k.macs, 0) / n,
      cheap:
        r.samples.filter(
          (k) => k.exitedAt !== null || Object.entries(k.branches).some(([b, j]) => j !== null && j !== last.get(b)),
        ).length / n,
    };
    return { s, out, routes: r.samples.map((k) => JSON.stringify([k.exitedAt, k.branches])) };
  };
  const thresholds = [];
  for (const t of job.thresholds ?? [0.9, 0.99, 0.999]) {
    const a = atThreshold(after, flat, t);
    const f = await run(compileBlockModel(a).bundle);
    let int8: Int8Score | undefined;
    if (calib.length) {
      const q = await run((await compileBlockModelInt8(a, { samples: calib })).bundle);
      int8 = {
        ...q.s,
        sameRoute: q.routes.filter((r, i) => r === f.routes[i]).length / n,
        sameTop1: score(q.out, (i) => argmax(f.out, i * classes, classes)),
      };
    }
    thresholds.push({
      threshold: t,
      before: (await run(compileBlockModel(atThreshold(before, flat, t)).bundle)).s,
      after: f.s,
      ...(int8 && { int8 }),
    });
  }
  return {
    samples: n,
    scoredOn: job.validation ? 'validation' : 'training data',
    teacher: tr
      ? {
          ...(set.labels && { accuracy: score(tl!, (i) => set.labels![i]!) }),
          macs: tr.samples.reduce((a, s) => a + s.macs, 0) / n,
        }
      : {},
    ...(!tr && { teacherSkipped: 'alpha 0: labels only' }),
    exits: names.map((name, k) => ({ name, weight: weights[k]! })),
    epochs,
    thresholds,
  };
}
