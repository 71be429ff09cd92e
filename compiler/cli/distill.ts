// `edgec distill`: trains a student from a teacher on .npy data through compiler/distill (docs/distillation.md):
// soft targets with a temperature, labels mixed in by α, FitNets hints, relational KD, quantisation-aware
// distillation to an int8 bundle, and continual distillation (--resume without --teacher: the checkpoint's
// student is the teacher on the new data, learning without forgetting; --replay mixes in stored old samples).
// Train flags as `edgec train` (compiler/cli/train-flags.ts). Prints the loss per epoch split by term,
// validation accuracy, and at the end teacher vs student accuracy, parameters, MACs, bundle bytes and simd
// latency; --report writes it as JSON. Every check runs before the first step; the output (and report) is
// written at the end only, atomically.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { NonFiniteLossError, type TrainerState } from '../../runtime/train.ts';
import { compileGraph } from '../compile.ts';
import { distill, type DistillJob, type DistillReport, type EpochLine } from '../distill/index.ts';
import { exportOnnx } from '../export/onnx.ts';
import { writeModelJson } from '../frontend/model-json/index.ts';
import { writeFileAtomic, writeFilesAtomic } from '../io/atomic.ts';
import type { Graph } from '../ir/graph.ts';
import {
  CheckpointError,
  checkpointFile,
  loadCheckpoint,
  modelStructureHash,
  saveCheckpoint,
  type Checkpoint,
  type CkptTensor,
} from '../train/checkpoint.ts';
import { openDataset, type Dataset } from '../train/data/dataset.ts';
import { Pcg32 } from '../train/data/pcg32.ts';
import type { RelationalKind } from '../train/distill-loss.ts';
import { initWeights } from '../train/init.ts';
import { learningRate, type Schedule } from '../train/schedule.ts';
import { parseCommand } from './args.ts';
import { loadBlockModel } from './branches.ts';
import { BRANCHED_FLAGS, BRANCHED_HELP, branchedDistill } from './distill-branched.ts';
import { loadModel } from './compile.ts';
import { CliError, UsageError } from './errors.ts';
import { fmtInt } from './inspect.ts';
import { parseTrainFlags, TRAIN_FLAGS, TRAIN_FLAGS_HELP, type TrainFlags } from './train-flags.ts';

export const DISTILL_HELP = `usage: edgec distill --teacher <T.onnx|T.json|T.edgec> <student.json|student.onnx> --data <x.npy> -o <out.json|out.onnx|out.edgec> [options]

Trains the student on the teacher's soft targets (α·T²·KL(teacher ‖ student) + (1 − α)·CE(student, labels)),
every step in edgec's wasm runtime; the teacher runs on edgec's runtime too (a model file float, a .edgec
bundle float or int8), its outputs computed once when the data is not augmented.

options:
  -o, --output FILE         trained student: .json (+ .bin), .onnx, or a .edgec bundle (int8 with --quantize)
  --teacher FILE            the teacher (.onnx, .json or compiled .edgec; hints and --relational need a model file)
  --labels FILE             class labels of --data (optional: without them α is 1, data-only distillation)
  --temperature T           softmax temperature of the soft targets, > 0 (default 4)
  --alpha A                 weight of the soft-target term in [0, 1] (default 0.7 with labels, 1 without; 0 = labels only: the teacher is not run)
  --hint T.node:S.node      FitNets hint: teacher node's output → student node's output (1×1 regressor when channels
                            differ, teacher map average-pooled to the student's size); repeatable
  --hint-weight W           weight of every hint term (default 1)
  --relational LIST         relational KD over the embeddings feeding each model's final Dense: distance,angle
  --relational-weight W     weight of each relational term (default: distance 25, angle 50, Park et al.)
  --quantize int8           quantisation-aware distillation; writes an int8 bundle with the learned ranges (-o x.edgec)
  --freeze-ranges N         --quantize: epochs at the end with the activation ranges frozen (default 1)
  --val-old X.npy,Y.npy     continual: the old task's labelled samples, scored before and after
  --replay X.npy[,Y.npy]    continual: a few stored old-task samples mixed into --data (labels: Y, else the
                            previous model's top-1); needs --labels and α < 1
  --replay-share F          fraction of every epoch's rows taken from the --replay buffer (default 0.2)
  --replay-size N           keep N samples of the --replay file (a pool of old-task samples), class-balanced
  --replay-select first|border|herding  which: the first of each class (default), those the previous model
                            finds most like the new classes (its softmax mass outside the old classes), or
                            herding (iCaRL: whose mean penultimate feature best matches the class mean)
  --continual-align         weight aligning after training: the new classes' rows of the final Dense scaled to
                            the old rows' mean norm (the summary also shows the sets before it)
${BRANCHED_HELP}
  --report FILE             write the report (per-epoch loss by term, accuracies, sizes, latency) as JSON
${TRAIN_FLAGS_HELP}
  --build auto|simd|scalar  runtime build of teacher and student (default auto; both give the same bytes)
  -h, --help                show this help

Continual distillation: --resume DIR without --teacher starts from DIR's checkpoint (written by --checkpoint
of an earlier run); that student is the teacher on the new --data (learning without forgetting), mixed by α
with the new --labels. Classes the new labels never name (one contiguous range) are the old task: the soft
targets cover only those, renormalised. With --teacher, --resume continues an interrupted run exactly.
Ctrl-C writes a checkpoint (to --checkpoint DIR, else <output>.checkpoint/) and exits with code 130.`;

