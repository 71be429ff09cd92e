// Decodes ONNX ModelProto bytes with protobufjs (descriptor generated from ONNX's own onnx.proto)
// into plain TS objects: nodes with typed attributes, initializers as numeric arrays, value infos
// with static or symbolic dims. No graph semantics here; compiler/frontend/onnx/importer.ts maps ops.

import protobuf from 'protobufjs';
import { MAX_BYTES } from '../../ir/verify.ts';
import { ModelError } from '../../ir/graph.ts';
import { ONNX_PROTO_JSON } from './onnx-proto.generated.ts';

/** TensorProto.DataType codes we read. */
export const ONNX_DTYPE = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

const DTYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k.toLowerCase()]),
);

export function onnxDtypeName(code: number): string {
  return DTYPE_NAMES[code] ?? `dtype ${code}`;
}

/** A decoded tensor: every element as a double (int64 beyond 2^53 loses precision; shapes never need it). */
export interface OnnxTensor {
  name: string;
  dtype: number;
  dims: number[];
  values: Float64Array;
}

export type OnnxAttr =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: OnnxTensor }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'other'; type: number };

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, OnnxAttr>;
}

/** A dim is a number when static, a string (dim_param, or '?' when absent) when symbolic. */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  dims: (number | string)[] | undefined;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  producer: string;
  /** Opset of the default domain ('' / 'ai.onnx'); 0 when the model names none. */
  opset: number;
  otherDomains: string[];
  graph: OnnxGraph;
}

let root: protobuf.Root | undefined;

/** The protobufjs root of package onnx (also used by tests to encode models). */
export function onnxProtoRoot(): protobuf.Root {
  root ??= protobuf.Root.fromJSON(ONNX_PROTO_JSON as protobuf.INamespace);
  return root;
}

type Long = { toNumber(): number };
// protobufjs yields int64 as Long objects (the `long` package is installed) or numbers.
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof (v as Long).toNumber === 'function') return (v as Long).toNumber();
  return Number(v ?? 0);
}

const utf8 = new TextDecoder();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;

function rawView(raw: Uint8Array): DataView {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export function decodeTensor(t: Msg, file: string): OnnxTensor {
  const name: string = t.name ?? '';
  const dims = (t.dims ?? []).map(num);
  const dtype = num(t.data_type);
  const count = dims.reduce((a: number, b: number) => a * b, 1);
  const where = `initializer '${name}'`;
  if (num(t.data_location) === 1 || (t.external_data && t.external_data.length > 0)) {
    throw new ModelError(
      file,
      where,
      'data_location: expected data inside the .onnx file, found external data (re-save the model with all tensors embedded)',
    );
  }
  if (dims.some((d: number) => !Number.isSafeInteger(d) || d < 0) || count > MAX_BYTES) {
    throw new ModelError(
      file,
      where,
      `dims: expected sizes ≥ 0 with at most ${MAX_BYTES} elements in all, found [${dims}]`,
    );
  }
  const values = new Float64Array(count);
  const raw: Uint8Array | undefined = t.raw_data && t.raw_data.length > 0 ? t.raw_data : undefined;
  if (raw) {
    const dv = rawView(raw);
    const size: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8 };
    const sz = size[dtype];
    if (sz === undefined)
      throw new ModelError(file, where, `data_type: expected a numeric type, found ${onnxDtypeName(dtype)}`);
    if (raw.length !== sz * count) {
      throw new ModelError(
        file,
        where,
        `raw_data: expected ${sz * count} bytes for dims [${dims}], found ${raw.length}`,
      );
    }
    for (let i = 0; i < count; i++) {
      const o = i * sz;
      switch (dtype) {
        case 1:
          values[i] = dv.getFloat32(o, true);
          break;
        case 2:
        case 9:
          values[i] = dv.getUint8(o);
          break;
        case 3:
          values[i] = dv.getInt8(o);
          break;
        case 4:
          values[i] = dv.getUint16(o, true);
          break;
        case 5:
          values[i] = dv.getInt16(o, true);
          break;
        case 6:
          values[i] = dv.getInt32(o, true);
          break;
        case 7:
          values[i] = Number(dv.getBigInt64(o, true));
          break;
        case 10:
          values[i] = halfToFloat(dv.getUint16(o, true));
          break;
        case 11:
          values[i] = dv.getFloat64(o, true);
          break;
        case 12:
          values[i] = dv.getUint32(o, true);
          break;
        case 13:
          values[i] = Number(dv.getBigUint64(o, true));
          break;
      }
    }
    return { name, dtype, dims, values };
  }
  let src: unknown[];
  switch (dtype) {
    case 1:
      src = t.float_data ?? [];
      break;
    case 11:
      src = t.double_data ?? [];
      break;
    case 7:
      src = t.int64_data ?? [];
      break;
    case 12:
    case 13:
      src = t.uint64_data ?? [];
      break;
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 9:
      src = t.int32_data ?? [];
      break;
    case 10:
      src = (t.int32_data ?? []).map((h: number) => halfToFloat(h));
      break;
    default:
      throw new ModelError(file, where, `data_type: expected a numeric type, found ${onnxDtypeName(dtype)}`);
  }
  if (src.length !== count) {
    throw new ModelError(file, where, `data: expected ${count} values for dims [${dims}], found ${src.length}`);
  }
  for (let i = 0; i < count; i++) values[i] = num(src[i]);
  return { name, dtype, dims, values };
}

