// `edgec compress --distill`: recovery of the compressed model by distillation from the original (the
// teacher), through the distill API (compiler/distill/). The flags are `edgec train`'s (data, schedule,
// optimiser; compiler/cli/train-flags.ts) plus --temperature / --alpha; compress's --val-data/--val-labels
// are the validation set scored after every epoch. The recovered model is float; --quantize int8 then
// quantises it post-training like any other compress output.
import { distill, type DistillReport } from '../distill/index.ts';
import type { Graph } from '../ir/graph.ts';
import { openDataset, type Dataset } from '../train/data/dataset.ts';
import { describeSchedule, learningRate } from '../train/schedule.ts';
import { CliError, UsageError } from './errors.ts';
import { parseTrainFlags, TRAIN_FLAGS, type TrainFlags, type TrainFlagValues } from './train-flags.ts';

const { init: _init, checkpoint: _ck, resume: _resume, 'val-data': _vd, 'val-labels': _vl, ...RECOVERY } = TRAIN_FLAGS;
/** parseArgs options of --distill (compress owns --val-data / --val-labels). */
export const DISTILL_FLAGS = { ...RECOVERY, temperature: { type: 'string' }, alpha: { type: 'string' } } as const;

export const DISTILL_HELP = `recovery (--distill: the original model is the teacher; flags as edgec train's):
  --distill                 train the compressed model on α·T²·KL(teacher ‖ student) + (1 − α)·CE(labels)
  --data FILE               training samples .npy; --labels FILE: their classes (without: α = 1, data only)
  --temperature T           softmax temperature (default 4); --alpha A in [0, 1] (default 0.7, 1 without labels)
  --epochs N, --batch B, --optimizer sgd|adam|adamw, --lr F, --schedule constant|step|cosine, --warmup N,
  --momentum, --nesterov, --weight-decay, --clip-norm, --label-smoothing, --augment, --seed, --freeze,
  --threads, --step-size, --gamma, --min-lr: as edgec train (see edgec train --help)`;

export interface DistillValues extends TrainFlagValues {
  distill?: boolean;
  temperature?: string;
  alpha?: string;
}

export interface RecoveryPlan {
  flags: TrainFlags;
  temperature?: number;
  alpha?: number;
}

/** Checks the recovery flags before any work (usage errors); undefined without --distill. */
export function parseDistillFlags(v: DistillValues): RecoveryPlan | undefined {
  const given = Object.keys(DISTILL_FLAGS).filter((k) => v[k as keyof DistillValues] !== undefined);
  if (!v.distill) {
    if (given.length > 0) throw new UsageError(`--${given[0]} is a recovery flag: give --distill too`, 'compress');
    return undefined;
  }
  if (!v.data) throw new UsageError('--distill trains on data: give --data x.npy (and --labels y.npy)', 'compress');
  const flags = parseTrainFlags(
    { ...v, 'val-data': undefined, 'val-labels': undefined },
    {
      command: 'compress',
      needData: false,
    },
  );
  const num = (flag: string, text: string | undefined, ok: (x: number) => boolean, what: string) => {
    if (text === undefined) return undefined;
    const x = Number(text);
    if (text.trim() === '' || !Number.isFinite(x) || !ok(x))
      throw new UsageError(`--${flag} expects ${what}, got '${text}'`, 'compress');
    return x;
  };
  const temperature = num('temperature', v.temperature, (x) => x > 0, 'a temperature > 0');
  const alpha = num('alpha', v.alpha, (x) => x >= 0 && x <= 1, 'a weight in [0, 1]');
  if (alpha !== undefined && alpha < 1 && !v.labels)
    throw new UsageError(`--alpha ${alpha} mixes in the labels' cross-entropy: give --labels y.npy`, 'compress');
  return { flags, temperature, alpha };
}

function open(file: string, labels: string | undefined, g: Graph, classes: number): Dataset {
  const x = g.inputs[0]!;
  try {
    return openDataset({ data: file, labels, input: { name: x, shape: g.tensors.get(x)!.shape }, classes });
  } catch (e) {
    if (e instanceof RangeError) throw new CliError(file, e.message);
    throw e;
  }
}

/** Trains `student` from `teacher`; returns the recovered float model, the distill report and its lines. */
export async function recover(
  teacher: Graph,
  student: Graph,
  plan: RecoveryPlan,
  val: { data: string; labels: string } | undefined,
): Promise<{ model: Graph; report: DistillReport; lines: string[] }> {
  const f = plan.flags;
  const out = teacher.tensors.get(teacher.outputs[0]!)!;
  const classes = out.shape.at(-1)!;
  const data = open(f.data, f.labels || undefined, student, classes);
  const validation = val && open(val.data, val.labels, student, classes);
  const lines: string[] = [];
  try {
    const r = await distill({
      teacher,
      student,
      data,
      labelled: f.labels !== '',
      validation,
      temperature: plan.temperature,
      alpha: plan.alpha,
      epochs: f.epochs,
      batch: f.batch,
      optimizer: f.optimizer,
      lr: (t, n) => learningRate(f.schedule(n), t),
      clipNorm: f.clipNorm,
      labelSmoothing: f.labelSmoothing,
      frozen: f.frozen,
      augment: f.augment,
      seed: f.seed,
      threads: f.threads,
      measure: false,
      onStart(s) {
        lines.push(
          `distill: ${data.size} samples, ${s.stepsPerEpoch} steps per epoch × ${f.epochs} = ${s.totalSteps}; loss ${s.terms.join(' + ')}; ${f.optimizer.kind}, ${describeSchedule(f.schedule(s.totalSteps))}`,
        );
      },
      onEpoch(e) {
        const line = `distill epoch ${e.epoch + 1}/${f.epochs}: loss ${e.loss.toFixed(4)}${e.validation === undefined ? '' : `, val top-1 ${(100 * e.validation).toFixed(2)} %`} (${e.seconds.toFixed(1)} s)`;
        lines.push(line);
        console.error(line);
      },
    });
    return { model: r.model, report: r.report, lines };
  } finally {
    data.close();
    validation?.close();
  }
}
