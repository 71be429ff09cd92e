// Builds small ONNX models in memory for the importer tests: encodes a ModelProto with the same
// protobufjs descriptor the importer decodes with. Weights come from a seeded PRNG. Not a test file.
import { onnxProtoRoot } from '../../../../compiler/frontend/onnx/decode.ts';

export type AttrSpec = number | string | number[] | { floats: number[] } | { float: number };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrSpec>;
  name?: string;
  domain?: string;
}
export interface InitSpec {
  name: string;
  dims: number[];
  data: ArrayLike<number>;
  dtype?: 'float' | 'int64' | 'int32' | 'int8' | 'uint8';
}
export interface ModelSpec {
  opset?: number;
  /** Extra operator-set domains, e.g. { 'com.microsoft': 1 }. */
  domains?: Record<string, number>;
  inputs: { name: string; dims: (number | string)[]; elemType?: number }[];
  outputs: string[];
  initializers?: InitSpec[];
  nodes: NodeSpec[];
}

/** Deterministic uniform values in [-1, 1) (mulberry32). */
export function seeded(seed: number, n: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

function attr(name: string, v: AttrSpec): Record<string, unknown> {
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  if ('floats' in v) return { name, type: 6, floats: v.floats };
  return { name, type: 1, f: v.float };
}

export function encodeModel(spec: ModelSpec): Uint8Array {
  const root = onnxProtoRoot();
  const Model = root.lookupType('onnx.ModelProto');
  const valueInfo = (name: string, dims: (number | string)[] | undefined, elemType = 1) => ({
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: dims
          ? { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) }
          : undefined,
      },
    },
  });
  const msg = Model.fromObject({
    ir_version: 7,
    producer_name: 'edgec-test',
    opset_import: [
      { domain: '', version: spec.opset ?? 13 },
      ...Object.entries(spec.domains ?? {}).map(([domain, version]) => ({ domain, version })),
    ],
    graph: {
      name: 'test',
      node: spec.nodes.map((n, i) => ({
        op_type: n.op,
        name: n.name ?? `${n.op.toLowerCase()}_${i}`,
        input: n.inputs,
        output: n.outputs,
        domain: n.domain ?? '',
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attr(k, v)),
      })),
      initializer: (spec.initializers ?? []).map((t) => {
        const code = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7 }[t.dtype ?? 'float'];
        if (code === 1) return { name: t.name, dims: t.dims, data_type: 1, float_data: Array.from(t.data) };
        if (code === 7) return { name: t.name, dims: t.dims, data_type: 7, int64_data: Array.from(t.data) };
        return { name: t.name, dims: t.dims, data_type: code, int32_data: Array.from(t.data) };
      }),
      input: spec.inputs.map((i) => valueInfo(i.name, i.dims, i.elemType)),
      output: spec.outputs.map((o) => valueInfo(o, undefined)),
    },
  });
  return Model.encode(msg).finish();
}
