// The flags of `edgec train` (and of every command that trains: `edgec distill` reuses them): the
// parseArgs option table, the help text and one parser that turns the raw values into checked
// TrainFlags (usage errors name the flag and what it expects). The schedule needs the run's step
// count, known only once the data is open, so TrainFlags carries a function that builds it.
import { availableParallelism } from 'node:os';
import type { AugmentOptions } from '../train/data/augment.ts';
import { NO_AUGMENT } from '../train/data/augment.ts';
import { parseAugment } from '../train/data/loader.ts';
import {
  parseScheduleFlags,
  SCHEDULE_FLAGS,
  SCHEDULE_HELP,
  type Schedule,
  type ScheduleFlagValues,
} from '../train/schedule.ts';
import type { OptimizerOptions } from '../train/training-graph.ts';
import { UsageError } from './errors.ts';

export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
export type OptimizerKind = (typeof OPTIMIZERS)[number];
export const INITS = ['he', 'xavier'] as const;
export type InitKind = (typeof INITS)[number];

/** The optimisers' default peak rates (PyTorch has none for SGD; 0.01 is its tutorials' choice). */
export const DEFAULT_LR: Record<OptimizerKind, number> = { sgd: 0.01, adam: 0.001, adamw: 0.001 };

export const TRAIN_FLAGS = {
  data: { type: 'string' },
  labels: { type: 'string' },
  'val-data': { type: 'string' },
  'val-labels': { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  optimizer: { type: 'string' },
  momentum: { type: 'string' },
  nesterov: { type: 'boolean' },
  'weight-decay': { type: 'string' },
  'clip-norm': { type: 'string' },
  'label-smoothing': { type: 'string' },
  augment: { type: 'string' },
  init: { type: 'string' },
  seed: { type: 'string' },
  freeze: { type: 'string', multiple: true },
  checkpoint: { type: 'string' },
  resume: { type: 'string' },
  threads: { type: 'string' },
  batchnorm: { type: 'string' },
  ...SCHEDULE_FLAGS,
} as const;

export const TRAIN_FLAGS_HELP = `  --data FILE             training samples .npy [N, ...model input without its batch axis]
  --labels FILE           integer class labels .npy [N] (or [N,1]) in [0, classes)
  --val-data FILE         validation samples, scored after every epoch (with --val-labels)
  --val-labels FILE       validation labels
  --epochs N              passes over the training data (default 1)
  --batch B               samples per step (default 32); the last partial batch of an epoch is dropped
  --optimizer KIND        sgd (default) | adam | adamw
  --momentum F            sgd: momentum (default 0)
  --nesterov              sgd: Nesterov momentum (needs --momentum > 0)
  --weight-decay F        sgd and adam: L2 added to the gradient; adamw: decoupled (default 0; adamw 0.01)
  --clip-norm F           clip the gradients to this global L2 norm before each update
  --label-smoothing F     cross-entropy label smoothing in [0, 1) (default 0)
${SCHEDULE_HELP}
                          (--schedule step:N[:GAMMA] = step --step-size N --gamma GAMMA)
  --augment LIST          image augmentation per sample: crop (pad 4, random window), crop=N, flip
  --init he|xavier        re-initialise the trained weights (uniform, biases 0) from --seed before training
  --seed N                seed of shuffling, augmentation and --init (default 0)
  --freeze N1,N2,…        nodes whose weights stay fixed (gradients still flow through them; repeatable)
  --checkpoint DIR        write DIR/checkpoint.edgeckpt after every epoch and on Ctrl-C
  --resume DIR            continue the run that wrote DIR's checkpoint (same model and flags)
  --threads N             threads computing the batch's shard gradients (default: all cores); the weights do not depend on N
  --batchnorm MODE        BatchNorm nodes: train (batch statistics; gamma, beta and the running statistics learn),
                          frozen (fixed affine of the running statistics) or fold (into the conv / dense before it);
                          default train with --init (from scratch), frozen otherwise (fine-tuning);
                          edgec distill and compress --distill: fold only`;

export interface TrainFlagValues extends ScheduleFlagValues {
  data?: string;
  labels?: string;
  'val-data'?: string;
  'val-labels'?: string;
  epochs?: string;
  batch?: string;
  optimizer?: string;
  momentum?: string;
  nesterov?: boolean;
  'weight-decay'?: string;
  'clip-norm'?: string;
  'label-smoothing'?: string;
  augment?: string;
  init?: string;
  seed?: string;
  freeze?: string[];
  checkpoint?: string;
  resume?: string;
  threads?: string;
  batchnorm?: string;
}

export const BATCHNORM_MODES = ['train', 'frozen', 'fold'] as const;
export type BatchNormMode = (typeof BATCHNORM_MODES)[number];

export interface TrainFlags {
  data: string;
  labels: string;
  val?: { data: string; labels: string };
  epochs: number;
  batch: number;
  optimizer: OptimizerOptions;
  clipNorm?: number;
  labelSmoothing: number;
  augment: AugmentOptions;
  init?: InitKind;
  seed: number;
  frozen: string[];
  checkpoint?: string;
  resume?: string;
  /** Threads of the data-parallel step (runtime/train-parallel.ts); not a setting: the bytes do not depend on it. */
  threads: number;
  /** --batchnorm; undefined: the command's default (`edgec train`: train with --init, else frozen). */
  batchNorm?: BatchNormMode;
  /** The learning-rate schedule of a run of `totalSteps` optimiser steps (usage errors as the flags'). */
  schedule(totalSteps: number): Schedule;
  /** The settings that decide the run's bytes, as JSON (checkpoints compare them on --resume). */
  settings: Record<string, unknown>;
}

function num(v: string, flag: string, cmd: string, ok: (x: number) => boolean, what: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || !ok(x))
    throw new UsageError(`--${flag} expects ${what}, got '${v}'`, cmd);
  return x;
}
const whole = (min: number) => (x: number) => Number.isSafeInteger(x) && x >= min;

