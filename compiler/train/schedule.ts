// Learning-rate schedules: constant / step / cosine, each with an optional linear warm-up; pure
// functions of the optimiser step (0-based), so a resumed run recomputes the same rate from the
// checkpoint's step. Plus the `--schedule …` flags of `edgec train` (parsing and usage errors).
// Rates are float64; the training plan rounds them to float32 when it hands them to the wasm.
import { UsageError } from '../cli/errors.ts';

export const SCHEDULE_KINDS = ['constant', 'step', 'cosine'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export interface Schedule {
  kind: ScheduleKind;
  /** Peak rate: reached at the end of the warm-up, held by 'constant'. */
  lr: number;
  /** Warm-up steps (0 = none): step t < warmup uses lr · (t + 1) / warmup. */
  warmup: number;
  /** 'step': multiply by `gamma` every `stepSize` steps after the warm-up. */
  stepSize?: number;
  gamma?: number;
  /** 'cosine': total steps of the run (warm-up included) and the floor the rate decays to. */
  totalSteps?: number;
  minLr?: number;
}

/**
 * The learning rate at optimiser step `step` (0 = the first update). After the warm-up the decay
 * runs on t = step − warmup: step → lr · gamma^floor(t / stepSize); cosine → minLr + (lr − minLr) ·
 * (1 + cos(π · t / (totalSteps − warmup))) / 2, held at minLr from totalSteps on.
 */
export function learningRate(s: Schedule, step: number): number {
  if (!Number.isInteger(step) || step < 0)
    throw new RangeError(`learningRate: step must be an integer ≥ 0, got ${step}`);
  if (step < s.warmup) return (s.lr * (step + 1)) / s.warmup;
  const t = step - s.warmup;
  switch (s.kind) {
    case 'constant':
      return s.lr;
    case 'step':
      return s.lr * (s.gamma ?? 0.1) ** Math.floor(t / s.stepSize!);
    case 'cosine': {
      const span = s.totalSteps! - s.warmup;
      const minLr = s.minLr ?? 0;
      if (t >= span) return minLr;
      return minLr + ((s.lr - minLr) * (1 + Math.cos((Math.PI * t) / span))) / 2;
    }
  }
}

export const SCHEDULE_FLAGS = {
  lr: { type: 'string' },
  schedule: { type: 'string' },
  warmup: { type: 'string' },
  'step-size': { type: 'string' },
  gamma: { type: 'string' },
  'min-lr': { type: 'string' },
} as const;

export const SCHEDULE_HELP = `  --lr F                  peak learning rate (default: the optimiser's)
  --schedule KIND         constant (default) | step | cosine (decays over the whole run to --min-lr)
  --warmup N              linear warm-up over the first N steps: step t uses lr · (t + 1) / N (default 0)
  --step-size N           step schedule: multiply the rate by --gamma every N steps after the warm-up
  --gamma F               step schedule: the factor (default 0.1)
  --min-lr F              cosine schedule: the final rate (default 0)`;

export interface ScheduleFlagValues {
  lr?: string;
  schedule?: string;
  warmup?: string;
  'step-size'?: string;
  gamma?: string;
  'min-lr'?: string;
}

function number(v: string, flag: string, command: string, check: (x: number) => boolean, what: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || !check(x))
    throw new UsageError(`--${flag} expects ${what}, got '${v}'`, command);
  return x;
}

/**
 * Checks the schedule flags and builds the Schedule of a run of `totalSteps` optimiser steps.
 * `defaultLr` is the optimiser's default rate; `command` names the command in usage errors.
 */
export function parseScheduleFlags(
  v: ScheduleFlagValues,
  opts: { totalSteps: number; defaultLr: number; command?: string },
): Schedule {
  const cmd = opts.command ?? 'train';
  const kind = (v.schedule ?? 'constant') as ScheduleKind;
  if (!SCHEDULE_KINDS.includes(kind))
    throw new UsageError(`--schedule must be ${SCHEDULE_KINDS.join(', ')}, got '${v.schedule}'`, cmd);
  const lr = v.lr === undefined ? opts.defaultLr : number(v.lr, 'lr', cmd, (x) => x > 0, 'a rate > 0');
  const warmup =
    v.warmup === undefined
      ? 0
      : number(v.warmup, 'warmup', cmd, (x) => Number.isInteger(x) && x >= 0, 'a whole number of steps ≥ 0');
  const only = (flag: 'step-size' | 'gamma' | 'min-lr', k: ScheduleKind) => {
    if (v[flag] !== undefined && kind !== k) throw new UsageError(`--${flag} applies to --schedule ${k} only`, cmd);
  };
  only('step-size', 'step');
  only('gamma', 'step');
  only('min-lr', 'cosine');
  const s: Schedule = { kind, lr, warmup };
  if (kind === 'step') {
    if (v['step-size'] === undefined) throw new UsageError('--schedule step needs --step-size N', cmd);
    s.stepSize = number(
      v['step-size'],
      'step-size',
      cmd,
      (x) => Number.isInteger(x) && x >= 1,
      'a whole number of steps ≥ 1',
    );
    s.gamma = v.gamma === undefined ? 0.1 : number(v.gamma, 'gamma', cmd, (x) => x > 0 && x <= 1, 'a factor in (0, 1]');
  }
  if (kind === 'cosine') {
    s.totalSteps = opts.totalSteps;
    s.minLr =
      v['min-lr'] === undefined
        ? 0
        : number(v['min-lr'], 'min-lr', cmd, (x) => x >= 0 && x <= lr, `a rate in [0, ${lr}]`);
    if (warmup >= opts.totalSteps) {
      throw new UsageError(
        `--warmup ${warmup} leaves no steps to decay over (the run has ${opts.totalSteps} steps)`,
        cmd,
      );
    }
  }
  return s;
}

/** One line for the training log, e.g. `cosine lr 0.1 → 0 over 1,000 steps, warm-up 100`. */
export function describeSchedule(s: Schedule): string {
  const warm = s.warmup > 0 ? `, warm-up ${s.warmup}` : '';
  switch (s.kind) {
    case 'constant':
      return `constant lr ${s.lr}${warm}`;
    case 'step':
      return `step lr ${s.lr} × ${s.gamma} every ${s.stepSize} steps${warm}`;
    case 'cosine':
      return `cosine lr ${s.lr} → ${s.minLr ?? 0} over ${s.totalSteps!.toLocaleString('en-US')} steps${warm}`;
  }
}
