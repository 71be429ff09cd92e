// `edgec compile`: model.json | model.onnx → .edgec bundle (frontend by file extension, then the
// pass pipeline). The bundle is written atomically; a one-line summary goes to stdout.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Graph } from '../ir/graph.ts';
import { compileGraph, PASS_NAMES, type CompileOptions } from '../compile.ts';
import type { QuantizeReport } from '../quantize/index.ts';
import { hasQdqAnnotations } from '../quantize/qdq.ts';
import { IO_KINDS, type IoKind } from '../quantize/int8-io.ts';
import { loadModelJson, sidecarPath } from '../frontend/model-json/index.ts';
import { loadOnnx } from '../frontend/onnx/index.ts';
import { loadTfjs, tfjsFormat, tfjsModelFiles } from '../frontend/tfjs/index.ts';
import { loadTflite } from '../frontend/tflite/index.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { parseCommand } from './args.ts';
import { UsageError, CliError } from './errors.ts';
import { summarizeBundle, fmtInt } from './inspect.ts';
import { blockCosts, compileBlocks, loadBlockModel } from './branches.ts';
import { readSteps } from '../../runtime/branches.ts';
import { VARIANTS_HELP, parseVariants, compileVariants } from '../variants/cli.ts';
import {
  QUANTIZE_FLAGS,
  QUANTIZE_HELP,
  compileWithQuantizeFlags,
  describeReport,
  parseQuantizeFlags,
  type QuantizeFlagValues,
} from '../quantize/cli.ts';

export const COMPILE_HELP = `usage: edgec compile <model.json|model.onnx|TF.js model.json> -o <out.edgec> [options]

Compiles a model into an .edgec bundle and prints steps, MACs, bundle and arena bytes.

options:
  -o, --output FILE       bundle to write (written atomically)
  --target simd|scalar    runtime build the bundle is meant for (default simd; scalar with --mcu): recorded
                          in its metadata, and \`edgec inspect\` names the kernel file each step runs on that
                          build. Either build runs any bundle (int8: same bytes); scalar keeps 3×3 stride-1
                          int8 convs direct (simd: Winograd, 32/9 of their weight bytes)
  --dump-after PASS       print the IR graph after PASS to stdout; passes:
                          ${PASS_NAMES.join(', ')}
  --shape NAME=DIMS       fix a dynamic ONNX or TF.js input shape, e.g. --shape input=1x3x224x224 (repeatable)
  --embed                 write a one-file WASI .wasm (runtime + this bundle, unused kernels removed):
                          run it as \`wasm3 model.wasm input.bin output.bin\` (docs/embedding.md)
  --mcu                   write a one-file .wasm for a C host under wasm3 (examples/mcu): the scalar
                          runtime stripped to this bundle's kernels, the bundle loaded already (plain-i32
                          ABI, no WASI); prints the linear memory to give it (memory_bytes)
${QUANTIZE_HELP}
  --io float|int8         int8 (with --quantize int8): the bundle takes and gives int8 codes, as TFLite's
                          full-integer models do (the boundary Quantize / Dequantize steps dropped);
                          \`edgec inspect\` and Model.info give each port's scale and zero point. Default float
${VARIANTS_HELP}
  --prune-branches-below F  models with Branch blocks: drop branches taken by less than this share of
                          the --calibration samples; prints the MAC (and, with --labels, accuracy) change
  --labels FILE           class labels .npy of the calibration samples (for the pruning report)
  -h, --help              show this help`;

/** Dimensions like `1x3x224x224` (also accepts commas). */
export function parseDims(text: string): number[] {
  const dims = text.split(/[x,]/).map((s) => Number(s));
  if (text === '' || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new UsageError(`--shape: '${text}' is not a list of positive integers like 1x3x224x224`, 'compile');
  }
  return dims;
}

/**
 * The files a model consists of, for the source hash: the model itself and, for model.json,
 * the weights file it names (any top-level string ending in .bin) or `<name>.bin` beside it.
 */
