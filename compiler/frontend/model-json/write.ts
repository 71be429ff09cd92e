// model.json v1 writer: IR Graph → pretty JSON with a stable key order + `<basename>.bin` sidecar.
// Tensors of ≤ 64 elements go inline (float32 in the shortest text that round-trips bit for bit);
// bigger ones go in the sidecar at 16-byte aligned offsets, little-endian. Both files are atomic.

import { basename, dirname, extname, join } from 'node:path';
import { ModelError, numElements } from '../../ir/graph.ts';
import type { AttrValue, Graph, Tensor, TensorData } from '../../ir/graph.ts';
import { OP_SCHEMAS, isOpType } from '../../ir/op-schema.ts';
import { writeFileAtomic } from '../../io/atomic.ts';
import { MAX_INLINE_ELEMENTS, MODEL_FORMAT, MODEL_VERSION } from './parse.ts';

export const SIDECAR_ALIGNMENT = 16;

/** Number text emitted verbatim by formatJson. */
class Raw {
  constructor(readonly text: string) {}
}

type Json = null | boolean | number | string | Raw | Json[] | { [key: string]: Json };

/** Shortest decimal text that parses back to exactly this float32 value. */
export function float32Text(v: number): string {
  if (Object.is(v, -0)) return '-0';
  for (let p = 1; p <= 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return String(s);
  }
  return String(v);
}

