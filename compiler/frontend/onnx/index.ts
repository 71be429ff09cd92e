// ONNX frontend entry: loadOnnx(path) / parseOnnx(bytes) → IR Graph (NHWC inside; graph inputs and
// outputs keep their ONNX NCHW shapes). Decoding: decode.ts; op mapping: importer.ts.

import { readFileSync } from 'node:fs';
import type { Graph } from '../../ir/graph.ts';
import { ModelError } from '../../ir/graph.ts';
import { decodeModel } from './decode.ts';
import { importOnnxModel } from './importer.ts';
import type { OnnxImportOptions } from './importer.ts';

export type { OnnxImportOptions } from './importer.ts';
export { SUPPORTED_OPS } from './importer.ts';

export function parseOnnx(bytes: Uint8Array, file: string, opts: OnnxImportOptions = {}): Graph {
  return importOnnxModel(decodeModel(bytes, file), file, opts);
}

export function loadOnnx(path: string, opts: OnnxImportOptions = {}): Graph {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ModelError(
      path,
      'file',
      `expected a readable .onnx file, found ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseOnnx(bytes, path, opts);
}