export function modelFiles(path: string): string[] {
  if (tfjsFormat(path)) return tfjsModelFiles(path);
  const files = [path];
  if (extname(path).toLowerCase() !== '.json') return files;
  const candidates = new Set<string>();
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    for (const v of Object.values(json)) if (typeof v === 'string' && v.endsWith('.bin')) candidates.add(v);
  } catch {
    /* the frontend reports malformed JSON with the right detail */
  }
  candidates.add(`${basename(path, extname(path))}.bin`);
  // only files inside the model's folder, as the frontend reads them (a name leading outside is refused there)
  for (const c of candidates) {
    try {
      files.push(sidecarPath(path, c));
    } catch {
      /* absent or outside: not part of the model */
    }
  }
  return files;
}

export function sourceHash(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(f));
  return h.digest('hex');
}

export function loadModel(path: string, shapes: Record<string, number[]> | undefined): Graph {
  if (!existsSync(path)) throw new CliError(path, 'no such file');
  const ext = extname(path).toLowerCase();
  if (ext === '.json') {
    if (tfjsFormat(path)) return loadTfjs(path, shapes ? { shapes } : undefined);
    if (shapes) throw new UsageError('--shape applies to ONNX models only (model.json shapes are static)', 'compile');
    return loadModelJson(path);
  }
  if (ext === '.onnx') return loadOnnx(path, shapes ? { shapes } : undefined);
  if (ext === '.tflite') {
    if (shapes) throw new UsageError('--shape applies to ONNX models only (.tflite shapes are static)', 'compile');
    return loadTflite(path);
  }
  throw new UsageError(`${path}: unknown model format '${ext}' (expected .json, .onnx or .tflite)`, 'compile');
}

