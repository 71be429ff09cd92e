// `edgec run`: runs a bundle on .npy inputs and writes .npy outputs. A first axis of N samples
// on a batch-1 model runs sample by sample and stacks the N outputs (progress bar on a TTY).
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { load } from '../../runtime/node.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { loadNpy, NpyFile, writeNpy, type NpyArray, type NpyData } from '../io/npy.ts';
import { parseCommand, splitNamed } from './args.ts';
import { CliError, UsageError, oneLine } from './errors.ts';

export const RUN_HELP = `usage: edgec run <bundle.edgec> --input <x.npy> [--input NAME=x.npy …] --output <y.npy> [options]

Runs a bundle on .npy inputs. An input whose first axis holds N samples for a model with batch 1
runs the samples one by one; the outputs are stacked along the first axis. A bundle compiled with
--io int8 takes and writes int8 .npy (\`edgec inspect\` gives their scales and zero points). One sample runs on V8's
baseline wasm compiler alone (Liftoff: less memory, no optimising compile it would not wait for);
N samples let V8 optimise the hot kernels as usual. The output bytes are the same.

options:
  -i, --input [NAME=]FILE    input .npy (inputs without a name are taken in the model's order)
  -o, --output [NAME=]FILE   output .npy to write (atomically); NAME= picks one of several outputs
  --build auto|relaxed|simd|scalar  runtime build (default auto: relaxed, else simd, as the engine supports)
  -h, --help                 show this help`;

type RunData = Float32Array | Int8Array | Uint8Array | Int32Array;
type DType = 'float32' | 'int8' | 'uint8' | 'int32';
interface Port {
  name: string;
  shape: number[];
  dtype: DType;
  /** int8 inputs and outputs of a bundle compiled with --io int8. */
  scale?: number;
  zeroPoint?: number;
}

const CTOR = { float32: Float32Array, int8: Int8Array, uint8: Uint8Array, int32: Int32Array } as const;

function product(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}
const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

/**
 * How many samples `arr` holds for `port`: 1 when shapes match (or match without the batch
 * axis), N when the model has batch 1 and the array's first axis is N.
 */
export function sampleCount(arrShape: readonly number[], port: Port, file: string): number {
  const s = port.shape;
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  if (same(arrShape, s)) return 1;
  if (s.length > 0 && s[0] === 1 && arrShape.length === s.length && same(arrShape.slice(1), s.slice(1)))
    return arrShape[0]!;
  if (s.length > 0 && s[0] === 1 && same(arrShape, s.slice(1))) return 1;
  throw new CliError(
    file,
    `shape ${fmt(arrShape)} does not fit input '${port.name}' ${fmt(s)}${s[0] === 1 ? ` (or [N,${s.slice(1).join(',')}])` : ''}`,
  );
}

/** Converts .npy data to the model's dtype where that loses nothing a user would expect. */
export function toModelDtype(arr: NpyArray, port: Port, file: string): RunData {
  const want = port.dtype;
  const Ctor = CTOR[want];
  if (!Ctor) throw new CliError(file, `input '${port.name}' has unsupported dtype ${want}`);
  const d = arr.data;
  if (d instanceof Ctor) return d as RunData;
  if (want === 'float32' && d instanceof Float64Array) return Float32Array.from(d);
  if (want === 'int32' && d instanceof BigInt64Array) {
    const out = new Int32Array(d.length);
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v < -2147483648n || v > 2147483647n)
        throw new CliError(file, `element ${i} (${v}) does not fit input '${port.name}' int32`);
      out[i] = Number(v);
    }
    return out;
  }
  const hint =
    want === 'float32'
      ? ' (convert it, e.g. x.astype(np.float32) / 255 for images)'
      : port.scale !== undefined
        ? ` (the bundle was compiled with --io int8: quantise it, np.clip(np.round(x / ${port.scale}) + ${port.zeroPoint}, -128, 127).astype(np.int8))`
        : '';
  throw new CliError(file, `dtype ${arr.dtype} does not match input '${port.name}' ${want}${hint}`);
}

/**
 * True when every --input file is a .npy whose first axis is 1: then the command runs one sample (or fails), whatever
 * the model's shapes. Read before the model loads, so a `NAME=file` argument is taken as a file when one exists by
 * its whole text; a file that cannot be read answers false (the real read reports it).
 */
