// Graph-model shape arithmetic, folded at import: edgec's shapes are static, so `Shape` of a tensor is a Const,
// and what the converter computes from it (StridedSlice, Pack, Mul, Reshape … of Consts, e.g. the `[batch, -1, 4]`
// of a Keras Reshape) folds to Consts too — each with the IR op's own float64 reference (compiler/ir/ops/),
// int32 in → int32 out, exact (shape integers are far below 2^53). Pack of computed tensors becomes Reshapes
// (the new axis) and a Concat; Split / SplitV of a computed tensor, Slices (the node's outputs 0, 1, …).
import type { Attrs, OpType, Tensor } from '../../ir/graph.ts';
import { validateNodeAttrs } from '../../ir/op-schema.ts';
import { OPS } from '../../ir/ops/index.ts';
import { irShape, type ConstValue, type Handler, type NodeContext, type Value } from './graph-context.ts';

/** `op` with `attrs` evaluated on Const inputs by the IR op's reference; int32 when every input is int32. */
export function foldConst(c: NodeContext, op: OpType, ins: ConstValue[], attrs: Attrs, shape?: number[]): ConstValue {
  const node = { name: c.n.name, op, inputs: ins.map((_, i) => `in${i}`), outputs: ['out'], attrs: { ...attrs } };
  validateNodeAttrs(node, c.b.file);
  const tensors: Tensor[] = ins.map((v, i) => ({ name: `in${i}`, dtype: 'float32', shape: irShape(v.shape) }));
  let outs;
  try {
    outs = OPS[op].infer(node, tensors, c.b.file);
  } catch (e) {
    return c.fail(op, (e as { detail?: string }).detail ?? String(e));
  }
  const vals = ins.map((v) => ({ shape: irShape(v.shape), data: Float64Array.from(v.data) }));
  const y = OPS[op].evaluate(node, vals, outs)[0]!;
  const int = ins.every((v) => v.data instanceof Int32Array);
  // TF scalars are [] (the IR's [1]): an elementwise op of scalars stays a scalar
  const out = shape ?? (ins.every((v) => v.shape.length === 0) ? [] : outs[0]!.shape);
  return { kind: 'const', shape: out, data: int ? Int32Array.from(y) : Float32Array.from(y) };
}

/** The data inputs as Consts when every one is a Const, else undefined. */
export function allConst(c: NodeContext): ConstValue[] | undefined {
  const vs = Array.from({ length: c.inputCount }, (_, i) => c.input(i));
  return vs.every((v): v is ConstValue => v.kind === 'const') ? vs : undefined;
}

function shape(c: NodeContext): Value {
  const v = c.input(0);
  const s = v.kind === 'const' ? v.shape : c.b.shape(v.ir);
  return { kind: 'const', shape: [s.length], data: Int32Array.from(s) };
}

/** Pack (tf.stack): N tensors of one shape → a new axis of size N at `axis`. */
function pack(c: NodeContext): Value {
  const n = c.inputCount;
  const first = c.input(0);
  const s = first.kind === 'const' ? first.shape : c.b.shape(first.ir);
  let axis = Number(c.attr('axis')?.i ?? 0);
  if (axis < 0) axis += s.length + 1;
  if (axis < 0 || axis > s.length) c.fail(`attr 'axis'`, `expected an axis in [${-s.length - 1}, ${s.length}]`);
  const expanded = [...s.slice(0, axis), 1, ...s.slice(axis)];
  const consts = allConst(c);
  if (consts) {
    consts.forEach((v, i) => {
      if (v.shape.join() !== s.join()) c.fail(`input[${i}]`, `expected shape [${s}] as input 0, found [${v.shape}]`);
    });
    const out = [...s.slice(0, axis), n, ...s.slice(axis)];
    const ins = consts.map((v) => ({ ...v, shape: irShape(expanded) }));
    return foldConst(c, 'Concat', ins, { axis }, out);
  }
  const parts = Array.from({ length: n }, (_, i) =>
    c.b.add('Reshape', [c.act(i)], { shape: irShape(expanded) }, `${c.n.name}/${i}`),
  );
  return c.add('Concat', parts, { axis });
}

/** SparseToDense of Consts (the converter leaves it in shape arithmetic): `default` with `values` at `indices`. */
function sparseToDense(c: NodeContext): Value {
  const [idx, outShape, vals, def] = [0, 1, 2, 3].map((i) =>
    c.constant(i, ['indices', 'output_shape', 'values', 'default_value'][i]!),
  );
  const dims = [...outShape!.data];
  const r = dims.length;
  const n = idx!.shape.length === 0 ? 1 : idx!.shape[0]!;
  const total = dims.reduce((a, b) => a * b, 1);
  const data = vals!.data instanceof Int32Array ? new Int32Array(total) : new Float32Array(total);
  data.fill(def!.data[0]!);
  for (let k = 0; k < n; k++) {
    let o = 0;
    for (let a = 0; a < r; a++) {
      const j = idx!.data[k * r + a]!;
      if (j < 0 || j >= dims[a]!) c.fail('input[0]', `expected indices inside [${dims}], found ${j} on axis ${a}`);
      o = o * dims[a]! + j;
    }
    data[o] = vals!.data[vals!.shape.length === 0 ? 0 : k]!;
  }
  return { kind: 'const', shape: dims, data };
}

/** Split (axis, x; num_split equal parts) / SplitV (x, size_splits, axis): Slices; output k > 0 is 'name:k'. */
function split(c: NodeContext): Value {
  const v = c.n.op === 'Split' ? 1 : 0;
  const x = c.act(v);
  const s = c.b.shape(x);
  let axis = c.constant(c.n.op === 'Split' ? 0 : 2, 'the axis').data[0]!;
  if (axis < 0) axis += s.length;
  const d = s[axis]!;
  const count = Number(c.attr('num_split')?.i ?? 0);
  let sizes = c.n.op === 'Split' ? Array<number>(count).fill(d / count) : [...c.constant(1, 'size_splits').data];
  const known = sizes.filter((z) => z >= 0).reduce((a, b) => a + b, 0);
  sizes = sizes.map((z) => (z < 0 ? d - known : z));
  if (sizes.length !== count || sizes.some((z) => !Number.isInteger(z) || z < 1) || sizes.reduce((a, b) => a + b) !== d)
    c.fail('input', `expected ${count} positive sizes summing to dim ${axis} = ${d}, found [${sizes}]`);
  let at = 0;
  const outs = sizes.map((z, k) => {
    const attrs = { starts: [at], ends: [(at += z)], axes: [axis] };
    return c.b.add('Slice', [x], attrs, k === 0 ? c.n.name : `${c.n.name}:${k}`);
  });
  outs.slice(1).forEach((o, k) => c.values.set(`${c.n.name}:${k + 1}`, { kind: 'act', ir: o }));
  return { kind: 'act', ir: outs[0]! };
}

export const SHAPE_OPS: Record<string, Handler> = {
  Shape: shape,
  Pack: pack,
  SparseToDense: sparseToDense,
  Split: split,
  SplitV: split,
};
