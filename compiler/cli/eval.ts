// `edgec eval`: accuracy of a bundle (or a model, compiled in memory like `edgec compile`) on
// labelled .npy data, run sample by sample through edgec's own runtime. Integer labels [N] → top-1
// and top-5 (top-5 only with ≥ 5 classes; ranking by value, ties to the lower class index, as the
// executor's argmax); float labels of the output's shape → mean squared error (float64 sums).
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import cliProgress from 'cli-progress';
import { load, type Model } from '../../runtime/node.ts';
import { compileGraph } from '../compile.ts';
import { loadNpy, NpyError, type NpyArray } from '../io/npy.ts';
import { compileWithQuantizeFlags, parseQuantizeFlags, QUANTIZE_FLAGS } from '../quantize/cli.ts';
import { parseCommand, splitNamed } from './args.ts';
import { loadBlockModel } from './branches.ts';
import { loadModel, modelFiles, parseDims, sourceHash } from './compile.ts';
import { CliError, oneLine, UsageError } from './errors.ts';
import { sampleCount, toModelDtype } from './run.ts';

export const EVAL_HELP = `usage: edgec eval <bundle.edgec|model.json|model.onnx|model.tflite> --input <x.npy> --labels <y.npy> [options]

Runs the samples through edgec's runtime and prints top-1 / top-5 accuracy (integer class labels
[N]; top-5 with at least 5 classes) or the mean squared error (float labels [N, ...output shape]).
A model file is compiled in memory first, with the same options as 'edgec compile'.

options:
  -i, --input [NAME=]FILE   input .npy, N samples (inputs without a name are taken in the model's order)
  --labels FILE             labels .npy: integer classes [N] or [N,1], or float targets
  --output-name NAME        the output to score (default the model's first)
  --build auto|simd|scalar  runtime build (default auto)
  --target simd|scalar      models only: the build the plan is tuned for (default simd)
  --shape NAME=DIMS         models only: fix a dynamic ONNX input shape (repeatable)
  --quantize int8           models only: evaluate the int8 bundle 'edgec compile --quantize int8' makes
  --calibration FILE        (with --quantize) calibration samples; --calibrate, --keep-float and
                            --auto-mixed as for 'edgec compile'
  -h, --help                show this help`;

export interface EvalResult {
  samples: number;
  top1?: number;
  top5?: number;
  classes?: number;
  mse?: number;
}

/** Rank of class `label` among `scores` (0 = the argmax): classes scoring higher, ties to lower indices. */
export function rankOf(scores: ArrayLike<number>, label: number): number {
  const v = scores[label]!;
  let rank = 0;
  for (let k = 0; k < scores.length; k++) {
    const s = scores[k]!;
    if (s > v || (s === v && k < label) || (Number.isNaN(v) && !Number.isNaN(s))) rank++;
  }
  return rank;
}

/** Checks labels for N samples of an output of `per` values before anything runs; errors name `labelFile`. */
export function checkLabels(labels: NpyArray, n: number, per: number, labelFile: string): void {
  const shape = `[${labels.shape.join(',')}]`;
  if (labels.dtype === 'float32' || labels.dtype === 'float64') {
    if (labels.data.length !== n * per || labels.shape[0] !== n) {
      throw new NpyError(
        labelFile,
        `float targets ${shape} do not match ${n} samples of the output's ${per} values (expected [${n}, …] with ${n * per} values)`,
      );
    }
    return;
  }
  if (!(labels.shape.length === 1 || (labels.shape.length === 2 && labels.shape[1] === 1))) {
    throw new NpyError(labelFile, `class labels must have shape [N] or [N,1], found ${shape}`);
  }
  if (labels.shape[0] !== n) throw new NpyError(labelFile, `holds ${labels.shape[0]} labels for ${n} samples`);
  for (let i = 0; i < n; i++) {
    const y = Number(labels.data[i]!);
    if (!(Number.isInteger(y) && y >= 0 && y < per))
      throw new NpyError(
        labelFile,
        `label ${i} is ${labels.data[i]}, outside the model's ${per} classes [0, ${per - 1}]`,
      );
  }
}