export function oneSampleInputs(args: readonly string[]): boolean {
  if (args.length === 0) return false;
  return args.every((a) => {
    try {
      const f = new NpyFile(existsSync(a) ? a : a.slice(a.indexOf('=') + 1));
      f.close();
      return f.shape[0] === 1;
    } catch {
      return false;
    }
  });
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('run', argv, {
    input: { type: 'string', short: 'i', multiple: true },
    output: { type: 'string', short: 'o', multiple: true },
    build: { type: 'string' },
  });
  if (values.help) {
    console.log(RUN_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one bundle file, got ${positionals.length}`, 'run');
  const build = values.build ?? 'auto';
  if (build !== 'auto' && build !== 'relaxed' && build !== 'simd' && build !== 'scalar') {
    throw new UsageError(`--build must be auto, relaxed, simd or scalar, got '${build}'`, 'run');
  }
  const bundlePath = positionals[0]!;
  // The executor validates the whole bundle on load; names, shapes and dtypes come from it. load(path) reads the
  // file straight into the wasm memory: a Buffer of it here would hold the bundle twice at the peak RSS.
  // One sample in a fresh process: V8 would tier ~13 hot kernels up to TurboFan while it runs (their compile zones,
  // the threads' malloc arenas and TurboFan's own pages of the node binary: ~6 MiB of peak RSS, and ~0.4 s of compile
  // CPU on this 2-core machine) for code that mostly arrives after the result is written. Liftoff's code runs it
  // alone; N samples keep the tiering, so samples 2..N run the optimised kernels (docs/benchmarks.md, issue 17).
  // Same bytes either way: both compilers implement the same wasm.
  if (oneSampleInputs(values.input ?? [])) setFlagsFromString('--liftoff-only');
  let model: Awaited<ReturnType<typeof load>>;
  try {
    model = await load(bundlePath, { build: build as 'auto' | 'relaxed' | 'simd' | 'scalar' });
  } catch (e) {
    // an unreadable file in the words every command uses ('x.edgec: no such file or directory')
    if (e instanceof Error && (e.cause as NodeJS.ErrnoException | undefined)?.path === bundlePath) throw e.cause;
    if (e instanceof Error && !e.message.includes(bundlePath)) throw new CliError(bundlePath, oneLine(e.message));
    throw e;
  }
  const inputs: Port[] = model.info.inputs;
  const outputs: Port[] = model.info.outputs;

  // Assign --input files to model inputs: named ones first, the rest in model order.
  const inputFiles = new Map<string, string>();
  const unnamedIn: string[] = [];
  for (const a of values.input ?? []) {
    const { name, value } = splitNamed(
      a,
      inputs.map((p) => p.name),
      '--input',
      'run',
      true,
    );
    if (name !== undefined) {
      if (inputFiles.has(name)) throw new UsageError(`input '${name}' given twice`, 'run');
      inputFiles.set(name, value);
    } else unnamedIn.push(value);
  }
  for (const p of inputs)
    if (!inputFiles.has(p.name) && unnamedIn.length > 0) inputFiles.set(p.name, unnamedIn.shift()!);
  if (unnamedIn.length > 0)
    throw new UsageError(
      `${unnamedIn.length} more --input file(s) than the model has inputs (${inputs.map((p) => p.name).join(', ')})`,
      'run',
    );
  const missing = inputs.filter((p) => !inputFiles.has(p.name));
  if (missing.length > 0)
    throw new UsageError(`missing --input for ${missing.map((p) => `'${p.name}'`).join(', ')}`, 'run');

  const outputFiles = new Map<string, string>();
  const unnamedOut: string[] = [];
  for (const a of values.output ?? []) {
    const { name, value } = splitNamed(
      a,
      outputs.map((p) => p.name),
      '--output',
      'run',
    );
    if (name !== undefined) outputFiles.set(name, value);
    else unnamedOut.push(value);
  }
  for (const p of outputs)
    if (!outputFiles.has(p.name) && unnamedOut.length > 0) outputFiles.set(p.name, unnamedOut.shift()!);
  if (unnamedOut.length > 0)
    throw new UsageError(
      `more --output files than the model has outputs (${outputs.map((p) => p.name).join(', ')})`,
      'run',
    );
  if (outputFiles.size === 0) throw new UsageError('missing --output <y.npy>', 'run');

  // Read every input and agree on the sample count before running anything.
  let n = -1;
  const batched = new Map<string, { data: RunData; perSample: number; file: string }>();
  for (const p of inputs) {
    const file = inputFiles.get(p.name)!;
    // one sample of the model's dtype is read straight into the wasm memory run() takes it from: held once, and
    // run() copies nothing (0.6 MiB of peak RSS on MobileNetV2; docs/benchmarks.md)
    const arr = loadNpy(file, (h) =>
      h.dtype === p.dtype && sampleCount(h.shape, p, file) === 1 ? model.inputView(p.name) : undefined,
    );
    const count = sampleCount(arr.shape, p, file);
    if (count === 0) throw new CliError(file, `holds no samples (shape ${fmt(arr.shape)})`);
    if (n >= 0 && count !== n) throw new CliError(file, `holds ${count} sample(s), other inputs hold ${n}`);
    n = count;
    batched.set(p.name, { data: toModelDtype(arr, p, file), perSample: product(p.shape), file });
  }
  if (n < 0) n = 1;

  const results = new Map<string, RunData>();
  // cli-progress (and its string-width / emoji-regex) only when a bar shows: importing it costs ~2.5 MiB of peak RSS
  const cliProgress = n >= 50 && process.stderr.isTTY ? (await import('cli-progress')).default : undefined;
  const bar = cliProgress
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: 'run [{bar}] {value}/{total} samples | {eta}s left' },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(n, 0);
  try {
    for (let i = 0; i < n; i++) {
      const feed: Record<string, RunData> = {};
      for (const [name, b] of batched) feed[name] = b.data.subarray(i * b.perSample, (i + 1) * b.perSample) as RunData;
      let out: ReturnType<typeof model.run>;
      try {
        out = model.run(feed);
      } catch (e) {
        if (e instanceof Error && e.name === 'BundleError')
          throw new CliError(bundlePath, `sample ${i}: ${oneLine(e.message)}`);
        throw e;
      }
      for (const p of outputs) {
        const o = out[p.name];
        if (!o) throw new CliError(bundlePath, `the runtime returned no output '${p.name}'`);
        let dst = results.get(p.name);
        if (!dst) {
          const Ctor = o.constructor as new (len: number) => RunData;
          dst = new Ctor(o.length * n);
          results.set(p.name, dst);
        }
        dst.set(o as never, i * o.length);
      }
      bar?.increment();
    }
  } finally {
    bar?.stop();
  }

  for (const [name, file] of outputFiles) {
    const p = outputs.find((q) => q.name === name)!;
    const data = results.get(name)!;
    const per = data.length / n;
    let shape = p.shape.length > 0 && product(p.shape) === per ? [...p.shape] : [per];
    if (n > 1) shape = shape[0] === 1 ? [n, ...shape.slice(1)] : [n, ...shape];
    writeFileAtomic(file, writeNpy({ shape, data: data as NpyData }));
  }
  return 0;
}
