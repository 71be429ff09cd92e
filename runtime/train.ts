// On-device training API (browser and Node; no Node APIs): a Trainer runs the epochs of a run step by
// step on a StepRunner — one wasm instance of a training bundle here (wasmStepRunner), data-parallel
// workers behind the same interface — reports loss, accuracy and samples/s per step and epoch, scores
// a validation set on an inference bundle whose weights are variables, and gives its state (weights,
// moments, position) for checkpoints. The step loop lives here only: every runner and every command
// (`edgec train`, `edgec distill`) goes through fit(). Batches come from a BatchSource, a pure function
// of (epoch, index), so a resumed run sees the same bytes (compiler/train/data/loader.ts is one).
import { BundleError, type Model, type TensorArray } from './index.ts';
// Pure modules (no Node API): the batch order and augmentation are the CLI's, byte for byte.
import { BatchLoader } from '../compiler/train/data/loader.ts';
import type { AugmentOptions, ImageLayout } from '../compiler/train/data/augment.ts';
import type { Dataset } from '../compiler/train/data/dataset.ts';

export { BatchLoader };
export type { AugmentOptions, ImageLayout };

/** Names a training bundle's interface uses (compiler/train/training-graph.ts). */
export interface TrainingSpec {
  x: string;
  /** Class labels (int32 [B]), regression targets or teacher logits (float32). */
  target: string;
  /** Every other input a step feeds (hard labels of KD, teacher features), in input order: Batch.targets by name. */
  targets: string[];
  lr: string;
  /** Adam / AdamW: the 1-based step input of the bias corrections. */
  step?: string;
  loss: string;
  logits: string;
  /** Outputs after [loss, logits]: the weighted loss terms (in summation order), their sum is `loss`. */
  terms: string[];
  /** Trained weights, and per weight its optimiser moments (all of them variables of the bundle). */
  params: string[];
  moments: Record<string, string[]>;
}

