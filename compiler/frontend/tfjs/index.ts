// TF.js frontend entry: a TF.js model.json (layers-model or graph-model) + its weight shards → IR Graph.
// A TF.js model.json is told from edgec's own model.json by content, never by name: it has `modelTopology`
// (and usually `weightsManifest` / `format`), edgec's has `"format": "edgec-model"`. Layers: layers.ts;
// graph-models: graph-model.ts; shards and dequantisation: weights.ts.
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { ModelError } from '../../ir/graph.ts';
import type { Graph } from '../../ir/graph.ts';
import { Builder } from './builder.ts';
import { importGraphModel } from './graph-model.ts';
import { importLayersModel } from './layers.ts';
import { readWeights, shardPath } from './weights.ts';

export { SUPPORTED_LAYERS } from './layers.ts';
export { SUPPORTED_GRAPH_OPS } from './graph-model.ts';

export interface TfjsImportOptions {
  /** Static shapes for inputs with unknown dims, e.g. { input: [1, 224, 224, 3] }. */
  shapes?: Record<string, number[]>;
}

export type TfjsFormat = 'tfjs layers-model' | 'tfjs graph-model';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Which TF.js format a parsed model.json holds, or undefined when it is not a TF.js model. */
export function tfjsFormatOf(json: unknown): TfjsFormat | undefined {
  if (!isObject(json) || !isObject(json.modelTopology) || json.format === 'edgec-model') return undefined;
  if (json.format === 'graph-model' || Array.isArray(json.modelTopology.node)) return 'tfjs graph-model';
  return 'tfjs layers-model';
}

/** The TF.js format of the .json file at `path` (undefined for edgec model.json, other or unreadable files). */
export function tfjsFormat(path: string): TfjsFormat | undefined {
  if (!path.toLowerCase().endsWith('.json')) return undefined;
  try {
    // cheap look at the start first: edgec's own files are not parsed twice
    const text = readFileSync(path, 'utf8');
    if (!text.includes('"modelTopology"')) return undefined;
    return tfjsFormatOf(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** model.json and every shard its manifest names (for the bundle's source hash); shards that fail are left out. */
export function tfjsModelFiles(path: string): string[] {
  const files = [path];
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as { weightsManifest?: { paths?: unknown[] }[] };
    for (const g of json.weightsManifest ?? [])
      for (const p of g.paths ?? []) if (typeof p === 'string') files.push(shardPath(path, 'weightsManifest', p));
  } catch {
    /* loadTfjs reports the problem */
  }
  return files;
}

/** Parses a TF.js model.json already read (`json`), reading its shards beside `file`. */
export function parseTfjs(json: unknown, file: string, opts: TfjsImportOptions = {}): Graph {
  const format = tfjsFormatOf(json);
  if (!format)
    throw new ModelError(
      file,
      'model',
      'modelTopology: expected a TF.js model.json (modelTopology and weightsManifest)',
    );
  const j = json as Record<string, unknown>;
  const weights = readWeights(file, j.weightsManifest);
  // graph-models carry no name: the file's (`gender.json` → gender), or its folder's for a plain model.json
  const base = basename(file, extname(file));
  const b = new Builder(file, base === 'model' ? basename(dirname(resolve(file))) : base);
  if (format === 'tfjs graph-model') importGraphModel(b, j, weights, opts);
  else importLayersModel(b, j.modelTopology as Record<string, unknown>, weights, opts);
  if (b.g.outputs.length === 0)
    throw new ModelError(file, 'model', 'outputs: expected at least one output, found none');
  return b.g;
}

export function loadTfjs(path: string, opts: TfjsImportOptions = {}): Graph {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ModelError(
      path,
      'file',
      `expected a readable model.json, found ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelError(path, 'file', `expected JSON, found ${(e as Error).message}`);
  }
  return parseTfjs(json, path, opts);
}