/** Scores `outputs` (N samples of `per` values, row-major) against `labels`; errors name `labelFile`. */
export function scoreOutputs(
  outputs: ArrayLike<number>,
  per: number,
  n: number,
  labels: NpyArray,
  labelFile: string,
): EvalResult {
  checkLabels(labels, n, per, labelFile);
  if (labels.dtype === 'float32' || labels.dtype === 'float64') {
    let sum = 0;
    const d = labels.data as Float32Array | Float64Array;
    for (let i = 0; i < d.length; i++) sum += (outputs[i]! - d[i]!) ** 2;
    return { samples: n, mse: sum / d.length };
  }
  let top1 = 0;
  let top5 = 0;
  for (let i = 0; i < n; i++) {
    const y = Number(labels.data[i]!);
    const r = rankOf(Array.prototype.slice.call(outputs, i * per, (i + 1) * per) as number[], y);
    if (r === 0) top1++;
    if (r < 5) top5++;
  }
  return { samples: n, classes: per, top1, ...(per >= 5 ? { top5 } : {}) };
}

export function describeEval(r: EvalResult): string {
  const pct = (k: number) => `${((100 * k) / r.samples).toFixed(2)} % (${k}/${r.samples})`;
  if (r.mse !== undefined) return `${r.samples} samples, MSE ${r.mse.toPrecision(6)}`;
  return `${r.samples} samples, ${r.classes} classes: top-1 ${pct(r.top1!)}${r.top5 !== undefined ? `, top-5 ${pct(r.top5)}` : ''}`;
}

async function loadForEval(
  path: string,
  values: Record<string, unknown>,
  build: 'auto' | 'simd' | 'scalar',
): Promise<Model> {
  const ext = extname(path).toLowerCase();
  const isModel = ext === '.json' || ext === '.onnx' || ext === '.tflite';
  let bundle: Uint8Array;
  if (isModel) {
    if (loadBlockModel(path))
      throw new UsageError(
        `${path} has Branch / EarlyExit blocks: compile it with 'edgec compile', then eval the bundle`,
        'eval',
      );
    let shapes: Record<string, number[]> | undefined;
    for (const s of (values.shape as string[] | undefined) ?? []) {
      const eq = s.lastIndexOf('=');
      if (eq <= 0) throw new UsageError(`--shape expects NAME=DIMS, got '${s}'`, 'eval');
      (shapes ??= {})[s.slice(0, eq)] = parseDims(s.slice(eq + 1));
    }
    const target = (values.target as string | undefined) ?? 'simd';
    if (target !== 'simd' && target !== 'scalar')
      throw new UsageError(`--target must be simd or scalar, got '${target}'`, 'eval');
    const quantize = parseQuantizeFlags(values);
    const graph = loadModel(path, shapes);
    const opts = {
      target: target as 'simd' | 'scalar',
      sourceHash: sourceHash(modelFiles(path)),
      modelName: graph.name || basename(path, ext),
      options: { target },
    };
    bundle = (quantize ? await compileWithQuantizeFlags(graph, quantize, opts) : compileGraph(graph, opts)).bundle;
  } else {
    for (const f of ['target', 'shape', ...Object.keys(QUANTIZE_FLAGS)]) {
      if (values[f] !== undefined)
        throw new UsageError(`--${f} applies to model files (.json, .onnx, .tflite), not to a bundle`, 'eval');
    }
    bundle = new Uint8Array(readFileSync(path));
  }
  try {
    return await load(bundle, { build });
  } catch (e) {
    if (e instanceof Error && !e.message.includes(path)) throw new CliError(path, oneLine(e.message));
    throw e;
  }
}

