// `edgec import`: model.onnx → model.json + weights .bin (the editable, diffable form), and ONNX
// export: model.json | model.onnx → model.onnx (compiler/export/onnx.ts). Outputs are written atomically.
import { existsSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { join } from 'node:path';
import { loadOnnx } from '../frontend/onnx/index.ts';
import { loadTfjs, tfjsFormat, tfjsModelFiles } from '../frontend/tfjs/index.ts';
import { loadTflite } from '../frontend/tflite/index.ts';
import { hasQdqAnnotations } from '../quantize/qdq.ts';
import { writeModelJson } from '../frontend/model-json/index.ts';
import { writeFileAtomic, writeFilesAtomic } from '../io/atomic.ts';
import { exportOnnx, EXPORT_OPSET } from '../export/onnx.ts';
import { parseCommand } from './args.ts';
import { loadModel, parseDims } from './compile.ts';
import { CliError, UsageError } from './errors.ts';

export const IMPORT_HELP = `usage: edgec import <model.onnx|model.tflite|TF.js model.json> -o <model.json> [--shape NAME=DIMS …]
       edgec import <model.json|model.onnx> -o <model.onnx>

Converts an ONNX, TFLite or TF.js model (layers-model or graph-model, told from edgec's own model.json by its
modelTopology) to model.json + <name>.bin beside it (both written atomically), or writes a
model as a standard ONNX file (opset 13, float32; tensors keep the model's shapes, convolutions and
pools are wrapped in NHWC ↔ NCHW Transposes) that onnxruntime and other ONNX tools run.

options:
  -o, --output FILE   model.json or model.onnx to write
  --shape NAME=DIMS   fix a dynamic input shape, e.g. --shape input=1x1x28x28 (repeatable)
  -h, --help          show this help`;

export async function importCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('import', argv, {
    output: { type: 'string', short: 'o' },
    shape: { type: 'string', multiple: true },
  });
  if (values.help) {
    console.log(IMPORT_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one .onnx file, got ${positionals.length}`, 'import');
  const model = positionals[0]!;
  const out = values.output;
  if (!out) throw new UsageError('missing -o <model.json>', 'import');
  const inExt = extname(model).toLowerCase();
  const outExt = extname(out).toLowerCase();
  if (outExt !== '.json' && outExt !== '.onnx')
    throw new UsageError(`${out}: the output must be a .json or .onnx file`, 'import');
  const tfjs = inExt === '.json' && outExt === '.json' && tfjsFormat(model) !== undefined;
  if (inExt !== '.onnx' && inExt !== '.tflite' && !tfjs && !(inExt === '.json' && outExt === '.onnx')) {
    throw new UsageError(
      `${model}: expected an .onnx or .tflite file or a TF.js model.json (or -o <model.onnx> to export a model.json to ONNX)`,
      'import',
    );
  }
  if (!existsSync(model)) throw new CliError(model, 'no such file');
  if (!existsSync(dirname(resolve(out)))) throw new CliError(out, 'the output directory does not exist');
  let shapes: Record<string, number[]> | undefined;
  for (const s of values.shape ?? []) {
    const eq = s.lastIndexOf('=');
    if (eq <= 0) throw new UsageError(`--shape expects NAME=DIMS, got '${s}'`, 'import');
    (shapes ??= {})[s.slice(0, eq)] = parseDims(s.slice(eq + 1));
  }
  if (outExt === '.onnx') {
    const graph = loadModel(model, shapes);
    const bytes = exportOnnx(graph);
    writeFileAtomic(out, bytes);
    console.log(
      `${out}: ONNX opset ${EXPORT_OPSET}, ${graph.nodes.length} edgec nodes, ${graph.inputs.length} input(s), ${graph.outputs.length} output(s), ${bytes.length.toLocaleString('en-US')} bytes`,
    );
    return 0;
  }
  if (tfjs) {
    // never write over the TF.js files being read (a model.json or shard of the same name in the same folder)
    const sidecar = join(dirname(resolve(out)), `${basename(out, extname(out))}.bin`);
    const clash = tfjsModelFiles(model).find((f) => [resolve(out), sidecar].includes(resolve(f)));
    if (clash) throw new CliError(out, `would overwrite ${clash}, a file of the TF.js model; choose another name`);
  }
  if (inExt === '.tflite' && shapes) throw new UsageError('--shape applies to ONNX and TF.js models only', 'import');
  const graph = tfjs
    ? loadTfjs(model, shapes ? { shapes } : undefined)
    : inExt === '.tflite'
      ? loadTflite(model)
      : loadOnnx(model, shapes ? { shapes } : undefined);
  if (hasQdqAnnotations(graph))
    console.error(
      `note: ${out} keeps the weights' int8 scales but not the activations' (model.json has no place for them); ` +
        `compile ${basename(model)} itself with --quantize int8 to run on its own int8 params`,
    );
  const written = writeFilesAtomic(dirname(resolve(out)), (tmp) => writeModelJson(graph, join(tmp, basename(out))));
  console.log(
    `${out}: ${graph.nodes.length} nodes, ${graph.inputs.length} input(s), ${graph.outputs.length} output(s); wrote ${written.map((f) => basename(f)).join(', ')}`,
  );
  return 0;
}