const USAGE = (m: string) => new UsageError(m, 'distill');

function number(v: string | undefined, flag: string, ok: (x: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || !ok(x)) throw USAGE(`--${flag} expects ${what}, got '${v}'`);
  return x;
}

function requireFile(path: string, what: string): void {
  if (!existsSync(path)) throw new CliError(path, `${what} does not exist`);
}

function openData(file: string, labels: string | undefined, g: Graph, classes: number): Dataset {
  requireFile(file, 'the data file');
  if (labels) requireFile(labels, 'the labels file');
  const x = g.inputs[0]!;
  return openDataset({ data: file, labels, input: { name: x, shape: g.tensors.get(x)!.shape }, classes });
}

/** A checkpoint of every variable: the student's weights, moments, and the rest (regressors, ranges) as observers. */
function toCheckpoint(s: TrainerState, student: Graph, hash: string, flags: TrainFlags, settings: object): Checkpoint {
  const t = (data: Float32Array, shape: number[]): CkptTensor => ({ shape, data });
  const weights = new Map<string, CkptTensor>(),
    moments = new Map<string, CkptTensor>(),
    observers = new Map<string, CkptTensor>();
  for (const [k, v] of s.variables) {
    const g = student.tensors.get(k);
    if (g?.data) weights.set(k, t(v, [...g.shape]));
    else if (/:(velocity|m|v)(#\d+)?$/.test(k)) moments.set(k, t(v, [v.length]));
    else observers.set(k, t(v, [v.length]));
  }
  return {
    modelHash: hash,
    step: s.step,
    epoch: s.epoch,
    batch: s.batch,
    rng: new Pcg32(flags.seed).getState(),
    optimizer: { ...flags.optimizer },
    weights,
    moments,
    observers,
    extra: { settings },
  };
}

function stateOf(ck: Checkpoint): TrainerState {
  const variables = new Map<string, Float32Array>();
  for (const [k, t] of [...ck.weights, ...ck.moments, ...ck.observers])
    variables.set(k, t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>));
  return { step: ck.step, epoch: ck.epoch, batch: ck.batch, variables };
}

function withWeights(g: Graph, ck: Checkpoint): Graph {
  const c: Graph = { ...g, tensors: new Map(g.tensors) };
  for (const [k, t] of ck.weights)
    c.tensors.set(k, { ...c.tensors.get(k)!, data: Float32Array.from(t.data as ArrayLike<number>) });
  return c;
}

const pct = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(2)} %`);

function epochLine(e: EpochLine, epochs: number): string {
  const terms = Object.entries(e.terms)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join(', ');
  const parts = [`epoch ${e.epoch + 1}/${epochs}: loss ${e.loss.toFixed(4)} (${terms})`];
  if (e.accuracy !== undefined) parts.push(`train accuracy ${pct(e.accuracy)}`);
  if (e.validation !== undefined) parts.push(`validation ${pct(e.validation)}`);
  parts.push(`${fmtInt(Math.round(e.samplesPerSecond))} samples/s${e.phase ? `, ranges ${e.phase}` : ''}`);
  return parts.join(', ');
}

function summary(r: DistillReport): string[] {
  const row = (name: string, f: DistillReport['student'] | undefined) =>
    f &&
    `${name.padEnd(8)} ${pct(f.accuracy).padStart(8)}  ${(f.params === undefined ? '-' : fmtInt(f.params)).padStart(10)}  ${(f.macs === undefined ? '-' : fmtInt(f.macs)).padStart(12)}  ${fmtInt(f.bundleBytes).padStart(10)}  ${f.latencyMs === undefined ? '-' : f.latencyMs.toFixed(3)}`;
  const lines = [
    `model    accuracy      params          MACs     bundle  simd ms`,
    row('teacher', r.teacher)!,
    row('student', r.student)!,
    ...(r.int8 ? [row('int8', r.int8)!] : []),
    ...(r.teacherSkipped ? [`teacher not run (${r.teacherSkipped}): no teacher accuracy or latency`] : []),
  ];
  for (const s of r.sets)
    lines.push(
      `${s.name} (${fmtInt(s.samples)} samples): teacher ${pct(s.teacher)}, student before ${pct(s.before)}, after ${pct(s.after)}` +
        (s.amongOld
          ? `; among the old classes only: before ${pct(s.amongOld.before)}, after ${pct(s.amongOld.after)}`
          : '') +
        (s.unaligned === undefined ? '' : `; before weight aligning ${pct(s.unaligned)}`),
    );
  if (r.align) lines.push(`weight aligning: the new classes' rows of the final Dense × ${r.align.gamma.toFixed(4)}`);
  return lines;
}