export async function compileCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('compile', argv, {
    output: { type: 'string', short: 'o' },
    target: { type: 'string' },
    'dump-after': { type: 'string' },
    shape: { type: 'string', multiple: true },
    embed: { type: 'boolean' },
    mcu: { type: 'boolean' },
    variants: { type: 'string' },
    io: { type: 'string' },
    ...QUANTIZE_FLAGS,
    'prune-branches-below': { type: 'string' },
    labels: { type: 'string' },
  });
  if (values.help) {
    console.log(COMPILE_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one model file, got ${positionals.length}`, 'compile');
  const model = positionals[0]!;
  const out = values.output;
  if (!out) throw new UsageError('missing -o <out.edgec>', 'compile');
  const target = values.target;
  if (target !== undefined && target !== 'simd' && target !== 'scalar') {
    throw new UsageError(`--target must be simd or scalar, got '${target}'`, 'compile');
  }
  const io = values.io ?? 'float';
  if (!(IO_KINDS as readonly string[]).includes(io))
    throw new UsageError(`--io must be ${IO_KINDS.join(' or ')}, got '${io}'`, 'compile');
  const dumpAfter = values['dump-after'];
  if (dumpAfter !== undefined && !PASS_NAMES.includes(dumpAfter)) {
    throw new UsageError(`--dump-after: unknown pass '${dumpAfter}' (passes: ${PASS_NAMES.join(', ')})`, 'compile');
  }
  let shapes: Record<string, number[]> | undefined;
  for (const s of values.shape ?? []) {
    const eq = s.lastIndexOf('=');
    if (eq <= 0) throw new UsageError(`--shape expects NAME=DIMS, got '${s}'`, 'compile');
    (shapes ??= {})[s.slice(0, eq)] = parseDims(s.slice(eq + 1));
  }

  const prune = values['prune-branches-below'];
  const below = prune === undefined ? undefined : Number(prune);
  if (below !== undefined && !(below >= 0 && below <= 1))
    throw new UsageError(`--prune-branches-below expects a share in [0, 1], got '${prune}'`, 'compile');
  const compiled = await compileModel(model, {
    // an --mcu image runs on the scalar build: its bundle keeps the direct 3×3 convs (Winograd's i16 weights take 32/9
    // of their int8 bytes of flash)
    target: (target ?? (values.mcu ? 'scalar' : 'simd')) as 'simd' | 'scalar',
    dumpAfter,
    shapes,
    quantize: values,
    variants: values.variants,
    io: io as IoKind,
    pruneBelow: below,
    labels: values.labels,
  });
  if (values.embed && values.mcu) throw new UsageError('--embed and --mcu write different files: give one', 'compile');
  const form = values.mcu ? 'mcu' : values.embed ? 'embed' : 'bundle';
  for (const line of await writeCompiled(out, compiled, form)) console.log(line);
  return 0;
}

/** The flags `edgec compile` passes on to compileModel (checked for the kind of model there). */
export interface ModelCompileFlags {
  target: 'simd' | 'scalar';
  dumpAfter?: string;
  shapes?: Record<string, number[]>;
  /** --quantize, --calibration, --calibrate, --keep-float, --auto-mixed as given. */
  quantize: QuantizeFlagValues;
  variants?: string;
  /** --io: 'int8' needs --quantize int8 on a model without blocks or variants. */
  io?: IoKind;
  pruneBelow?: number;
  labels?: string;
}

export interface CompiledModel {
  bundle: Uint8Array;
  target: 'simd' | 'scalar';
  /** Lines printed after the summary (the pruning report). */
  notes: string[];
  report?: QuantizeReport;
}

/**
 * The one compile path of `edgec compile`: a model with Branch / EarlyExit blocks, --variants,
 * --quantize int8 or a plain float model becomes bundle bytes with the same metadata, --dump-after
 * and calibration reader (loadCalibration) on every path; writeCompiled then writes it or embeds it.
 */
export async function compileModel(model: string, f: ModelCompileFlags): Promise<CompiledModel> {
  const blocks = loadBlockModel(model);
  const opts: CompileOptions = {
    target: f.target,
    ...(f.dumpAfter !== undefined
      ? {
          dumpAfter: f.dumpAfter,
          onDump: (pass: string, text: string) => {
            process.stdout.write(`// after ${pass}\n${text.endsWith('\n') ? text : `${text}\n`}`);
          },
        }
      : {}),
    sourceHash: sourceHash(modelFiles(model)),
  };
  if (f.io === 'int8') {
    const why = blocks
      ? 'models with Branch / EarlyExit blocks'
      : f.variants !== undefined
        ? '--variants'
        : f.quantize.quantize === undefined
          ? 'a float bundle: add --quantize int8'
          : undefined;
    if (why) throw new UsageError(`${model}: --io int8 is not supported for ${why}`, 'compile');
  }
  if (blocks) {
    // --calibration alone serves --prune-branches-below here
    const q = f.quantize.quantize === undefined ? undefined : parseQuantizeFlags(f.quantize);
    if (q && (q.keepFloat.length > 0 || q.autoMixed !== undefined))
      throw new UsageError(
        '--keep-float and --auto-mixed are not supported for models with Branch / EarlyExit blocks',
        'compile',
      );
    if (f.variants !== undefined)
      throw new UsageError('--variants is not supported for models with Branch / EarlyExit blocks', 'compile');
    if (f.shapes) throw new UsageError('--shape applies to ONNX models only (model.json shapes are static)', 'compile');
    const calibration = f.quantize.calibration;
    const r = await compileBlocks(blocks, {
      pruneBelow: f.pruneBelow,
      calibration,
      labels: f.labels,
      ...(q ? { quantize: { method: q.method } } : {}),
      options: {
        ...opts,
        modelName: blocks.name || basename(model, extname(model)),
        options: {
          target: f.target,
          ...(f.pruneBelow !== undefined ? { pruneBranchesBelow: f.pruneBelow } : {}),
          ...(q ? { quantize: { method: q.method, calibration: calibration && basename(calibration) } } : {}),
        },
      },
    });
    return { bundle: r.bundle, target: f.target, notes: r.notes };
  }
  if (f.pruneBelow !== undefined)
    throw new UsageError('--prune-branches-below applies to models with Branch blocks', 'compile');
  const quantize = parseQuantizeFlags(f.quantize);
  const graph = loadModel(model, f.shapes);
  if (!quantize && f.variants === undefined && hasQdqAnnotations(graph)) {
    console.error(
      `note: ${model} is pre-quantised (${extname(model).toLowerCase() === '.tflite' ? 'int8 TFLite' : 'QDQ / QLinear'}): without --quantize it compiles to a float bundle; ` +
        'add --quantize int8 to keep its int8 scales',
    );
  }
  const options: Record<string, unknown> = { target: f.target };
  if (f.shapes) options.shapes = f.shapes;
  const sourceFormat = tfjsFormat(model) ?? (extname(model).toLowerCase() === '.tflite' ? 'tflite' : undefined);
  if (sourceFormat) options.sourceFormat = sourceFormat;
  if (quantize) options.quantize = { ...quantize, calibration: quantize.calibration && basename(quantize.calibration) };
  const variantKinds = f.variants === undefined ? undefined : parseVariants(f.variants);
  if (variantKinds) options.variants = variantKinds;
  if (f.io === 'int8') options.io = 'int8';
  const o: CompileOptions = {
    ...opts,
    ...(f.io === 'int8' ? { io: f.io } : {}),
    modelName: graph.name || basename(model, extname(model)),
    options,
  };
  const r = variantKinds
    ? await compileVariants(variantKinds, graph, quantize, o)
    : quantize
      ? await compileWithQuantizeFlags(graph, quantize, o)
      : compileGraph(graph, o);
  return {
    bundle: r.bundle,
    target: f.target,
    notes: [],
    ...('report' in r ? { report: r.report as QuantizeReport } : {}),
  };
}

