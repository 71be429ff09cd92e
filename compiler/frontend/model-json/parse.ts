// model.json v1 reader (docs/model-format.md): JSON + optional sidecar bytes → IR Graph.
// Every structural problem is one ModelError naming the file, the node/tensor/input and the field,
// expected vs found. Constant data is copied into fresh (hence aligned) typed arrays.

import { readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ModelError, elementSize, numElements } from '../../ir/graph.ts';
import type { DType, Graph, Node, QuantParams, Tensor, TensorData } from '../../ir/graph.ts';
import { OP_SCHEMAS, describeValue, isOpType, validateNodeAttrs } from '../../ir/op-schema.ts';
import { inferNode } from '../../ir/ops/index.ts';

export const MODEL_FORMAT = 'edgec-model';
export const MODEL_VERSION = 1;
/** Tensors with more elements must live in the sidecar (keeps model.json readable). */
export const MAX_INLINE_ELEMENTS = 64;

export const MODEL_DTYPES: readonly DType[] = ['float32', 'int8', 'uint8', 'int32', 'int64'];

const TOP_KEYS = ['format', 'version', 'name', 'inputs', 'outputs', 'weights', 'tensors', 'nodes'];
const INPUT_KEYS = ['name', 'shape', 'dtype'];
const OUTPUT_KEYS = ['name', 'shape', 'dtype'];
const TENSOR_KEYS = ['dtype', 'shape', 'offset', 'length', 'data', 'quant'];
const QUANT_KEYS = ['scale', 'zeroPoint', 'axis'];
const NODE_KEYS = ['name', 'op', 'inputs', 'outputs', 'attrs'];

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const quote = (s: string): string => `'${s}'`;

/** Line and column (1-based) of a character offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: Math.min(offset, text.length) - lineStart + 1 };
}

/** JSON.parse with a ModelError carrying line/column (V8 reports a character position). */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const m = /position (\d+)/.exec(message);
    const at = m ? Number(m[1]) : /end of JSON input/.test(message) ? text.length : undefined;
    const where =
      at === undefined
        ? 'json'
        : (() => {
            const { line, column } = lineColumn(text, at);
            return `line ${line}, column ${column}`;
          })();
    // V8's message repeats the position; the line/column in `where` replaces it.
    const reason = message.replace(/\s*(in JSON )?at position \d+.*$/, '').replace(/\s*\(line \d+ column \d+\)/, '');
    throw new ModelError(file, where, `not valid JSON: ${reason}`);
  }
}

class Ctx {
  constructor(readonly file: string) {}

  fail(where: string, detail: string): never {
    throw new ModelError(this.file, where, detail);
  }

  object(v: unknown, where: string, field: string): Obj {
    if (!isObject(v)) this.fail(where, `${field}: expected an object, found ${describeValue(v)}`);
    return v;
  }

  array(v: unknown, where: string, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(where, `${field}: expected an array, found ${describeValue(v)}`);
    return v;
  }

  string(v: unknown, where: string, field: string): string {
    if (typeof v !== 'string' || v === '') {
      this.fail(where, `${field}: expected a non-empty string, found ${describeValue(v)}`);
    }
    return v;
  }

  knownKeys(o: Obj, allowed: readonly string[], where: string): void {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) {
        this.fail(where, `${k}: unknown field, expected one of ${allowed.map(quote).join(', ')}`);
      }
    }
  }

  dtype(v: unknown, where: string): DType {
    if (typeof v !== 'string' || !(MODEL_DTYPES as readonly string[]).includes(v)) {
      this.fail(where, `dtype: expected one of ${MODEL_DTYPES.map(quote).join(', ')}, found ${describeValue(v)}`);
    }
    return v as DType;
  }

  /** Static shape: integers ≥ 1; rank 0 (a scalar) only where `allowScalar`. */
  shape(v: unknown, where: string, allowScalar: boolean): number[] {
    const dims = this.array(v, where, 'shape');
    if (dims.length === 0 && !allowScalar) {
      this.fail(where, 'shape: expected at least one dimension, found []');
    }
    dims.forEach((d, i) => {
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
        this.fail(where, `shape[${i}]: expected an integer ≥ 1, found ${describeValue(d)} in ${JSON.stringify(dims)}`);
      }
    });
    return [...dims] as number[];
  }
}