export async function evalCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('eval', argv, {
    input: { type: 'string', short: 'i', multiple: true },
    labels: { type: 'string' },
    'output-name': { type: 'string' },
    build: { type: 'string' },
    target: { type: 'string' },
    shape: { type: 'string', multiple: true },
    ...QUANTIZE_FLAGS,
  });
  if (values.help) {
    console.log(EVAL_HELP);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(`expected one bundle or model file, got ${positionals.length}`, 'eval');
  const build = values.build ?? 'auto';
  if (build !== 'auto' && build !== 'simd' && build !== 'scalar')
    throw new UsageError(`--build must be auto, simd or scalar, got '${build}'`, 'eval');
  if (!values.input?.length) throw new UsageError('missing --input <x.npy>', 'eval');
  if (!values.labels) throw new UsageError('missing --labels <y.npy>', 'eval');
  const path = positionals[0]!;
  const model = await loadForEval(path, values, build);
  const inputs = model.info.inputs;
  const outName = values['output-name'] ?? model.info.outputs[0]!.name;
  const out = model.info.outputs.find((p) => p.name === outName);
  if (!out)
    throw new UsageError(
      `--output-name: no output '${outName}' (outputs: ${model.info.outputs.map((p) => p.name).join(', ')})`,
      'eval',
    );

  const files = new Map<string, string>();
  const unnamed: string[] = [];
  for (const a of values.input) {
    const { name, value } = splitNamed(
      a,
      inputs.map((p) => p.name),
      '--input',
      'eval',
      true,
    );
    if (name !== undefined) files.set(name, value);
    else unnamed.push(value);
  }
  for (const p of inputs) if (!files.has(p.name) && unnamed.length > 0) files.set(p.name, unnamed.shift()!);
  if (unnamed.length > 0)
    throw new UsageError(
      `more --input files than the model has inputs (${inputs.map((p) => p.name).join(', ')})`,
      'eval',
    );
  const missing = inputs.filter((p) => !files.has(p.name));
  if (missing.length > 0)
    throw new UsageError(`missing --input for ${missing.map((p) => `'${p.name}'`).join(', ')}`, 'eval');

  let n = -1;
  const feeds = new Map<string, { data: ReturnType<typeof toModelDtype>; per: number }>();
  for (const p of inputs) {
    const file = files.get(p.name)!;
    const arr = loadNpy(file);
    const count = sampleCount(arr.shape, p, file);
    if (count === 0) throw new CliError(file, `holds no samples (shape [${arr.shape.join(',')}])`);
    if (n >= 0 && count !== n) throw new CliError(file, `holds ${count} sample(s), other inputs hold ${n}`);
    n = count;
    feeds.set(p.name, { data: toModelDtype(arr, p, file), per: arr.data.length / count });
  }
  const labels = loadNpy(values.labels);

  const per = out.shape.reduce((a, b) => a * b, 1);
  checkLabels(labels, n, per, values.labels);
  const outputs = new Float64Array(n * per);
  const bar =
    n >= 50 && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          { stream: process.stderr, format: 'eval [{bar}] {value}/{total} samples | {eta}s left' },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(n, 0);
  try {
    for (let i = 0; i < n; i++) {
      const feed: Record<string, ReturnType<typeof toModelDtype>> = {};
      for (const [name, f] of feeds) feed[name] = f.data.subarray(i * f.per, (i + 1) * f.per) as typeof f.data;
      let res: ReturnType<typeof model.run>;
      try {
        res = model.run(feed);
      } catch (e) {
        if (e instanceof Error && e.name === 'BundleError')
          throw new CliError(path, `sample ${i}: ${oneLine(e.message)}`);
        throw e;
      }
      const o = res[outName]!;
      if (o instanceof Float32Array) outputs.set(o, i * per);
      else throw new CliError(path, `output '${outName}' is ${out.dtype}; eval scores float32 outputs`);
      bar?.increment();
    }
  } finally {
    bar?.stop();
  }
  console.log(`${path}: ${describeEval(scoreOutputs(outputs, per, n, labels, values.labels))}`);
  return 0;
}