/**
 * Writes a compiled model (atomically): the bundle, or with --embed / --mcu a one-file wasm in its place.
 * The quantisation report goes to stderr; returns the stdout lines (summary, then notes).
 */
export async function writeCompiled(
  out: string,
  c: CompiledModel,
  form: 'bundle' | 'embed' | 'mcu',
): Promise<string[]> {
  let summary: string;
  if (form === 'mcu') {
    const { mcuImage } = await import('../embed/mcu-image.ts');
    const m = await mcuImage(c.bundle);
    writeFileAtomic(out, m.wasm);
    summary =
      `${out}: MCU image ${fmtInt(m.wasm.length)} bytes (bundle ${fmtInt(c.bundle.length)} bytes, loaded), ` +
      `memory_bytes ${m.memoryBytes} (examples/mcu; \`edgec inspect --mcu\` on the bundle predicts RAM and flash)`;
  } else if (form === 'embed') {
    const { embedBundle } = await import('../embed/index.ts');
    const e = await embedBundle(c.bundle);
    writeFileAtomic(out, e.wasm);
    summary = `${out}: one-file wasm ${fmtInt(e.wasm.length)} bytes (bundle ${fmtInt(c.bundle.length)} bytes, ${e.removed.length} unused kernel entries removed)`;
  } else {
    writeFileAtomic(out, c.bundle);
    summary = describeBundle(out, c.bundle, c.target);
  }
  if (c.report) console.error(describeReport(c.report));
  return [summary, ...c.notes];
}

/** The one-line summary of a written bundle (models with blocks: control steps and the longest path). */
function describeBundle(out: string, bundle: Uint8Array, target: string): string {
  const s = summarizeBundle(bundle);
  const control = readSteps(bundle).control.length;
  if (control === 0) {
    return `${out}: ${s.steps} steps, ${fmtInt(s.macs)} MACs, bundle ${fmtInt(s.fileBytes)} bytes, arena ${fmtInt(s.arenaBytes)} bytes (target ${target})`;
  }
  return (
    `${out}: ${s.steps} steps, ${control} control, ${fmtInt(blockCosts(bundle).fullMacs)} MACs on the longest path, ` +
    `bundle ${fmtInt(s.fileBytes)} bytes, arena ${fmtInt(s.arenaBytes)} bytes (target ${target})`
  );
}