/** Checks that `v` fits `dtype` (integers in range, float32 finite) and returns it as a number/bigint. */
function checkElement(ctx: Ctx, dtype: DType, v: unknown, where: string, index: number): number | bigint {
  const bad = (expected: string): never =>
    ctx.fail(where, `data[${index}]: expected ${expected}, found ${describeValue(v)}`);
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(`a finite number for ${dtype}`);
  const x = v as number;
  switch (dtype) {
    case 'float32':
      if (!Number.isFinite(Math.fround(x))) bad('a number within the float32 range');
      return x;
    case 'int8':
      if (!Number.isInteger(x) || x < -128 || x > 127) bad('an integer in [-128, 127]');
      return x;
    case 'uint8':
      if (!Number.isInteger(x) || x < 0 || x > 255) bad('an integer in [0, 255]');
      return x;
    case 'int32':
      if (!Number.isInteger(x) || x < -2147483648 || x > 2147483647) bad('an integer in [-2^31, 2^31-1]');
      return x;
    case 'int64':
      if (!Number.isSafeInteger(x)) bad('an integer in [-(2^53-1), 2^53-1] (larger int64 go in the sidecar)');
      return BigInt(x);
  }
}

function allocate(dtype: DType, n: number): TensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'uint8':
      return new Uint8Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int64':
      return new BigInt64Array(n);
  }
}

function parseQuant(ctx: Ctx, v: unknown, where: string): QuantParams {
  const q = ctx.object(v, where, 'quant');
  ctx.knownKeys(q, QUANT_KEYS, where);
  const scale = ctx.array(q.scale, where, 'quant.scale');
  const zeroPoint = ctx.array(q.zeroPoint, where, 'quant.zeroPoint');
  scale.forEach((s, i) => {
    if (typeof s !== 'number' || !(s > 0) || !Number.isFinite(s)) {
      ctx.fail(where, `quant.scale[${i}]: expected a finite number > 0, found ${describeValue(s)}`);
    }
  });
  zeroPoint.forEach((z, i) => {
    if (typeof z !== 'number' || !Number.isInteger(z)) {
      ctx.fail(where, `quant.zeroPoint[${i}]: expected an integer, found ${describeValue(z)}`);
    }
  });
  if (scale.length === 0 || scale.length !== zeroPoint.length) {
    ctx.fail(
      where,
      `quant: expected scale and zeroPoint of equal non-zero length, found ${scale.length} and ${zeroPoint.length}`,
    );
  }
  const out: QuantParams = { scale: scale as number[], zeroPoint: zeroPoint as number[] };
  if (q.axis !== undefined) {
    if (typeof q.axis !== 'number' || !Number.isInteger(q.axis) || q.axis < 0) {
      ctx.fail(where, `quant.axis: expected an integer ≥ 0, found ${describeValue(q.axis)}`);
    }
    out.axis = q.axis;
  } else if (scale.length !== 1) {
    ctx.fail(where, `quant.axis: expected an axis for ${scale.length} per-channel scales, found nothing`);
  }
  return out;
}

function parseTensor(
  ctx: Ctx,
  name: string,
  v: unknown,
  weights: Uint8Array | undefined,
  weightsName: string | undefined,
): Tensor {
  const where = `tensor '${name}'`;
  const t = ctx.object(v, where, 'value');
  ctx.knownKeys(t, TENSOR_KEYS, where);
  const dtype = ctx.dtype(t.dtype, where);
  const shape = ctx.shape(t.shape, where, true);
  const count = numElements(shape);
  const esize = elementSize(dtype);
  const hasData = t.data !== undefined;
  const hasOffset = t.offset !== undefined || t.length !== undefined;
  if (hasData === hasOffset) {
    ctx.fail(
      where,
      hasData
        ? 'data: expected either inline "data" or sidecar "offset"/"length", found both'
        : 'data: expected inline "data" or sidecar "offset" and "length", found neither',
    );
  }
  const data = allocate(dtype, count);
  if (hasData) {
    const values = ctx.array(t.data, where, 'data');
    if (values.length !== count) {
      ctx.fail(
        where,
        `data: expected ${count} values (product of shape ${JSON.stringify(shape)}), found ${values.length}`,
      );
    }
    if (count > MAX_INLINE_ELEMENTS) {
      ctx.fail(
        where,
        `data: expected at most ${MAX_INLINE_ELEMENTS} inline values (bigger tensors go in the sidecar with offset/length), found ${count}`,
      );
    }
    values.forEach((x, i) => {
      (data as unknown as (number | bigint)[])[i] = checkElement(ctx, dtype, x, where, i);
    });
  } else {
    for (const field of ['offset', 'length'] as const) {
      const x = t[field];
      if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) {
        ctx.fail(where, `${field}: expected an integer ≥ 0, found ${describeValue(x)}`);
      }
    }
    const offset = t.offset as number;
    const length = t.length as number;
    if (length !== count * esize) {
      ctx.fail(
        where,
        `length: expected ${count * esize} bytes (${count} × ${esize}-byte ${dtype} for shape ${JSON.stringify(shape)}), found ${length}`,
      );
    }
    if (weightsName === undefined) {
      ctx.fail(where, 'offset: expected a sidecar named by the top-level "weights" field, found no "weights" field');
    }
    if (weights === undefined) {
      ctx.fail(where, `offset: expected the sidecar '${weightsName}' to be loaded, found none (sidecar missing)`);
    }
    if (offset + length > weights.length) {
      ctx.fail(
        where,
        `offset: expected offset + length ≤ ${weights.length} (size of sidecar '${weightsName}'), found ${offset} + ${length} = ${offset + length}`,
      );
    }
    // Copy: the sidecar offset may be unaligned for the element type.
    new Uint8Array(data.buffer).set(weights.subarray(offset, offset + length));
  }
  const tensor: Tensor = { name, dtype, shape, data };
  if (t.quant !== undefined) tensor.quant = parseQuant(ctx, t.quant, where);
  return tensor;
}

