// `edgec distill` on a branched student (a model.json with Branch / EarlyExit nodes, docs/distillation.md
// "Branched students"): exit heads trained by per-exit KD from the full network (or --teacher), gates on whether
// the cheap branch agrees with the teacher, then accuracy / teacher agreement / executed MACs per threshold
// before and after (--quantize int8: of the int8 bundle too, which -o x.edgec then is). Writes the same model.json
// with the trained tensors replaced (weights file: a copy of the student's with only those bytes changed) or a
// compiled .edgec; output and report written at the end, atomically. --checkpoint DIR saves the run's state after
// every epoch and on Ctrl-C (exit 130); --resume DIR continues it to the uninterrupted run's bytes.
import { basename, dirname, extname, join, resolve } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { compileBlockModel } from '../lower/branches.ts';
import {
  distillBranched,
  type BranchedReport,
  type BranchedState,
  type PathScore,
  type Samples,
} from '../distill/branched.ts';
import { flattenBlocks, patchModelJson } from '../distill/branched-graph.ts';
import { parseJsonText, readSidecar } from '../frontend/model-json/parse.ts';
import { writeFileAtomic, writeFilesAtomic } from '../io/atomic.ts';
import type { BlockModel } from '../ir/blocks.ts';
import { loadNpy } from '../io/npy.ts';
import {
  CheckpointError,
  checkpointFile,
  loadCheckpoint,
  modelStructureHash,
  saveCheckpoint,
  type Checkpoint,
  type CkptTensor,
} from '../train/checkpoint.ts';
import { Pcg32 } from '../train/data/pcg32.ts';
import { learningRate } from '../train/schedule.ts';
import { loadModel } from './compile.ts';
import { CliError, UsageError } from './errors.ts';
import { fmtInt } from './inspect.ts';
import type { TrainFlags } from './train-flags.ts';

const USAGE = (m: string) => new UsageError(m, 'distill');

/** The flags only a branched student takes (registered by compiler/cli/distill.ts). */
export const BRANCHED_FLAGS = {
  'exit-weights': { type: 'string' },
  thresholds: { type: 'string' },
  'gate-holdout': { type: 'string' },
  'gate-threshold': { type: 'string' },
  'gate-epochs': { type: 'string' },
} as const;

export const BRANCHED_HELP = `branched students (a model.json with Branch / EarlyExit nodes; --teacher optional, default its full network):
  --exit-weights LIST       KD weight per exit: every early exit / non-last branch in model order, then the full
                            output (default 1 each), e.g. 0.3,0.3,1
  --gate-holdout S          share of --data held out of head training to train the gates on (default 0.2)
  --gate-epochs N           gate training epochs (default --epochs)
  --gate-threshold P        τ written into a 2-branch gate: cheap branch when P(it agrees) > τ (default: its own)
  --thresholds LIST         thresholds of the before / after report (default 0.9,0.99,0.999)
  --quantize int8           also an int8 bundle (every piece calibrated on the first 500 --data rows; -o x.edgec),
                            scored per threshold beside the float model`;

type Values = Record<string, string | boolean | string[] | undefined>;

function list(v: string | undefined, flag: string, ok: (x: number) => boolean, what: string): number[] | undefined {
  if (v === undefined) return undefined;
  const xs = v.split(',').map((s) => Number(s));
  if (v.trim() === '' || xs.some((x, i) => v.split(',')[i]!.trim() === '' || !Number.isFinite(x) || !ok(x)))
    throw USAGE(`--${flag} expects ${what}, got '${v}'`);
  return xs;
}

