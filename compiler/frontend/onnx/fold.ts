// Import-time constant folding of ONNX nodes whose inputs are all constants (shape arithmetic
// exporters emit: Constant, Shape→Gather→Unsqueeze→Concat→Reshape, weight Reshape/Transpose).
// Values are doubles; float results are rounded to float32 like ONNX Runtime would store them.

import { ModelError, numElements } from '../../ir/graph.ts';
import { ONNX_DTYPE } from './decode.ts';
import type { OnnxNode, OnnxTensor } from './decode.ts';
import { permuteData, reshapeTarget } from './shapes.ts';

export const FOLDABLE_OPS: string[] = [
  'Constant',
  'Identity',
  'Dropout',
  'Cast',
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'Concat',
  'Reshape',
  'Flatten',
  'Transpose',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Neg',
  'Sqrt',
  'ConstantOfShape',
  'Shape',
];

const isFloat = (dtype: number) =>
  dtype === ONNX_DTYPE.FLOAT || dtype === ONNX_DTYPE.DOUBLE || dtype === ONNX_DTYPE.FLOAT16;

function tensor(dtype: number, dims: number[], values: ArrayLike<number>): OnnxTensor {
  const v = Float64Array.from(values);
  if (dtype === ONNX_DTYPE.FLOAT) for (let i = 0; i < v.length; i++) v[i] = Math.fround(v[i]);
  return { name: '', dtype, dims, values: v };
}

function broadcastBinary(a: OnnxTensor, b: OnnxTensor, f: (x: number, y: number) => number): OnnxTensor | undefined {
  const n = Math.max(a.dims.length, b.dims.length);
  const da = [...new Array(n - a.dims.length).fill(1), ...a.dims];
  const db = [...new Array(n - b.dims.length).fill(1), ...b.dims];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (da[i] !== db[i] && da[i] !== 1 && db[i] !== 1) return undefined;
    out.push(da[i] === 1 ? db[i] : da[i]);
  }
  const count = numElements(out);
  const res = new Float64Array(count);
  const idx = new Array(n).fill(0);
  const stride = (d: number[]) => d.map((_, i) => (d[i] === 1 ? 0 : numElements(d.slice(i + 1))));
  const sa = stride(da);
  const sb = stride(db);
  for (let o = 0; o < count; o++) {
    let ia = 0;
    let ib = 0;
    for (let k = 0; k < n; k++) {
      ia += idx[k] * sa[k];
      ib += idx[k] * sb[k];
    }
    res[o] = f(a.values[ia], b.values[ib]);
    for (let k = n - 1; k >= 0; k--) {
      if (++idx[k] < out[k]) break;
      idx[k] = 0;
    }
  }
  const intDiv = !isFloat(a.dtype);
  if (intDiv) for (let i = 0; i < res.length; i++) res[i] = Math.trunc(res[i]);
  return tensor(a.dtype, out, res);
}

function attrInts(node: OnnxNode, name: string): number[] | undefined {
  const a = node.attrs.get(name);
  return a?.kind === 'ints' ? a.value : undefined;
}

function attrInt(node: OnnxNode, name: string, def: number): number {
  const a = node.attrs.get(name);
  return a?.kind === 'int' ? a.value : def;
}

/**
 * Folds `node` when its op and inputs allow; returns its outputs, or undefined to leave the node
 * to the op mappers. `get(i)` returns constant input i (undefined when absent).
 */