/** Attrs detached from the JSON document (arrays copied), so graph edits never alias it. */
function copyAttrs(attrs: Obj): Node['attrs'] {
  const out: Obj = {};
  for (const [k, v] of Object.entries(attrs)) out[k] = Array.isArray(v) ? [...v] : v;
  return out as Node['attrs'];
}

/** What an output entry in the json declares about its tensor. */
interface Declared {
  dtype?: DType;
  shape?: number[];
}

interface RawNode {
  node: Node;
  index: number;
  where: string;
}

function parseNodeFields(ctx: Ctx, v: unknown, index: number): RawNode {
  const fallback = `nodes[${index}]`;
  const n = ctx.object(v, fallback, 'value');
  const name = ctx.string(n.name, fallback, 'name');
  const where = `node '${name}'`;
  ctx.knownKeys(n, NODE_KEYS, where);
  const op = ctx.string(n.op, where, 'op');
  const list = (field: 'inputs' | 'outputs'): string[] => {
    const arr = ctx.array(n[field], where, field);
    arr.forEach((s, i) => {
      // '' marks an absent optional input; outputs must all be named.
      if (typeof s !== 'string' || (s === '' && field === 'outputs')) {
        ctx.fail(
          where,
          `${field}[${i}]: expected a ${field === 'outputs' ? 'non-empty ' : ''}tensor name, found ${describeValue(s)}`,
        );
      }
    });
    return arr as string[];
  };
  const inputs = list('inputs');
  const outputs = list('outputs');
  const attrs = n.attrs === undefined ? {} : ctx.object(n.attrs, where, 'attrs');
  return {
    node: { name, op: op as Node['op'], inputs: [...inputs], outputs: [...outputs], attrs: copyAttrs(attrs) },
    index,
    where,
  };
}