function samples(file: string, labels: string | undefined, bm: BlockModel): Samples {
  const shape = bm.shapes.get(bm.inputs[0]!)!.shape.slice(1);
  const per = shape.reduce((a, b) => a * b, 1);
  const a = loadNpy(file);
  if (!(a.data instanceof Float32Array))
    throw new CliError(
      file,
      `expected float32 samples of [${shape}], found ${a.dtype} (scale uint8 images to x / 255)`,
    );
  if (a.data.length === 0 || a.data.length % per !== 0)
    throw new CliError(file, `${a.data.length} values are not a whole number of samples of [${shape}]`);
  const bad = a.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new CliError(file, `element ${bad}: expected finite values, found ${a.data[bad]}`);
  if (!labels) return { x: a.data };
  const l = loadNpy(labels);
  if (l.data instanceof Float32Array || l.data instanceof Float64Array)
    throw new CliError(labels, `expected integer class labels, found ${l.dtype}`);
  const y = Int32Array.from(l.data as ArrayLike<number | bigint>, (v) => Number(v));
  if (y.length !== a.data.length / per)
    throw new CliError(labels, `${y.length} labels for ${a.data.length / per} samples`);
  return { x: a.data, labels: y };
}

const pct = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(2)} %`);

/** The before / after table, one line per threshold (int8 columns with --quantize). */
export function branchedSummary(r: BranchedReport): string[] {
  const cell = (s: PathScore) =>
    `${pct(s.accuracy).padStart(8)} ${pct(s.agreement).padStart(8)} ${fmtInt(Math.round(s.macs)).padStart(9)} ${pct(s.cheap).padStart(8)}`;
  const q = r.int8 ? ' | int8: top-1    agree      MACs    cheap  route=float' : '';
  return [
    `scored on ${fmtInt(r.samples)} samples (${r.scoredOn}); ` +
      (r.teacherSkipped
        ? `teacher not run (${r.teacherSkipped}): no agreement column`
        : `full network ${pct(r.teacher.accuracy)} at ${fmtInt(Math.round(r.teacher.macs!))} MACs`),
    `threshold | before: top-1    agree      MACs    cheap | after: top-1    agree      MACs    cheap${q}`,
    ...r.thresholds.map(
      (t) =>
        `${String(t.threshold).padEnd(9)} |        ${cell(t.before)} |       ${cell(t.after)}` +
        (t.int8 ? ` |      ${cell(t.int8)} ${pct(t.int8.sameRoute).padStart(11)}` : ''),
    ),
    ...(r.int8
      ? [
          `int8 bundle ${fmtInt(r.int8.bundleBytes)} bytes (float ${fmtInt(r.int8.floatBundleBytes)}), every piece calibrated on ${fmtInt(r.int8.calibration)} training rows`,
        ]
      : []),
  ];
}

/** A branched run's state as a checkpoint: earlier phases' tensors as weights, the phase's trainer as observers. */
function toCheckpoint(s: BranchedState, hash: string, flags: TrainFlags, settings: object): Checkpoint {
  const t = (v: Float32Array): CkptTensor => ({ shape: [v.length], data: v });
  return {
    modelHash: hash,
    step: s.trainer.step,
    epoch: s.trainer.epoch,
    batch: s.trainer.batch,
    rng: new Pcg32(flags.seed).getState(),
    optimizer: { ...flags.optimizer },
    weights: new Map([...s.trained].map(([k, v]) => [k, t(v)])),
    moments: new Map(),
    observers: new Map([...s.trainer.variables].map(([k, v]) => [k, t(v)])),
    extra: { settings, branchedPhase: s.phase },
  };
}

function fromCheckpoint(ck: Checkpoint, file: string): BranchedState {
  const phase = ck.extra?.branchedPhase;
  if (typeof phase !== 'number')
    throw new CheckpointError(file, 'was not written by a branched run (Branch / EarlyExit student)');
  const f32 = (m: Map<string, CkptTensor>) =>
    new Map([...m].map(([k, v]) => [k, Float32Array.from(v.data as ArrayLike<number>)]));
  return {
    phase,
    trainer: { step: ck.step, epoch: ck.epoch, batch: ck.batch, variables: f32(ck.observers) },
    trained: f32(ck.weights),
  };
}

/** `edgec distill` for a branched student; `values` are distill's parsed flags. */
export async function branchedDistill(
  bm: BlockModel,
  studentPath: string,
  out: string,
  values: Values,
  flags: TrainFlags,
): Promise<number> {
  for (const k of ['hint', 'relational', 'val-old', 'augment', 'init'])
    if (values[k] !== undefined && !(Array.isArray(values[k]) && values[k].length === 0))
      throw USAGE(`--${k} is not available for a branched student (Branch / EarlyExit model)`);
  const str = (k: string) => values[k] as string | undefined;
  const ext = extname(out).toLowerCase();
  if (ext !== '.json' && ext !== '.edgec')
    throw USAGE(`${out}: a branched student is written as a .json (+ weights) or a compiled .edgec`);
  const quantize = str('quantize');
  if (quantize !== undefined && quantize !== 'int8') throw USAGE(`--quantize must be int8, got '${quantize}'`);
  if (quantize && ext !== '.edgec') throw USAGE('--quantize int8 writes an int8 bundle: give -o <out.edgec>');
  const exitWeights = list(str('exit-weights'), 'exit-weights', (x) => x >= 0, 'weights ≥ 0 separated by commas');
  const thresholds = list(str('thresholds'), 'thresholds', (x) => x > 0, 'thresholds > 0 separated by commas');
  const [holdout] = list(str('gate-holdout'), 'gate-holdout', (x) => x >= 0 && x < 1, 'a share in [0, 1)') ?? [];
  const [tau] = list(str('gate-threshold'), 'gate-threshold', (x) => x > 0 && x < 1, 'a probability in (0, 1)') ?? [];
  const [gateEpochs] =
    list(str('gate-epochs'), 'gate-epochs', (x) => Number.isInteger(x) && x >= 1, 'a whole number ≥ 1') ?? [];
  const [temperature] = list(str('temperature'), 'temperature', (x) => x > 0, 'a temperature > 0') ?? [4];
  const [alpha] = list(str('alpha'), 'alpha', (x) => x >= 0 && x <= 1, 'a weight in [0, 1]') ?? [];
  if (alpha !== undefined && alpha < 1 && !flags.labels)
    throw USAGE(`--alpha ${alpha} mixes in the labels' cross-entropy: give --labels <y.npy> (or --alpha 1)`);
  const build = str('build');
  if (build !== undefined && build !== 'auto' && build !== 'simd' && build !== 'scalar')
    throw USAGE(`--build must be auto, simd or scalar, got '${build}'`);
  const report = str('report');
  if (report && !existsSync(dirname(resolve(report))))
    throw new CliError(report, 'the report directory does not exist');
  const teacherPath = str('teacher');
  if (teacherPath && extname(teacherPath).toLowerCase() === '.edgec')
    throw USAGE('a branched student needs the teacher as a model file (.onnx / .json), not a bundle');
  if (teacherPath && !existsSync(teacherPath)) throw new CliError(teacherPath, 'the teacher does not exist');
  const teacher = teacherPath ? loadModel(teacherPath, undefined) : undefined;
  const data = samples(flags.data, flags.labels || undefined, bm);
  const validation = flags.val && samples(flags.val.data, flags.val.labels, bm);
  // checkpoints: the flattened graph's structure, and every flag that decides the bytes
  const hash = modelStructureHash(flattenBlocks(bm).graph);
  const settings = {
    ...flags.settings,
    teacher: teacherPath ?? null,
    exitWeights: exitWeights ?? null,
    thresholds: thresholds ?? null,
    holdout: holdout ?? null,
    tau: tau ?? null,
    gateEpochs: gateEpochs ?? null,
    temperature,
    alpha: alpha ?? null,
  };
  let resume: BranchedState | undefined;
  if (flags.resume !== undefined) {
    const file = checkpointFile(flags.resume);
    const ck = loadCheckpoint(flags.resume, { graph: flattenBlocks(bm).graph, file: studentPath });
    const was = JSON.stringify(ck.extra?.settings ?? {}),
      now = JSON.stringify(settings);
    if (was !== now)
      throw new CheckpointError(
        file,
        `was written by a run with other settings (${was}); resume with the flags it started with`,
      );
    resume = fromCheckpoint(ck, file);
    console.log(`resumed from ${file} at phase ${resume.phase}, step ${fmtInt(resume.trainer.step)}`);
  }
  const ckptDir = flags.checkpoint ?? join(dirname(out), `${basename(out, extname(out))}.checkpoint`);
  const save = (s: BranchedState) => saveCheckpoint(ckptDir, toCheckpoint(s, hash, flags, settings));
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  let schedule: ReturnType<TrainFlags['schedule']> | undefined;
  const r = await distillBranched({
    student: bm,
    teacher,
    data,
    validation,
    exitWeights,
    temperature,
    alpha,
    epochs: flags.epochs,
    batch: flags.batch,
    optimizer: flags.optimizer,
    lr: (t, total) => learningRate((schedule ??= flags.schedule(total)), t),
    frozen: flags.frozen,
    gateEpochs,
    gateHoldout: holdout,
    gateThreshold: tau,
    thresholds,
    seed: flags.seed,
    build: build === 'auto' ? undefined : (build as 'simd' | 'scalar' | undefined),
    ...(quantize && { quantize: {} }),
    resume,
    signal: abort.signal,
    onEpoch(e, state) {
      const terms = Object.entries(e.terms)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join(', ');
      console.log(
        `${e.phase} epoch ${e.epoch + 1}/${e.epochs}: loss ${e.loss.toFixed(4)} (${terms}), ${fmtInt(Math.round(e.samplesPerSecond))} samples/s`,
      );
      if (flags.checkpoint !== undefined) save(state());
    },
  }).finally(() => process.off('SIGINT', onSigint));
  if (r.status === 'aborted') {
    const file = save(r.state!);
    console.log(
      `interrupted in phase ${r.state!.phase} at step ${fmtInt(r.state!.trainer.step)}: checkpoint written to ${file}; continue with --resume ${ckptDir}`,
    );
    return 130;
  }
  console.log(
    `${studentPath}: exits ${r.report.exits.map((e) => `${e.name} ×${e.weight}`).join(', ')}; teacher ${alpha === 0 ? 'not run (alpha 0: labels only)' : (teacherPath ?? 'the full network')}; heads on ${fmtInt(r.report.headRows)} rows, gates on ${fmtInt(r.report.gateRows)}`,
  );
  for (const l of branchedSummary(r.report)) console.log(l);
  let written: string[];
  if (ext === '.edgec') {
    writeFileAtomic(out, r.int8 ?? compileBlockModel(r.model).bundle);
    written = [out];
  } else {
    const text = readFileSync(studentPath, 'utf8');
    const json = parseJsonText(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, studentPath) as Record<
      string,
      unknown
    >;
    const bin =
      typeof json.weights === 'string' && json.weights !== '' ? readSidecar(studentPath, json.weights) : undefined;
    const p = patchModelJson(json, bin, r.weights, studentPath);
    const binName = `${basename(out, extname(out))}.bin`;
    if (p.bin) p.json.weights = binName;
    written = writeFilesAtomic(dirname(resolve(out)), (tmp) => {
      writeFileSync(join(tmp, basename(out)), `${JSON.stringify(p.json, null, 1)}\n`);
      if (p.bin) writeFileSync(join(tmp, binName), p.bin);
    });
  }
  if (report) {
    writeFileAtomic(report, new TextEncoder().encode(`${JSON.stringify(r.report, null, 2)}\n`));
    written.push(report);
  }
  console.log(`${out}: wrote ${written.map((w) => basename(w)).join(', ')}`);
  return 0;
}