export function foldConstantNode(
  node: OnnxNode,
  get: (i: number) => OnnxTensor | undefined,
  opset: number,
  file: string,
): OnnxTensor[] | undefined {
  const x = get(0);
  const fail = (detail: string): never => {
    throw new ModelError(file, `node '${node.name}' (${node.opType})`, detail);
  };
  switch (node.opType) {
    case 'Constant': {
      for (const [k, a] of node.attrs) {
        if (k === 'value' && a.kind === 'tensor') return [a.value];
        if (k === 'value_float' && a.kind === 'float') return [tensor(ONNX_DTYPE.FLOAT, [], [a.value])];
        if (k === 'value_floats' && a.kind === 'floats') return [tensor(ONNX_DTYPE.FLOAT, [a.value.length], a.value)];
        if (k === 'value_int' && a.kind === 'int') return [tensor(ONNX_DTYPE.INT64, [], [a.value])];
        if (k === 'value_ints' && a.kind === 'ints') return [tensor(ONNX_DTYPE.INT64, [a.value.length], a.value)];
      }
      return fail(
        `attr 'value': expected a numeric tensor, float(s) or int(s), found ${[...node.attrs.keys()].join(', ') || 'nothing'}`,
      );
    }
    case 'Identity':
    case 'Dropout':
      return x && [x];
    case 'Cast': {
      if (!x) return undefined;
      const to = attrInt(node, 'to', ONNX_DTYPE.FLOAT);
      const v = isFloat(to) ? x.values : x.values.map(Math.trunc);
      return [tensor(to, x.dims, v)];
    }
    case 'Neg':
      return (
        x && [
          tensor(
            x.dtype,
            x.dims,
            x.values.map((v) => -v),
          ),
        ]
      );
    case 'Sqrt':
      return x && [tensor(x.dtype, x.dims, x.values.map(Math.sqrt))];
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const y = get(1);
      if (!x || !y) return undefined;
      const f = {
        Add: (a: number, b: number) => a + b,
        Sub: (a: number, b: number) => a - b,
        Mul: (a: number, b: number) => a * b,
        Div: (a: number, b: number) => a / b,
      }[node.opType];
      const r = broadcastBinary(x, y, f);
      return r && [r];
    }
    case 'Gather': {
      const idx = get(1);
      if (!x || !idx) return undefined;
      let axis = attrInt(node, 'axis', 0);
      if (axis < 0) axis += x.dims.length;
      const outer = numElements(x.dims.slice(0, axis));
      const inner = numElements(x.dims.slice(axis + 1));
      const d = x.dims[axis];
      const out: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const raw of idx.values) {
          const j = raw < 0 ? raw + d : raw;
          if (j < 0 || j >= d) fail(`inputs[1]: expected indices in [-${d}, ${d - 1}], found ${raw}`);
          for (let k = 0; k < inner; k++) out.push(x.values[(o * d + j) * inner + k]);
        }
      }
      return [tensor(x.dtype, [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)], out)];
    }
    case 'Unsqueeze': {
      if (!x) return undefined;
      const axes = opset >= 13 ? (get(1) ? [...get(1)!.values] : undefined) : attrInts(node, 'axes');
      if (!axes) return undefined;
      const r = x.dims.length + axes.length;
      const norm = axes.map((a) => (a < 0 ? a + r : a));
      const dims: number[] = [];
      let j = 0;
      for (let i = 0; i < r; i++) dims.push(norm.includes(i) ? 1 : x.dims[j++]);
      return [{ ...x, dims }];
    }
    case 'Squeeze': {
      if (!x) return undefined;
      const r = x.dims.length;
      const axes =
        (opset >= 13 ? (get(1) ? [...get(1)!.values] : undefined) : attrInts(node, 'axes')) ??
        x.dims.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
      const norm = axes.map((a) => (a < 0 ? a + r : a));
      return [{ ...x, dims: x.dims.filter((_, i) => !norm.includes(i)) }];
    }
    case 'Concat': {
      const parts = node.inputs.map((_, i) => get(i)!);
      let axis = attrInt(node, 'axis', 0);
      const r = parts[0].dims.length;
      if (axis < 0) axis += r;
      const outer = numElements(parts[0].dims.slice(0, axis));
      const out: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const p of parts) {
          const chunk = numElements(p.dims.slice(axis));
          for (let k = 0; k < chunk; k++) out.push(p.values[o * chunk + k]);
        }
      }
      const dims = [...parts[0].dims];
      dims[axis] = parts.reduce((s, p) => s + p.dims[axis], 0);
      return [tensor(parts[0].dtype, dims, out)];
    }
    case 'Reshape': {
      if (!x) return undefined;
      const spec = opset < 5 ? attrInts(node, 'shape') : get(1) && [...get(1)!.values];
      if (!spec) return undefined;
      const dims = reshapeTarget(x.dims, spec, attrInt(node, 'allowzero', 0) === 1);
      if (typeof dims === 'string') fail(`inputs[1]: expected a shape for [${x.dims}], found [${spec}] (${dims})`);
      return [{ ...x, dims: dims as number[] }];
    }
    case 'Flatten': {
      if (!x) return undefined;
      let axis = attrInt(node, 'axis', 1);
      if (axis < 0) axis += x.dims.length;
      return [{ ...x, dims: [numElements(x.dims.slice(0, axis)), numElements(x.dims.slice(axis))] }];
    }
    case 'Transpose': {
      if (!x) return undefined;
      const perm = attrInts(node, 'perm') ?? x.dims.map((_, i) => x.dims.length - 1 - i);
      return [{ ...x, dims: perm.map((p) => x.dims[p]), values: permuteData(x.values, x.dims, perm) }];
    }
    case 'ConstantOfShape': {
      if (!x) return undefined;
      const dims = [...x.values];
      const a = node.attrs.get('value');
      const fill = a?.kind === 'tensor' ? a.value : tensor(ONNX_DTYPE.FLOAT, [1], [0]);
      return [tensor(fill.dtype, dims, new Float64Array(numElements(dims)).fill(fill.values[0] ?? 0))];
    }
    default:
      return undefined;
  }
}