/** Builds and validates the IR graph of a parsed model.json; `weights` = sidecar bytes if any. */
export function parseModelJson(json: unknown, weights: Uint8Array | undefined, file: string): Graph {
  const ctx = new Ctx(file);
  const top = ctx.object(json, 'model', 'top level');
  if (top.format !== MODEL_FORMAT) {
    ctx.fail('model', `format: expected "${MODEL_FORMAT}", found ${describeValue(top.format)}`);
  }
  if (top.version !== MODEL_VERSION) {
    ctx.fail(
      'model',
      `version: expected ${MODEL_VERSION} (this edgec reads model.json v${MODEL_VERSION}), found ${describeValue(top.version)}`,
    );
  }
  ctx.knownKeys(top, TOP_KEYS, 'model');
  const name = ctx.string(top.name, 'model', 'name');
  const weightsName = top.weights === undefined ? undefined : ctx.string(top.weights, 'model', 'weights');

  const tensors = new Map<string, Tensor>();
  /** Where each tensor name was defined, for duplicate-name messages. */
  const definedBy = new Map<string, string>();
  const define = (tensorName: string, where: string, field: string, by: string): void => {
    const prev = definedBy.get(tensorName);
    if (prev !== undefined) {
      ctx.fail(where, `${field}: expected a unique tensor name, found '${tensorName}' already defined by ${prev}`);
    }
    definedBy.set(tensorName, by);
  };

  const inputList = ctx.array(top.inputs, 'model', 'inputs');
  if (inputList.length === 0) ctx.fail('model', 'inputs: expected at least one graph input, found []');
  const inputs: string[] = [];
  inputList.forEach((v, i) => {
    const o = ctx.object(v, `inputs[${i}]`, 'value');
    const inName = ctx.string(o.name, `inputs[${i}]`, 'name');
    const where = `input '${inName}'`;
    ctx.knownKeys(o, INPUT_KEYS, where);
    const dtype = ctx.dtype(o.dtype, where);
    const shape = ctx.shape(o.shape, where, false);
    define(inName, where, 'name', `graph input ${i}`);
    tensors.set(inName, { name: inName, dtype, shape });
    inputs.push(inName);
  });

  const tensorObj = top.tensors === undefined ? {} : ctx.object(top.tensors, 'model', 'tensors');
  for (const [tName, v] of Object.entries(tensorObj)) {
    if (tName === '') ctx.fail('model', 'tensors: expected non-empty tensor names, found ""');
    const where = `tensor '${tName}'`;
    define(tName, where, 'name', 'the "tensors" table');
    tensors.set(tName, parseTensor(ctx, tName, v, weights, weightsName));
  }

  const nodeList = ctx.array(top.nodes, 'model', 'nodes');
  const raw = nodeList.map((v, i) => parseNodeFields(ctx, v, i));

  // All unknown ops at once: a model from a newer exporter usually has several.
  const unknown = new Map<string, { count: number; first: string }>();
  for (const r of raw) {
    if (isOpType(r.node.op)) continue;
    const u = unknown.get(r.node.op);
    if (u) u.count++;
    else unknown.set(r.node.op, { count: 1, first: r.node.name });
  }
  if (unknown.size > 0) {
    const [firstOp, first] = [...unknown][0];
    const list = [...unknown].map(([op, u]) => `'${op}' ×${u.count}`).join(', ');
    ctx.fail(
      `node '${first.first}'`,
      `op: expected a supported op, found '${firstOp}'; unknown ops in this model: ${list} (supported: ${Object.keys(OP_SCHEMAS).join(', ')})`,
    );
  }

  // Producer of every node output, so a too-early use can be told apart from an unknown name.
  const producer = new Map<string, RawNode>();
  const nodeNames = new Map<string, number>();
  for (const r of raw) {
    const prev = nodeNames.get(r.node.name);
    if (prev !== undefined) {
      ctx.fail(
        r.where,
        `name: expected a unique node name, found '${r.node.name}' already used by nodes[${prev}] (this is nodes[${r.index}])`,
      );
    }
    nodeNames.set(r.node.name, r.index);
    r.node.outputs.forEach((out, i) => {
      define(out, r.where, `outputs[${i}]`, `node '${r.node.name}'`);
      producer.set(out, r);
    });
  }

  const available = new Set<string>(tensors.keys());
  for (const r of raw) {
    validateNodeAttrs(r.node, file);
    r.node.inputs.forEach((inName, i) => {
      if (inName === '' || available.has(inName)) return;
      const p = producer.get(inName);
      if (p !== undefined) {
        ctx.fail(
          r.where,
          `inputs[${i}]: expected a tensor defined before this node (nodes must be in topological order), found '${inName}', produced later by node '${p.node.name}' (nodes[${p.index}], this is nodes[${r.index}])`,
        );
      }
      ctx.fail(
        r.where,
        `inputs[${i}]: expected the name of a graph input, a tensor or an earlier node output, found '${inName}', which names nothing`,
      );
    });
    for (const out of r.node.outputs) available.add(out);
  }

  const outputList = ctx.array(top.outputs, 'model', 'outputs');
  if (outputList.length === 0) ctx.fail('model', 'outputs: expected at least one graph output, found []');
  const outputs: string[] = [];
  const declared = new Map<string, Declared>();
  outputList.forEach((v, i) => {
    const o = ctx.object(v, `outputs[${i}]`, 'value');
    const outName = ctx.string(o.name, `outputs[${i}]`, 'name');
    const where = `output '${outName}'`;
    ctx.knownKeys(o, OUTPUT_KEYS, where);
    if (outputs.includes(outName)) ctx.fail(where, `name: expected each graph output once, found '${outName}' twice`);
    if (!producer.has(outName)) {
      const what = tensors.has(outName) ? 'a graph input or constant' : 'no tensor';
      ctx.fail(where, `name: expected a tensor produced by a node, found '${outName}', which is ${what}`);
    }
    // A declared shape becomes the output's tensor entry; both are checked by shape inference.
    const decl: Declared = {};
    if (o.dtype !== undefined) decl.dtype = ctx.dtype(o.dtype, where);
    if (o.shape !== undefined) {
      decl.shape = ctx.shape(o.shape, where, false);
      tensors.set(outName, { name: outName, dtype: decl.dtype ?? 'float32', shape: decl.shape });
    }
    if (decl.dtype !== undefined || decl.shape !== undefined) declared.set(outName, decl);
    outputs.push(outName);
  });

  const graph: Graph = { name, tensors, nodes: raw.map((r) => r.node), inputs, outputs, source: file };
  checkDeclaredOutputs(graph, declared, producer);
  return graph;
}