function decodeAttr(a: Msg, file: string): OnnxAttr {
  let type = num(a.type);
  if (type === 0) {
    // Very old exporters leave `type` unset: infer it from the field that is present.
    if (a.floats?.length) type = 6;
    else if (a.ints?.length) type = 7;
    else if (a.strings?.length) type = 8;
    else if (a.t) type = 4;
    else if (a.s?.length) type = 3;
    else if (a.i !== undefined && num(a.i) !== 0) type = 2;
    else type = 1;
  }
  switch (type) {
    case 1:
      return { kind: 'float', value: a.f ?? 0 };
    case 2:
      return { kind: 'int', value: num(a.i) };
    case 3:
      return { kind: 'string', value: utf8.decode(a.s ?? new Uint8Array()) };
    case 4:
      return { kind: 'tensor', value: decodeTensor(a.t, file) };
    case 6:
      return { kind: 'floats', value: [...(a.floats ?? [])].map(Number) };
    case 7:
      return { kind: 'ints', value: (a.ints ?? []).map(num) };
    case 8:
      return { kind: 'strings', value: (a.strings ?? []).map((s: Uint8Array) => utf8.decode(s)) };
    default:
      return { kind: 'other', type };
  }
}

function decodeValueInfo(v: Msg): OnnxValueInfo {
  const tt = v.type?.tensor_type;
  const shape = tt?.shape;
  return {
    name: v.name ?? '',
    elemType: num(tt?.elem_type),
    dims: shape
      ? // 0 is also what an unset dim_value decodes to (symbolic or unknown); a negative one stays, for the
        // importer to refuse by name rather than treat as dynamic.
        (shape.dim ?? []).map((d: Msg) =>
          d.dim_value !== undefined && d.dim_value !== null && num(d.dim_value) !== 0
            ? num(d.dim_value)
            : d.dim_param || '?',
        )
      : undefined,
  };
}

export function decodeGraph(g: Msg, file: string): OnnxGraph {
  const initializers = new Map<string, OnnxTensor>();
  for (const t of g.initializer ?? []) {
    const tensor = decodeTensor(t, file);
    initializers.set(tensor.name, tensor);
  }
  const nodes: OnnxNode[] = (g.node ?? []).map((n: Msg, i: number): OnnxNode => {
    const attrs = new Map<string, OnnxAttr>();
    for (const a of n.attribute ?? []) attrs.set(a.name, decodeAttr(a, file));
    return {
      name: n.name || `${n.op_type}_${i}`,
      opType: n.op_type ?? '',
      domain: n.domain ?? '',
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attrs,
    };
  });
  return {
    name: g.name ?? '',
    nodes,
    initializers,
    inputs: (g.input ?? []).map(decodeValueInfo),
    outputs: (g.output ?? []).map(decodeValueInfo),
  };
}

/** Decodes a .onnx file's bytes; a malformed protobuf is a ModelError naming the file. */
export function decodeModel(bytes: Uint8Array, file: string): OnnxModel {
  const ModelProto = onnxProtoRoot().lookupType('onnx.ModelProto');
  let m: Msg;
  try {
    m = ModelProto.decode(bytes);
  } catch (e) {
    throw new ModelError(
      file,
      'file',
      `expected an ONNX model (protobuf ModelProto), found bytes that do not decode: ${(e as Error).message}`,
    );
  }
  if (!m.graph) {
    throw new ModelError(
      file,
      'file',
      'expected an ONNX model with a graph, found a ModelProto without one (is this an .onnx file?)',
    );
  }
  let opset = 0;
  const otherDomains: string[] = [];
  for (const o of m.opset_import ?? []) {
    const domain = o.domain ?? '';
    if (domain === '' || domain === 'ai.onnx') opset = num(o.version);
    else otherDomains.push(domain);
  }
  return {
    irVersion: num(m.ir_version),
    producer: `${m.producer_name ?? ''} ${m.producer_version ?? ''}`.trim(),
    opset,
    otherDomains,
    graph: decodeGraph(m.graph, file),
  };
}

/** Decodes a TensorProto file (the conformance tests' input_N.pb / output_N.pb). */
export function decodeTensorProto(bytes: Uint8Array, file: string): OnnxTensor {
  const TensorProto = onnxProtoRoot().lookupType('onnx.TensorProto');
  let t: Msg;
  try {
    t = TensorProto.decode(bytes);
  } catch (e) {
    throw new ModelError(
      file,
      'file',
      `expected a TensorProto, found bytes that do not decode: ${(e as Error).message}`,
    );
  }
  return decodeTensor(t, file);
}