/** One-line form: `[1, 2]`, `{ "a": 1 }`. */
function compactJson(v: Json): string {
  if (v instanceof Raw) return v.text;
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(compactJson).join(', ')}]`;
  const entries = Object.entries(v);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${compactJson(x)}`).join(', ')} }`;
}

const LINE_WIDTH = 100;

/**
 * JSON with 2-space indent; a value whose one-line form fits the line stays on one line, and
 * arrays of numbers (inline tensor data) always do.
 */
function formatJson(v: Json, indent = '', keyWidth = 0): string {
  const compact = compactJson(v);
  if (v === null || typeof v !== 'object' || v instanceof Raw) return compact;
  const numbersOnly = Array.isArray(v) && v.every((x) => x instanceof Raw || typeof x === 'number');
  if (numbersOnly || indent.length + keyWidth + compact.length <= LINE_WIDTH) return compact;
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    return `[\n${v.map((x) => inner + formatJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(v).map(([k, x]) => {
    const key = `${JSON.stringify(k)}: `;
    return `${inner}${key}${formatJson(x, inner, key.length)}`;
  });
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

/** Inline text of every element, or undefined when some value has no exact JSON form. */
function inlineValues(t: Tensor, data: TensorData): Raw[] | undefined {
  const out: Raw[] = [];
  for (const x of data as Iterable<number | bigint>) {
    if (typeof x === 'bigint') {
      if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < -BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
      out.push(new Raw(x.toString()));
    } else if (t.dtype === 'float32') {
      if (!Number.isFinite(x)) return undefined;
      out.push(new Raw(float32Text(x)));
    } else {
      out.push(new Raw(String(x)));
    }
  }
  return out;
}

function attrJson(file: string, node: string, name: string, v: AttrValue): Json {
  const check = (x: unknown): void => {
    if (typeof x === 'number' && !Number.isFinite(x)) {
      throw new ModelError(
        file,
        `node '${node}'`,
        `attr '${name}': expected a finite number to write as JSON, found ${x}`,
      );
    }
  };
  if (Array.isArray(v)) v.forEach(check);
  else check(v);
  return Array.isArray(v) ? [...v] : v;
}

/** The JSON document and sidecar bytes for `graph`; `weightsName` is the sidecar's file name. */
export function serializeModelJson(
  graph: Graph,
  weightsName: string,
): { json: string; weights: Uint8Array | undefined } {
  const file = graph.source || graph.name;
  const need = (name: string, role: string): Tensor => {
    const t = graph.tensors.get(name);
    if (!t) throw new ModelError(file, `${role} '${name}'`, 'tensor: expected an entry in graph.tensors, found none');
    return t;
  };

  const inputs: Json[] = graph.inputs.map((name) => {
    const t = need(name, 'input');
    return { name, shape: [...t.shape], dtype: t.dtype };
  });
  const outputs: Json[] = graph.outputs.map((name) => {
    const t = graph.tensors.get(name);
    const o: { [key: string]: Json } = { name };
    if (t && t.shape.length > 0 && t.shape.every((d) => Number.isInteger(d) && d >= 1)) {
      o.shape = [...t.shape];
      o.dtype = t.dtype;
    }
    return o;
  });

  const chunks: { offset: number; bytes: Uint8Array }[] = [];
  let sidecarSize = 0;
  const tensors: { [key: string]: Json } = {};
  for (const t of graph.tensors.values()) {
    if (t.data === undefined) continue;
    if (t.data.length !== numElements(t.shape)) {
      throw new ModelError(
        file,
        `tensor '${t.name}'`,
        `data: expected ${numElements(t.shape)} values for shape ${JSON.stringify(t.shape)}, found ${t.data.length}`,
      );
    }
    const entry: { [key: string]: Json } = { dtype: t.dtype, shape: [...t.shape] };
    if (t.quant) {
      entry.quant = { scale: [...t.quant.scale], zeroPoint: [...t.quant.zeroPoint] };
      if (t.quant.axis !== undefined) (entry.quant as { [key: string]: Json }).axis = t.quant.axis;
    }
    const inline = t.data.length <= MAX_INLINE_ELEMENTS ? inlineValues(t, t.data) : undefined;
    if (inline) {
      entry.data = inline;
    } else {
      const offset = Math.ceil(sidecarSize / SIDECAR_ALIGNMENT) * SIDECAR_ALIGNMENT;
      // Typed arrays are host-endian; every supported host (x86, ARM, wasm) is little-endian.
      const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      chunks.push({ offset, bytes });
      sidecarSize = offset + bytes.length;
      entry.offset = offset;
      entry.length = bytes.length;
    }
    tensors[t.name] = entry;
  }

  const nodes: Json[] = graph.nodes.map((n) => {
    const order = isOpType(n.op) ? Object.keys(OP_SCHEMAS[n.op].attrs) : [];
    const keys = [
      ...order.filter((k) => k in n.attrs),
      ...Object.keys(n.attrs)
        .filter((k) => !order.includes(k))
        .sort(),
    ];
    const attrs: { [key: string]: Json } = {};
    for (const k of keys) attrs[k] = attrJson(file, n.name, k, n.attrs[k]);
    return { name: n.name, op: n.op, inputs: [...n.inputs], outputs: [...n.outputs], attrs };
  });

  const doc: { [key: string]: Json } = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    name: graph.name,
    inputs,
    outputs,
  };
  if (chunks.length > 0) doc.weights = weightsName;
  doc.tensors = tensors;
  doc.nodes = nodes;

  let weights: Uint8Array | undefined;
  if (chunks.length > 0) {
    weights = new Uint8Array(sidecarSize);
    for (const c of chunks) weights.set(c.bytes, c.offset);
  }
  return { json: `${formatJson(doc)}\n`, weights };
}

/** Writes `jsonPath` and, when some tensor needs it, `<basename>.bin` beside it (both atomic). */
export function writeModelJson(graph: Graph, jsonPath: string): void {
  const ext = extname(jsonPath);
  const weightsName = `${basename(jsonPath, ext === '' ? undefined : ext)}.bin`;
  if (weightsName === basename(jsonPath)) {
    throw new ModelError(
      jsonPath,
      'file',
      `name: expected a json path whose sidecar name differs from it, found '${weightsName}' for both`,
    );
  }
  const { json, weights } = serializeModelJson(graph, weightsName);
  // Sidecar first: a json that names a sidecar never appears before the sidecar does.
  if (weights) writeFileAtomic(join(dirname(jsonPath), weightsName), weights);
  writeFileAtomic(jsonPath, json);
}
