// `edgec import`: model.onnx → model.json + weights .bin (the editable, diffable form).
// Both files are produced in a temp dir beside the destination and renamed into place.
import { existsSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { join } from 'node:path';
import { loadOnnx } from '../frontend/onnx/index.ts';
import { writeModelJson } from '../frontend/model-json/index.ts';
import { writeFilesAtomic } from '../io/atomic.ts';
import { parseCommand } from './args.ts';
import { parseDims } from './compile.ts';
import { CliError, UsageError } from './errors.ts';

export const IMPORT_HELP = `usage: edgec import <model.onnx> -o <model.json> [--shape NAME=DIMS …]

Converts an ONNX model to model.json + <name>.bin beside it (both written atomically).

options:
  -o, --output FILE   model.json to write
  --shape NAME=DIMS   fix a dynamic input shape, e.g. --shape input=1x1x28x28 (repeatable)
  -h, --help          show this help`;

export async function importCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('import', argv, {
    output: { type: 'string', short: 'o' },
    shape: { type: 'string', multiple: true },
  });
  if (values.help) { console.log(IMPORT_HELP); return 0; }
  if (positionals.length !== 1) throw new UsageError(`expected one .onnx file, got ${positionals.length}`, 'import');
  const model = positionals[0]!;
  const out = values.output;
  if (!out) throw new UsageError('missing -o <model.json>', 'import');
  if (extname(model).toLowerCase() !== '.onnx') throw new UsageError(`${model}: expected an .onnx file`, 'import');
  if (extname(out).toLowerCase() !== '.json') throw new UsageError(`${out}: the output must be a .json file`, 'import');
  if (!existsSync(model)) throw new CliError(model, 'no such file');
  if (!existsSync(dirname(resolve(out)))) throw new CliError(out, 'the output directory does not exist');
  let shapes: Record<string, number[]> | undefined;
  for (const s of values.shape ?? []) {
    const eq = s.lastIndexOf('=');
    if (eq <= 0) throw new UsageError(`--shape expects NAME=DIMS, got '${s}'`, 'import');
    (shapes ??= {})[s.slice(0, eq)] = parseDims(s.slice(eq + 1));
  }
  const graph = loadOnnx(model, shapes ? { shapes } : undefined);
  const written = writeFilesAtomic(dirname(resolve(out)), (tmp) => writeModelJson(graph, join(tmp, basename(out))));
  console.log(`${out}: ${graph.nodes.length} nodes, ${graph.inputs.length} input(s), ${graph.outputs.length} output(s); wrote ${written.map((f) => basename(f)).join(', ')}`);
  return 0;
}
