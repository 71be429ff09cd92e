// TFLite frontend entry: loadTflite(path) / parseTflite(bytes) → IR Graph (NHWC like the file). Decoding
// and checks: decode.ts; graph building: importer.ts; one handler per operator: ops.ts.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Graph } from '../../ir/graph.ts';
import { ModelError } from '../../ir/graph.ts';
import { decodeTflite } from './decode.ts';
import { TfliteImporter } from './importer.ts';

export { SUPPORTED_TFLITE_OPS } from './importer.ts';

export function parseTflite(bytes: Uint8Array, file: string): Graph {
  return new TfliteImporter(decodeTflite(bytes, file), file, basename(file, extname(file))).run();
}

export function loadTflite(path: string): Graph {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ModelError(
      path,
      'file',
      `expected a readable .tflite file, found ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseTflite(bytes, path);
}