const LR = /^lr(#\d+)?$/,
  STEP = /^step(#\d+)?$/;

/**
 * The spec of a training bundle from its interface as buildTrainingGraph makes it: inputs [x, target,
 * more targets…, lr, step?, more targets…] (lr and step by name), outputs [loss, logits, terms…]; a variable
 * named `<weight>:<moment>` (velocity, m, v) is a moment.
 */
export function trainingSpec(model: Model): TrainingSpec {
  const ins = model.info.inputs,
    outs = model.info.outputs;
  const lr = ins.slice(2).find((t) => LR.test(t.name));
  if (ins.length < 3 || !lr || outs.length < 2 || model.variables.length === 0) {
    throw new BundleError(
      `not a training bundle: expected inputs [x, labels, lr, step?], outputs [loss, logits] and variables, found ${ins.length} inputs, ${outs.length} outputs, ${model.variables.length} variables`,
    );
  }
  const step = ins.slice(2).find((t) => STEP.test(t.name));
  const names = new Set(model.variables.map((v) => v.name));
  const moments: Record<string, string[]> = {};
  const params: string[] = [];
  for (const v of model.variables) {
    const m = /^(.*):(velocity|m|v)(#\d+)?$/.exec(v.name);
    if (m && names.has(m[1]!)) (moments[m[1]!] ??= []).push(v.name);
    else params.push(v.name);
  }
  return {
    x: ins[0]!.name,
    target: ins[1]!.name,
    targets: ins
      .slice(2)
      .filter((t) => t !== lr && t !== step)
      .map((t) => t.name),
    lr: lr.name,
    step: step?.name,
    loss: outs[0]!.name,
    logits: outs[1]!.name,
    terms: outs.slice(2).map((t) => t.name),
    params,
    moments,
  };
}

export interface Batch {
  x: Float32Array;
  /** Class labels, or float targets (regression, distillation): the spec's `target`. */
  y: Int32Array | Float32Array;
  /** The spec's other `targets` by input name (KD's hard labels, teacher feature maps). */
  targets?: Record<string, Int32Array | Float32Array>;
  /** Class labels for the running accuracy when `y` is not them (distillation). */
  labels?: Int32Array;
}

/** Batches by (epoch, index); the same arguments must give the same bytes (resume, workers). */
export interface BatchSource {
  readonly batchesPerEpoch: number;
  batch(epoch: number, index: number): Batch;
}

export interface StepResult {
  loss: number;
  /** [batch, classes] row-major, for the running accuracy. */
  logits: Float32Array;
  /** The spec's `terms` (weighted loss terms), when it has any. */
  terms?: number[];
}

/**
 * Where a step runs. step(t) is optimiser step t (0-based) with rate lr; variables move by name.
 * A data-parallel runner splits the batch and reduces in a fixed order; the Trainer does not care.
 */
export interface StepRunner {
  readonly batch: number;
  readonly spec: TrainingSpec;
  step(batch: Batch, lr: number, t: number): StepResult | Promise<StepResult>;
  /** Every variable (weights and moments), copied out. */
  readVariables(): Map<string, Float32Array>;
  writeVariables(vars: ReadonlyMap<string, Float32Array>): void;
  /** Weights and moments back to the bundle's initial values. */
  reset(): void;
}

const f32 = (a: TensorArray, what: string): Float32Array => {
  if (!(a instanceof Float32Array)) throw new BundleError(`${what} is not float32`);
  return a;
};

/** A batch without a target the training bundle needs. */
export function missingTarget(name: string): never {
  throw new BundleError(`training step: the batch has no target '${name}' (Batch.targets)`);
}

/** A StepRunner over one loaded training bundle (one wasm instance, one thread). */
export function wasmStepRunner(model: Model, spec: TrainingSpec = trainingSpec(model)): StepRunner {
  const xInfo = model.info.inputs.find((t) => t.name === spec.x);
  if (!xInfo) throw new BundleError(`training bundle: no input '${spec.x}'`);
  const lr = new Float32Array(1),
    step = new Float32Array(1);
  return {
    batch: xInfo.shape[0]!,
    spec,
    step(b, rate, t) {
      lr[0] = rate;
      step[0] = t + 1;
      const feed: Record<string, TensorArray> = { [spec.x]: b.x, [spec.target]: b.y, [spec.lr]: lr };
      if (spec.step) feed[spec.step] = step;
      for (const t of spec.targets) feed[t] = b.targets?.[t] ?? missingTarget(t);
      const out = model.run(feed);
      const r: StepResult = { loss: f32(out[spec.loss]!, 'loss')[0]!, logits: f32(out[spec.logits]!, 'logits') };
      if (spec.terms.length) r.terms = spec.terms.map((t) => f32(out[t]!, `term '${t}'`)[0]!);
      return r;
    },
    readVariables() {
      return new Map(model.variables.map((v) => [v.name, f32(model.readVariable(v.name), `variable '${v.name}'`)]));
    },
    writeVariables(vars) {
      for (const [name, data] of vars) model.writeVariable(name, data);
    },
    reset() {
      model.resetVariables();
    },
  };
}

/** Where a run stands: optimiser steps done, and the next batch (epoch, index) to train on. */
export interface Position {
  step: number;
  epoch: number;
  batch: number;
}

export interface TrainerState extends Position {
  variables: Map<string, Float32Array>;
}

export interface StepReport extends Position {
  loss: number;
  lr: number;
  /** Samples of this batch whose logits' argmax is the label (classification only). */
  correct?: number;
  samples: number;
  /** The weighted loss terms of this step (spec.terms order), when the bundle outputs them. */
  terms?: number[];
}

export interface EvalReport {
  samples: number;
  /** Mean cross-entropy (float64, from the logits) and top-1 accuracy, for class labels. */
  loss?: number;
  accuracy?: number;
  /** Mean squared error for float targets. */
  mse?: number;
}

export interface EpochReport {
  epoch: number;
  steps: number;
  samples: number;
  /** Mean of the steps' losses and the share of training samples classified right before each step. */
  loss: number;
  /** Mean of each weighted loss term (spec.terms order; they sum to `loss`), when the bundle outputs them. */
  terms?: number[];
  accuracy?: number;
  seconds: number;
  samplesPerSecond: number;
  validation?: EvalReport;
}

export interface FitOptions {
  /** Total epochs of the run (a resumed run counts the epochs already done). */
  epochs: number;
  /** Learning rate of optimiser step t (0-based). */
  lr: number | ((t: number) => number);
  validation?: BatchSource;
  /** Stop cleanly before the next step (state stays that of the last finished step). */
  signal?: AbortSignal;
  onStep?(r: StepReport): void | Promise<void>;
  onEpoch?(r: EpochReport): void | Promise<void>;
  /** Give the event loop a turn (signals, progress, a page's UI) at least every this many ms (default 50). */
  yieldMs?: number;
}

export interface FitResult {
  /** 'done': every epoch ran; 'aborted': the signal stopped the run at `position`. */
  status: 'done' | 'aborted';
  position: Position;
  epochs: EpochReport[];
}

/**
 * The loss went NaN or ±Inf at optimiser step `step` (0-based). The trainer is back in the state
 * before that step (`state`), with the batch and rate that made it, so a caller can find where.
 */
export class NonFiniteLossError extends Error {
  constructor(
    readonly position: Position,
    readonly loss: number,
    readonly lr: number,
    readonly input: Batch,
    readonly state: TrainerState,
  ) {
    super(`step ${position.step} (epoch ${position.epoch + 1}, batch ${position.batch + 1}): the loss is ${loss}`);
    this.name = 'NonFiniteLossError';
  }
}

/** Forward passes for validation: an inference bundle of the model whose trained weights are variables. */
export interface Evaluator {
  /** Values of one sample of the input. */
  readonly sampleElements: number;
  /** Logits [n, classes] of `x` (n samples) with the given weights. */
  logits(x: Float32Array, n: number, weights: ReadonlyMap<string, Float32Array>): Float32Array;
}

/**
 * An Evaluator over a loaded inference bundle with a fixed batch (compiler/train/compile-training.ts
 * makes one): a short last batch is padded with zeros, its extra rows dropped.
 */
export function wasmEvaluator(model: Model): Evaluator {
  const x = model.info.inputs[0]!,
    out = model.info.outputs[0]!;
  const batch = x.shape[0]!,
    per = x.shape.slice(1).reduce((a, b) => a * b, 1),
    classes = out.shape.slice(1).reduce((a, b) => a * b, 1);
  const vars = new Set(model.variables.map((v) => v.name));
  return {
    sampleElements: per,
    logits(data, n, weights) {
      for (const [k, w] of weights) if (vars.has(k)) model.writeVariable(k, w);
      const res = new Float32Array(n * classes);
      const buf = new Float32Array(batch * per);
      for (let i = 0; i < n; i += batch) {
        const k = Math.min(batch, n - i);
        buf.fill(0);
        buf.set(data.subarray(i * per, (i + k) * per));
        const o = f32(model.run({ [x.name]: buf })[out.name]!, 'logits');
        res.set(o.subarray(0, k * classes), i * classes);
      }
      return res;
    },
  };
}

const argmaxIs = (row: Float32Array, label: number): boolean => {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
  return best === label;
};

/** Loss / accuracy (class labels) or MSE (float targets) of logits [n, classes] against y. */
export function scoreLogits(logits: Float32Array, y: Int32Array | Float32Array, n: number): EvalReport {
  const classes = logits.length / n;
  if (y instanceof Float32Array) {
    let s = 0;
    for (let i = 0; i < y.length; i++) s += (logits[i]! - y[i]!) ** 2;
    return { samples: n, mse: s / y.length };
  }
  let loss = 0,
    right = 0;
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    let mx = -Infinity;
    for (const v of row) mx = Math.max(mx, v);
    let s = 0;
    for (const v of row) s += Math.exp(v - mx);
    loss += mx + Math.log(s) - row[y[i]!]!;
    if (argmaxIs(row, y[i]!)) right++;
  }
  return { samples: n, loss: loss / n, accuracy: right / n };
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
const turn = () => new Promise<void>((r) => (typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 0)));

export class Trainer {
  private pos: Position;
  /** The last state known good (start of fit, end of every epoch): non-finite losses replay from it. */
  private good: TrainerState | undefined;

  constructor(
    readonly runner: StepRunner,
    readonly opts: { evaluator?: Evaluator; position?: Position } = {},
  ) {
    this.pos = { ...(opts.position ?? { step: 0, epoch: 0, batch: 0 }) };
  }

  get position(): Position {
    return { ...this.pos };
  }

  state(): TrainerState {
    return { ...this.pos, variables: this.runner.readVariables() };
  }

  restore(s: TrainerState): void {
    this.runner.writeVariables(s.variables);
    this.pos = { step: s.step, epoch: s.epoch, batch: s.batch };
  }

  /** The trained weights (no moments), copied out. */
  weights(): Map<string, Float32Array> {
    const all = this.runner.readVariables();
    return new Map(this.runner.spec.params.map((p) => [p, all.get(p)!]));
  }

  /** Scores `source` (every batch of epoch 0, in order) with the current weights. */
  evaluate(source: BatchSource): EvalReport {
    const ev = this.opts.evaluator;
    if (!ev) throw new Error('Trainer.evaluate needs an evaluator (wasmEvaluator of the inference bundle)');
    // every variable: the evaluator takes the ones it has (weights, BatchNorm running statistics)
    const w = this.runner.readVariables();
    const parts: { logits: Float32Array; y: Int32Array | Float32Array; n: number }[] = [];
    for (let k = 0; k < source.batchesPerEpoch; k++) {
      const b = source.batch(0, k);
      const n = b.x.length / ev.sampleElements;
      parts.push({ logits: ev.logits(b.x, n, w), y: b.y, n });
    }
    const n = parts.reduce((s, p) => s + p.n, 0);
    const cat = <T extends Float32Array | Int32Array>(
      C: new (k: number) => T,
      get: (p: (typeof parts)[number]) => T,
    ) => {
      const out = new C(parts.reduce((s, p) => s + get(p).length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(get(p), at);
        at += get(p).length;
      }
      return out;
    };
    const logits = cat(Float32Array, (p) => p.logits);
    const y =
      parts[0]?.y instanceof Float32Array
        ? cat(Float32Array, (p) => p.y as Float32Array)
        : cat(Int32Array, (p) => p.y as Int32Array);
    return scoreLogits(logits, y, n);
  }

  /** Runs from the current position to the end of epoch `epochs`; see FitOptions. */
  async fit(source: BatchSource, opts: FitOptions): Promise<FitResult> {
    const rate = typeof opts.lr === 'number' ? () => opts.lr as number : opts.lr;
    const yieldMs = opts.yieldMs ?? 50;
    const epochs: EpochReport[] = [];
    this.good = this.state();
    let lastYield = now();
    while (this.pos.epoch < opts.epochs) {
      const started = now();
      let lossSum = 0,
        steps = 0,
        samples = 0,
        correct = 0,
        classified = 0;
      let termSums: number[] | undefined;
      for (; this.pos.batch < source.batchesPerEpoch;) {
        if (now() - lastYield >= yieldMs) {
          await turn();
          lastYield = now();
        }
        if (opts.signal?.aborted) return { status: 'aborted', position: this.position, epochs };
        const at = this.position;
        const b = source.batch(at.epoch, at.batch);
        const lr = rate(at.step);
        const r = await this.runner.step(b, lr, at.step);
        if (!Number.isFinite(r.loss)) throw await this.nonFinite(source, rate, at, r.loss, lr, b);
        const n = this.runner.batch;
        let right: number | undefined;
        const labels = b.labels ?? (b.y instanceof Int32Array ? b.y : undefined);
        if (labels) {
          const classes = r.logits.length / n;
          right = 0;
          for (let i = 0; i < n; i++)
            if (argmaxIs(r.logits.subarray(i * classes, (i + 1) * classes), labels[i]!)) right++;
          correct += right;
          classified += n;
        }
        lossSum += r.loss;
        if (r.terms) {
          termSums ??= r.terms.map(() => 0);
          r.terms.forEach((v, k) => (termSums![k]! += v));
        }
        steps++;
        samples += n;
        this.pos = { step: at.step + 1, epoch: at.epoch, batch: at.batch + 1 };
        await opts.onStep?.({
          ...at,
          loss: r.loss,
          lr,
          correct: right,
          samples: n,
          ...(r.terms && { terms: r.terms }),
        });
      }
      const seconds = (now() - started) / 1000;
      const report: EpochReport = {
        epoch: this.pos.epoch,
        steps,
        samples,
        loss: steps ? lossSum / steps : NaN,
        accuracy: classified ? correct / classified : undefined,
        seconds,
        samplesPerSecond: seconds > 0 ? samples / seconds : 0,
      };
      if (termSums) report.terms = termSums.map((v) => v / steps);
      this.pos = { step: this.pos.step, epoch: this.pos.epoch + 1, batch: 0 };
      if (opts.validation) report.validation = this.evaluate(opts.validation);
      this.good = this.state();
      epochs.push(report);
      await opts.onEpoch?.(report);
    }
    return { status: 'done', position: this.position, epochs };
  }

  /** Back to the last good state, replays up to the step before `at`, and describes the failure. */
  private async nonFinite(
    source: BatchSource,
    rate: (t: number) => number,
    at: Position,
    loss: number,
    lr: number,
    b: Batch,
  ): Promise<NonFiniteLossError> {
    const good = this.good!;
    this.restore(good);
    while (this.pos.step < at.step) {
      const p = this.pos;
      await this.runner.step(source.batch(p.epoch, p.batch), rate(p.step), p.step);
      this.pos =
        p.batch + 1 < source.batchesPerEpoch
          ? { step: p.step + 1, epoch: p.epoch, batch: p.batch + 1 }
          : { step: p.step + 1, epoch: p.epoch + 1, batch: 0 };
    }
    return new NonFiniteLossError(at, loss, lr, b, this.state());
  }
}

export interface ArrayBatchOptions {
  batch: number;
  /** Shape of one sample (the model input without its batch axis). */
  sampleShape: readonly number[];
  seed?: number;
  /** Reshuffle every epoch (default true; false for validation). */
  shuffle?: boolean;
  /** Drop a short last batch (default true; false for validation). */
  dropLast?: boolean;
  augment?: AugmentOptions;
  layout?: ImageLayout;
}

/**
 * Batches of in-memory samples (float32 [N, ...sampleShape]) and labels (int32 [N]) with the same
 * seeded shuffle and augmentation as `edgec train` (compiler/train/data/loader.ts).
 */
export function arrayBatches(x: Float32Array, labels: Int32Array, opts: ArrayBatchOptions): BatchLoader {
  const per = opts.sampleShape.reduce((a, b) => a * b, 1);
  const size = labels.length;
  if (x.length !== size * per)
    throw new RangeError(`arrayBatches: ${x.length} values are not ${size} samples of [${opts.sampleShape}]`);
  const data: Dataset = {
    size,
    sampleShape: opts.sampleShape,
    sampleElements: per,
    labels,
    streamed: false,
    readSamples(rows) {
      const out = new Float32Array(rows.length * per);
      for (let i = 0; i < rows.length; i++) out.set(x.subarray(rows[i]! * per, (rows[i]! + 1) * per), i * per);
      return out;
    },
    close() {},
  };
  const { sampleShape: _, ...rest } = opts;
  // BatchLoader fills in defaults by spreading: leave out what the caller left out
  const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Omit<
    ArrayBatchOptions,
    'sampleShape'
  >;
  return new BatchLoader(data, { seed: 0, ...given });
}