/**
 * Checks the train flags of `command` (for its usage errors). `needData` false lets a command
 * take its samples from elsewhere (then --data / --labels are optional).
 */
export function parseTrainFlags(v: TrainFlagValues, opts: { command?: string; needData?: boolean } = {}): TrainFlags {
  const cmd = opts.command ?? 'train';
  if ((opts.needData ?? true) && !v.data) throw new UsageError('missing --data <x.npy>', cmd);
  if ((opts.needData ?? true) && !v.labels) throw new UsageError('missing --labels <y.npy>', cmd);
  if ((v['val-data'] === undefined) !== (v['val-labels'] === undefined)) {
    throw new UsageError(
      v['val-data'] === undefined ? '--val-labels needs --val-data <x.npy>' : '--val-data needs --val-labels <y.npy>',
      cmd,
    );
  }
  const epochs = v.epochs === undefined ? 1 : num(v.epochs, 'epochs', cmd, whole(1), 'a whole number ≥ 1');
  const batch = v.batch === undefined ? 32 : num(v.batch, 'batch', cmd, whole(1), 'a whole number ≥ 1');
  const kind = (v.optimizer ?? 'sgd') as OptimizerKind;
  if (!OPTIMIZERS.includes(kind))
    throw new UsageError(`--optimizer must be ${OPTIMIZERS.join(', ')}, got '${v.optimizer}'`, cmd);
  const weightDecay =
    v['weight-decay'] === undefined
      ? undefined
      : num(v['weight-decay'], 'weight-decay', cmd, (x) => x >= 0, 'a factor ≥ 0');
  let optimizer: OptimizerOptions;
  if (kind === 'sgd') {
    const momentum =
      v.momentum === undefined ? 0 : num(v.momentum, 'momentum', cmd, (x) => x >= 0 && x < 1, 'a factor in [0, 1)');
    if (v.nesterov && momentum === 0) throw new UsageError('--nesterov needs --momentum F > 0', cmd);
    optimizer = { kind, momentum, nesterov: v.nesterov ?? false, weightDecay: weightDecay ?? 0 };
  } else {
    if (v.momentum !== undefined || v.nesterov)
      throw new UsageError(
        `--${v.momentum !== undefined ? 'momentum' : 'nesterov'} applies to --optimizer sgd only`,
        cmd,
      );
    optimizer = { kind, weightDecay: weightDecay ?? (kind === 'adamw' ? 0.01 : 0) };
  }
  const clipNorm =
    v['clip-norm'] === undefined ? undefined : num(v['clip-norm'], 'clip-norm', cmd, (x) => x > 0, 'a norm > 0');
  const labelSmoothing =
    v['label-smoothing'] === undefined
      ? 0
      : num(v['label-smoothing'], 'label-smoothing', cmd, (x) => x >= 0 && x < 1, 'a value in [0, 1)');
  const augment = v.augment === undefined ? NO_AUGMENT : parseAugment(v.augment, cmd);
  const init = v.init as InitKind | undefined;
  if (init !== undefined && !INITS.includes(init))
    throw new UsageError(`--init must be ${INITS.join(' or ')}, got '${v.init}'`, cmd);
  const seed = v.seed === undefined ? 0 : num(v.seed, 'seed', cmd, whole(0), 'a whole number ≥ 0');
  const threads =
    v.threads === undefined ? availableParallelism() : num(v.threads, 'threads', cmd, whole(1), 'a whole number ≥ 1');
  const batchNorm = v.batchnorm as BatchNormMode | undefined;
  if (batchNorm !== undefined && !BATCHNORM_MODES.includes(batchNorm))
    throw new UsageError(`--batchnorm must be ${BATCHNORM_MODES.join(', ')}, got '${v.batchnorm}'`, cmd);
  // distill and compress --distill fold BatchNorm before training; train/frozen there would be a flag ignored
  if (batchNorm !== undefined && batchNorm !== 'fold' && cmd !== 'train')
    throw new UsageError(
      `--batchnorm ${batchNorm}: edgec ${cmd} folds BatchNorm before training (only 'fold' here)`,
      cmd,
    );
  const frozen = (v.freeze ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');

  // `--schedule step:N[:GAMMA]` is shorthand for `--schedule step --step-size N [--gamma GAMMA]`
  const sv: ScheduleFlagValues = Object.fromEntries(
    Object.keys(SCHEDULE_FLAGS)
      .filter((k) => v[k as keyof ScheduleFlagValues] !== undefined)
      .map((k) => [k, v[k as keyof ScheduleFlagValues]]),
  );
  const short = /^step:([^:]*)(?::(.*))?$/.exec(v.schedule ?? '');
  if (short) {
    if (v['step-size'] !== undefined || (short[2] !== undefined && v.gamma !== undefined)) {
      throw new UsageError(
        `--schedule ${v.schedule} already gives the step size${short[2] !== undefined ? ' and gamma' : ''}`,
        cmd,
      );
    }
    Object.assign(sv, {
      schedule: 'step',
      'step-size': short[1],
      ...(short[2] !== undefined ? { gamma: short[2] } : {}),
    });
  }
  const defaultLr = DEFAULT_LR[kind];
  const schedule = (totalSteps: number) => parseScheduleFlags(sv, { totalSteps, defaultLr, command: cmd });
  schedule(Number.MAX_SAFE_INTEGER); // every check that does not depend on the run's length, now
  const settings = {
    batch,
    epochs,
    seed,
    optimizer,
    clipNorm: clipNorm ?? null,
    labelSmoothing,
    augment,
    init: init ?? null,
    frozen,
    schedule: { ...sv, lr: sv.lr ?? String(defaultLr) },
  };
  return {
    data: v.data ?? '',
    labels: v.labels ?? '',
    val: v['val-data'] ? { data: v['val-data'], labels: v['val-labels']! } : undefined,
    epochs,
    batch,
    optimizer,
    clipNorm,
    labelSmoothing,
    augment,
    init,
    seed,
    frozen,
    checkpoint: v.checkpoint,
    resume: v.resume,
    threads,
    batchNorm,
    schedule,
    settings,
  };
}
