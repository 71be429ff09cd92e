// The `edgec compile --quantize int8` flags: parsing and checks (usage errors), reading the calibration
// .npy, the progress bar (stderr, TTY only) and the one-line report of what stayed float.
import { existsSync } from 'node:fs';
import cliProgress from 'cli-progress';
import type { Graph } from '../ir/graph.ts';
import { compileGraph, type CompileOptions, type CompileResult } from '../compile.ts';
import { loadNpy } from '../io/npy.ts';
import { toModelDtype } from '../cli/run.ts';
import { CliError, UsageError, listNames } from '../cli/errors.ts';
import {
  CALIBRATION_METHODS,
  compileQuantized,
  splitSamples,
  type CalibrationMethod,
  type QuantizeOptions,
  type QuantizeReport,
} from './index.ts';
import type { CalibrationTarget, Samples } from './calibrate.ts';

export const QUANTIZE_FLAGS = {
  quantize: { type: 'string' },
  calibration: { type: 'string' },
  calibrate: { type: 'string' },
  'keep-float': { type: 'string', multiple: true },
  'auto-mixed': { type: 'string' },
  'int8-arithmetic': { type: 'string' },
} as const;

export const QUANTIZE_HELP = `  --quantize int8         post-training quantisation (int8 weights per channel, int8 activations)
  --calibration FILE      .npy of calibration samples [N, ...input shape]; not needed for QDQ/QLinear
                          ONNX models, which keep their own scales and zero points
  --calibrate METHOD      minmax (default) | percentile (99.99 % per side) | entropy (KL, as TensorRT)
  --keep-float N1,N2,…    keep these (optimised-graph) nodes float32 (repeatable)
  --auto-mixed DROP       keep float the fewest most sensitive layers so that top-1 agreement with
                          the float model on the calibration set drops at most DROP points
  --int8-arithmetic A     QDQ/QLinear ONNX models: onnxruntime (default; float32 requantisation,
                          onnxruntime's output bytes) | edgec (fixed point, no float op: MCUs without an FPU)`;

export interface QuantizeFlagValues {
  quantize?: string;
  calibration?: string;
  calibrate?: string;
  'keep-float'?: string[];
  'auto-mixed'?: string;
  'int8-arithmetic'?: string;
}

/** Checks the flags; undefined when --quantize is absent (and no other quantisation flag is given). */
export function parseQuantizeFlags(v: QuantizeFlagValues):
  | {
      calibration?: string;
      method: CalibrationMethod;
      keepFloat: string[];
      autoMixed?: number;
      arithmetic?: QuantizeOptions['arithmetic'];
    }
  | undefined {
  if (v.quantize === undefined) {
    for (const f of ['calibration', 'calibrate', 'keep-float', 'auto-mixed', 'int8-arithmetic'] as const) {
      if (v[f] !== undefined) throw new UsageError(`--${f} needs --quantize int8`, 'compile');
    }
    return undefined;
  }
  if (v.quantize !== 'int8') throw new UsageError(`--quantize must be int8, got '${v.quantize}'`, 'compile');
  const method = (v.calibrate ?? 'minmax') as CalibrationMethod;
  if (!CALIBRATION_METHODS.includes(method)) {
    throw new UsageError(`--calibrate must be ${CALIBRATION_METHODS.join(', ')}, got '${v.calibrate}'`, 'compile');
  }
  if (v.calibrate !== undefined && v.calibration === undefined)
    throw new UsageError('--calibrate needs --calibration <x.npy>', 'compile');
  const keepFloat = (v['keep-float'] ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  let autoMixed: number | undefined;
  if (v['auto-mixed'] !== undefined) {
    autoMixed = Number(v['auto-mixed']);
    if (v['auto-mixed'] === '' || !Number.isFinite(autoMixed) || autoMixed < 0 || autoMixed > 100) {
      throw new UsageError(
        `--auto-mixed expects a drop in percentage points (0..100), got '${v['auto-mixed']}'`,
        'compile',
      );
    }
    if (v.calibration === undefined) throw new UsageError('--auto-mixed needs --calibration <x.npy>', 'compile');
  }
  const arithmetic = v['int8-arithmetic'];
  if (arithmetic !== undefined && arithmetic !== 'onnxruntime' && arithmetic !== 'edgec')
    throw new UsageError(`--int8-arithmetic must be onnxruntime or edgec, got '${arithmetic}'`, 'compile');
  return { calibration: v.calibration, method, keepFloat, autoMixed, ...(arithmetic ? { arithmetic } : {}) };
}

/** Progress on stderr while calibrating / measuring sensitivity, only when stderr is a terminal. */
function progressBar(): { progress: QuantizeOptions['progress']; stop: () => void } {
  if (!process.stderr.isTTY) return { progress: undefined, stop: () => {} };
  let bar: InstanceType<typeof cliProgress.SingleBar> | undefined;
  let phase = '';
  return {
    progress: (p, done, total) => {
      if (p !== phase) {
        bar?.stop();
        phase = p;
        bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: `${p} [{bar}] {value}/{total}` },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0);
      }
      bar!.increment();
    },
    stop: () => bar?.stop(),
  };
}