export async function distillCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('distill', argv, {
    output: { type: 'string', short: 'o' },
    teacher: { type: 'string' },
    temperature: { type: 'string' },
    alpha: { type: 'string' },
    hint: { type: 'string', multiple: true },
    'hint-weight': { type: 'string' },
    relational: { type: 'string' },
    'relational-weight': { type: 'string' },
    quantize: { type: 'string' },
    'freeze-ranges': { type: 'string' },
    'val-old': { type: 'string' },
    replay: { type: 'string' },
    'replay-share': { type: 'string' },
    'replay-size': { type: 'string' },
    'replay-select': { type: 'string' },
    'continual-align': { type: 'boolean' },
    report: { type: 'string' },
    build: { type: 'string' },
    ...BRANCHED_FLAGS,
    ...TRAIN_FLAGS,
  });
  if (values.help) {
    console.log(DISTILL_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw USAGE(`expected one student model file, got ${positionals.length}`);
  const studentPath = positionals[0]!;
  const out = values.output;
  if (!out) throw USAGE('missing -o <out.json|out.onnx|out.edgec>');
  const outExt = extname(out).toLowerCase();
  if (!['.json', '.onnx', '.edgec'].includes(outExt))
    throw USAGE(`${out}: the output must be a .json, .onnx or .edgec file`);
  if (!existsSync(dirname(resolve(out)))) throw new CliError(out, 'the output directory does not exist');
  if (values.report && !existsSync(dirname(resolve(values.report))))
    throw new CliError(values.report, 'the report directory does not exist');
  const build = values.build ?? 'auto';
  if (build !== 'auto' && build !== 'simd' && build !== 'scalar')
    throw USAGE(`--build must be auto, simd or scalar, got '${build}'`);
  if (!values.data) throw USAGE('missing --data <x.npy>');
  const flags = parseTrainFlags(values, { command: 'distill', needData: false });
  const branched = existsSync(studentPath) ? loadBlockModel(studentPath) : undefined;
  const only = Object.keys(BRANCHED_FLAGS).find((k) => values[k as keyof typeof values] !== undefined);
  if (!branched && only) throw USAGE(`--${only} needs a branched student (a model.json with Branch / EarlyExit nodes)`);
  if (branched) return branchedDistill(branched, studentPath, out, values, flags);
  const continual = values.teacher === undefined;
  if (continual && flags.resume === undefined)
    throw USAGE(
      'missing --teacher <T.onnx|T.json|T.edgec> (or --resume DIR of an earlier run for continual distillation)',
    );
  const temperature = number(values.temperature, 'temperature', (x) => x > 0, 'a temperature > 0') ?? 4;
  const alpha = number(values.alpha, 'alpha', (x) => x >= 0 && x <= 1, 'a weight in [0, 1]');
  if (alpha !== undefined && alpha < 1 && !flags.labels)
    throw USAGE(`--alpha ${alpha} mixes in the labels' cross-entropy: give --labels <y.npy> (or --alpha 1)`);
  const hintWeight = number(values['hint-weight'], 'hint-weight', (x) => x > 0, 'a weight > 0');
  const hints = (values.hint ?? []).map((h) => {
    const at = h.lastIndexOf(':');
    if (at <= 0 || at === h.length - 1) throw USAGE(`--hint expects TEACHER_NODE:STUDENT_NODE, got '${h}'`);
    return { teacher: h.slice(0, at), student: h.slice(at + 1) };
  });
  if (hintWeight !== undefined && hints.length === 0) throw USAGE('--hint-weight needs --hint');
  const kinds = values.relational?.split(',').map((s) => s.trim()) as RelationalKind[] | undefined;
  if (kinds && (kinds.length === 0 || kinds.some((k) => k !== 'distance' && k !== 'angle')))
    throw USAGE(`--relational expects distance, angle or distance,angle, got '${values.relational}'`);
  const relWeight = number(values['relational-weight'], 'relational-weight', (x) => x > 0, 'a weight > 0');
  if (values.quantize !== undefined && values.quantize !== 'int8')
    throw USAGE(`--quantize must be int8, got '${values.quantize}'`);
  const quantize = values.quantize === 'int8';
  if (quantize && outExt !== '.edgec') throw USAGE('--quantize int8 writes an int8 bundle: give -o <out.edgec>');
  const freeze = number(
    values['freeze-ranges'],
    'freeze-ranges',
    (x) => Number.isInteger(x) && x >= 0,
    'a whole number ≥ 0',
  );
  if (freeze !== undefined && !quantize) throw USAGE('--freeze-ranges needs --quantize int8');
  if (quantize && (freeze ?? 1) >= flags.epochs)
    throw USAGE(
      `--freeze-ranges ${freeze ?? 1} leaves no epoch to track the ranges in: give --epochs > ${freeze ?? 1}`,
    );
  const valOld = values['val-old']?.split(',');
  if (valOld && valOld.length !== 2) throw USAGE(`--val-old expects X.npy,Y.npy, got '${values['val-old']}'`);
  const replay = values.replay?.split(',');
  if (replay && (replay.length > 2 || !replay[0]))
    throw USAGE(`--replay expects X.npy or X.npy,Y.npy, got '${values.replay}'`);
  if (replay && !flags.labels) throw USAGE('--replay needs --labels (the buffer is learned through the label term)');
  if (replay && (alpha ?? 0.7) >= 1)
    throw USAGE('--replay needs --alpha < 1 (the buffer is learned through the label term)');
  const share = number(values['replay-share'], 'replay-share', (x) => x > 0 && x < 1, 'a fraction in (0, 1)');
  if (share !== undefined && !replay) throw USAGE('--replay-share needs --replay');
  const replaySize = number(values['replay-size'], 'replay-size', (x) => Number.isInteger(x) && x >= 1, 'a count ≥ 1');
  const select = values['replay-select'];
  if (select !== undefined && select !== 'first' && select !== 'border' && select !== 'herding')
    throw USAGE(`--replay-select must be first, border or herding, got '${select}'`);
  if ((replaySize !== undefined || select !== undefined) && !replay)
    throw USAGE(`--${replaySize !== undefined ? 'replay-size' : 'replay-select'} needs --replay`);
  if (select !== undefined && replaySize === undefined) throw USAGE('--replay-select needs --replay-size N');
  const align = values['continual-align'] === true;
  if ((align || replaySize !== undefined) && values.teacher !== undefined)
    throw USAGE(
      `--${align ? 'continual-align' : 'replay-size'} is for continual distillation (--resume without --teacher)`,
    );

  // models: the teacher (a model file or a bundle), the student (continual: the checkpoint's weights)
  requireFile(studentPath, 'the student model');
  let student = loadModel(studentPath, undefined);
  const hash = modelStructureHash(student);
  const ck =
    flags.resume === undefined ? undefined : loadCheckpoint(flags.resume, { graph: student, file: studentPath });
  const settings = {
    ...flags.settings,
    temperature,
    alpha: alpha ?? null,
    hints,
    hintWeight: hintWeight ?? null,
    relational: kinds ?? null,
    quantize,
    freeze: freeze ?? null,
    ...(replay && { replay: values.replay, replayShare: share ?? null }),
    ...(replaySize !== undefined && { replaySize, replaySelect: select ?? 'first' }),
    ...(align && { align }),
  };
  if (ck && !continual) {
    const was = JSON.stringify(ck.extra?.settings ?? {}),
      now = JSON.stringify(settings);
    if (was !== now)
      throw new CheckpointError(
        checkpointFile(flags.resume!),
        `was written by a run with other settings (${was}); resume with the flags it started with`,
      );
  }
  let teacher: DistillJob['teacher'];
  if (continual) {
    student = withWeights(student, ck!);
    teacher = student;
  } else {
    const t = values.teacher!;
    requireFile(t, 'the teacher');
    teacher =
      extname(t).toLowerCase() === '.edgec'
        ? { bundle: new Uint8Array(readFileSync(t)), source: t }
        : loadModel(t, undefined);
  }
  if (flags.init) initWeights(student, flags.init, flags.seed, flags.frozen);

  const outT = student.tensors.get(student.outputs[0] ?? '');
  const classes = outT ? outT.shape[outT.shape.length - 1]! : 0;
  const opened: Dataset[] = [];
  const open = (x: string, y: string | undefined) => {
    const d = openData(x, y, student, classes);
    opened.push(d);
    return d;
  };
  try {
    const data = open(flags.data, flags.labels || undefined);
    const validation = flags.val && open(flags.val.data, flags.val.labels);
    const replayData = replay && open(replay[0]!, replay[1]);
    const evalSets = [
      ...(valOld ? [{ name: 'old task', data: open(valOld[0]!, valOld[1]!) }] : []),
      ...(continual && validation ? [{ name: 'new task', data: validation }] : []),
    ];
    // continual with labels: the classes the new labels never name are the old task's; distil only them
    let oldClasses: [number, number] | undefined;
    if (continual && flags.labels) {
      const seen = new Set(data.labels);
      const absent = Array.from({ length: classes }, (_, k) => k).filter((k) => !seen.has(k));
      if (absent.length && absent.at(-1)! - absent[0]! === absent.length - 1)
        oldClasses = [absent[0]!, absent.at(-1)! + 1];
    }
    let schedule: Schedule | undefined;
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    const ckptDir = flags.checkpoint ?? join(dirname(out), `${basename(out, extname(out))}.checkpoint`);
    const save = (s: TrainerState) => saveCheckpoint(ckptDir, toCheckpoint(s, student, hash, flags, settings));
    process.on('SIGINT', onSigint);
    let result;
    try {
      result = await distill({
        teacher,
        student,
        data,
        labelled: !!flags.labels,
        validation,
        evalSets,
        temperature,
        alpha,
        hints,
        hintWeight,
        relational: kinds && { kinds, weight: relWeight },
        oldClasses,
        replay: replayData && {
          data: replayData,
          labelled: replay!.length === 2,
          share,
          ...(replaySize !== undefined && { select: { by: select ?? 'first', count: replaySize } }),
        },
        align,
        quantize: quantize ? { freezeEpochs: freeze ?? 1 } : undefined,
        epochs: flags.epochs,
        batch: flags.batch,
        optimizer: flags.optimizer,
        lr: (t, total) => learningRate((schedule ??= flags.schedule(total)), t),
        clipNorm: flags.clipNorm,
        labelSmoothing: flags.labelSmoothing,
        frozen: flags.frozen,
        augment: flags.augment,
        seed: flags.seed,
        threads: flags.threads,
        build: build === 'auto' ? undefined : build,
        resume: ck && !continual ? stateOf(ck) : undefined,
        signal: abort.signal,
        onStart(i) {
          console.log(
            `${studentPath}: distilling from ${continual ? `the checkpoint's student (${checkpointFile(flags.resume!)})` : values.teacher}; terms ${i.terms.join(' + ')}; training arena ${fmtInt(i.arenaBytes)} bytes; ${i.runner === 'sharded' ? 'data-parallel shard plan' : 'whole batches on one thread (fake-quant ranges / relational terms span the batch)'}`,
          );
          if (oldClasses)
            console.log(
              `continual: the new labels never name classes ${oldClasses[0]}–${oldClasses[1] - 1}: soft targets over those (the old task) only, CE on the new labels × ${(1 - (alpha ?? 0.7)).toFixed(2)}`,
            );
          console.log(
            `${fmtInt(data.size)} samples${replayData ? ` + ${fmtInt(i.samples - data.size)} rows of the ${fmtInt(Math.min(replaySize ?? replayData.size, replayData.size))}-sample replay buffer (${replaySize === undefined ? '' : `${select ?? 'first'} of ${fmtInt(replayData.size)}; `}${replay!.length === 2 ? 'its labels' : `labels: the previous model's top-1${oldClasses ? ` among ${oldClasses[0]}–${oldClasses[1] - 1}` : ''}`})` : ''}, ${fmtInt(i.stepsPerEpoch)} batches per epoch × ${flags.epochs} = ${fmtInt(i.totalSteps)} steps; ${i.teacherSkipped ? `teacher not run (${i.teacherSkipped})` : `teacher outputs ${i.teacherCached ? `cached once (${i.teacherSeconds.toFixed(1)} s)` : 'computed per batch (augmented data)'}`}`,
          );
        },
        onEpoch(e, state) {
          console.log(epochLine(e, flags.epochs));
          if (flags.checkpoint !== undefined) save(state());
        },
      });
    } catch (e) {
      if (e instanceof NonFiniteLossError)
        throw new CliError(studentPath, `${e.message}; lower --lr or clip with --clip-norm; nothing written to ${out}`);
      throw e;
    } finally {
      process.off('SIGINT', onSigint);
    }
    if (result.status === 'aborted') {
      const file = save(result.state);
      console.log(
        `interrupted at step ${fmtInt(result.state.step)}: checkpoint written to ${file}; continue with --resume ${ckptDir}`,
      );
      return 130;
    }
    for (const l of summary(result.report)) console.log(l);
    const written = writeOutput(out, result.model, result.int8);
    if (values.report) {
      writeFileAtomic(values.report, new TextEncoder().encode(`${JSON.stringify(result.report, null, 2)}\n`));
      written.push(values.report);
    }
    console.log(
      `${out}: distilled ${fmtInt(result.state.step)} steps; wrote ${written.map((f) => basename(f)).join(', ')}`,
    );
    return 0;
  } finally {
    for (const d of opened) d.close();
  }
}

function writeOutput(out: string, model: Graph, int8: Graph | undefined): string[] {
  const ext = extname(out).toLowerCase();
  if (ext === '.edgec') {
    writeFileAtomic(out, int8 ? compileGraph(int8, { skipPasses: true }).bundle : compileGraph(model).bundle);
    return [out];
  }
  if (ext === '.onnx') {
    writeFileAtomic(out, exportOnnx(model));
    return [out];
  }
  return writeFilesAtomic(dirname(resolve(out)), (tmp) => writeModelJson(model, join(tmp, basename(out))));
}