/**
 * A declared output shape/dtype must be what the ops produce: runs the IR op table's shape
 * inference on a scratch tensor table (the returned graph keeps only what the file states).
 */
function checkDeclaredOutputs(graph: Graph, declared: Map<string, Declared>, producer: Map<string, RawNode>): void {
  if (declared.size === 0) return;
  const scratch: Graph = { ...graph, tensors: new Map(graph.tensors) };
  for (const n of graph.nodes) {
    inferNode(scratch, n).forEach((info, i) => {
      const out = n.outputs[i];
      scratch.tensors.set(out, { name: out, dtype: info.dtype, shape: info.shape });
    });
  }
  for (const [o, want] of declared) {
    const got = scratch.tensors.get(o)!;
    const dtypeOk = want.dtype === undefined || want.dtype === got.dtype;
    const shapeOk = want.shape === undefined || want.shape.join() === got.shape.join();
    if (!dtypeOk || !shapeOk) {
      const by = producer.get(o)!.node.name;
      const field = shapeOk ? 'dtype' : 'shape';
      const declaredText = [want.dtype, want.shape && JSON.stringify(want.shape)]
        .filter((x) => x !== undefined)
        .join(' ');
      throw new ModelError(
        graph.source,
        `output '${o}'`,
        `${field}: expected ${got.dtype} ${JSON.stringify(got.shape)} (what node '${by}' produces), found declared ${declaredText}`,
      );
    }
  }
}

/** Whether `p` lies strictly inside folder `dir` (both absolute). */
function inside(dir: string, p: string): boolean {
  const r = relative(dir, p);
  return r !== '' && !isAbsolute(r) && r.split(sep)[0] !== '..';
}

/**
 * The real path of the sidecar `weights` names, which must stay inside the model's folder: as written (no
 * absolute path, no `..` out of the folder) and after symlinks (a link may not point outside it), so a
 * model.json from elsewhere cannot pull an arbitrary file into a bundle.
 */
export function sidecarPath(modelPath: string, weights: string): string {
  const fail = (found: string): never => {
    throw new ModelError(
      modelPath,
      'model',
      `weights: expected the sidecar '${weights}' inside the model's folder, found ${found}`,
    );
  };
  const dir = dirname(resolve(modelPath));
  const sidecar = resolve(dir, weights);
  if (isAbsolute(weights) || !inside(dir, sidecar)) fail(`a path that leads outside it (${sidecar})`);
  try {
    const real = realpathSync(sidecar);
    if (!inside(realpathSync(dir), real)) fail(`a symlink to ${real}, outside the folder`);
    return real;
  } catch (e) {
    if (e instanceof ModelError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    return fail(
      code === 'ENOENT'
        ? `no file at ${sidecar} (sidecar missing)`
        : `${code ?? (e as Error).message} reading ${sidecar}`,
    );
  }
}

/** The bytes of the sidecar (see sidecarPath for where it may live). */
export function readSidecar(modelPath: string, weights: string): Uint8Array {
  const path = sidecarPath(modelPath, weights);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelError(
      modelPath,
      'model',
      `weights: expected a readable sidecar '${weights}', found ${code ?? (e as Error).message} reading ${path}`,
    );
  }
}

/** Reads model.json (and its sidecar, resolved relative to the json) into an IR Graph. */
export function loadModelJson(path: string): Graph {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ModelError(
      path,
      'file',
      `expected a readable model.json, found ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  // Editors on Windows like to add a byte-order mark; JSON.parse does not accept one.
  const json = parseJsonText(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, path);
  const weights =
    isObject(json) && typeof json.weights === 'string' && json.weights !== ''
      ? readSidecar(path, json.weights)
      : undefined;
  return parseModelJson(json, weights, path);
}