export function describeReport(r: QuantizeReport): string {
  const how =
    r.mode === 'calibrated'
      ? `calibrated ${r.method} on ${r.samples} samples`
      : r.mode === 'learned'
        ? 'ranges learned in quantisation-aware training'
        : "the model's own scales (pre-quantised)";
  const fl = r.floatNodes.length ? `; float: ${listNames(r.floatNodes)}` : '';
  const auto = r.autoFloat.length ? `; --auto-mixed kept float: ${listNames(r.autoFloat)}` : '';
  const agree = r.agreement !== undefined ? `; top-1 agreement with float ${(100 * r.agreement).toFixed(1)} %` : '';
  return [
    `int8: ${r.int8Nodes.length} nodes int8 (${how})${fl}${auto}${agree}`,
    ...r.warnings.map((w) => `warning: ${w}`),
  ].join('\n');
}

/** The one reader of --calibration (plain, --variants and block models): the samples of the model's one input. */
export function loadCalibration(path: string, model: CalibrationTarget): Samples {
  if (!existsSync(path)) throw new CliError(path, 'no such file');
  const arr = loadNpy(path);
  // the dtype check `edgec run` makes on its input (uint8 images into a float model are refused, with a hint)
  // (calibration runs the float model: its input is float32)
  const input = model.inputs.length === 1 ? model.tensors.get(model.inputs[0]!) : undefined;
  const data = input
    ? toModelDtype(arr, { name: model.inputs[0]!, shape: [...input.shape], dtype: 'float32' }, path)
    : arr.data;
  return splitSamples(model, data as ArrayLike<number>, arr.shape, path);
}

export async function compileWithQuantizeFlags(
  graph: Graph,
  flags: NonNullable<ReturnType<typeof parseQuantizeFlags>>,
  opts: CompileOptions,
): Promise<CompileResult & { report: QuantizeReport }> {
  const q: QuantizeOptions = {
    method: flags.method,
    keepFloat: flags.keepFloat,
    autoMixed: flags.autoMixed,
    ...(flags.arithmetic ? { arithmetic: flags.arithmetic } : {}),
  };
  if (flags.calibration !== undefined) q.samples = loadCalibration(flags.calibration, graph);
  const bar = progressBar();
  try {
    return await compileQuantized(graph, { ...q, progress: bar.progress }, opts);
  } finally {
    bar.stop();
  }
}

export type QuantizeFlags = NonNullable<ReturnType<typeof parseQuantizeFlags>>;

/** The bundle `edgec compile` makes of `g` (int8 with the --quantize flags). */
export async function bundleOf(
  g: Graph,
  quantize: QuantizeFlags | undefined,
  opts: CompileOptions = {},
): Promise<Uint8Array> {
  const o: CompileOptions = { target: 'simd', ...opts };
  return (quantize ? await compileWithQuantizeFlags(g, quantize, o) : compileGraph(g, o)).bundle;
}
