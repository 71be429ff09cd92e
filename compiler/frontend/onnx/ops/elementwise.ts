// ONNX elementwise arithmetic: unary ops, binary ops with numpy broadcasting (and the opset < 7
// `broadcast`/`axis` alignment), variadic Max/Min/Sum/Mean, Neg and Reciprocal. Constants follow the
// activation's layout (NHWC when a 4-D operand is).
import type { Attrs, OpType } from '../../../ir/graph.ts';
import type { OnnxNode } from '../decode.ts';
import { broadcastShapes, permute, permuteData, TO_NHWC } from '../shapes.ts';
import type { ActValue, Handler, Importer, Value } from '../importer.ts';
import { constValue, runAs } from './compose.ts';

export function unary(op: OpType, attrs: (c: Importer) => Attrs = () => ({})): Handler {
  return (c, n) => {
    const x = c.act(0);
    const ir = c.produce(n.outputs[0], x.shape, x.layout);
    c.addNode(op, [x.ir], [ir], attrs(c), n.name);
  };
}

/** Elementwise binary op with numpy broadcasting; constants follow the activation's layout. */
export function binary(
  c: Importer,
  op: OpType,
  va: Value,
  vb: Value,
  names: [string, string],
  out: string,
  name: string,
): void {
  const sa = va.kind === 'const' ? va.t.dims : va.shape;
  const sb = vb.kind === 'const' ? vb.t.dims : vb.shape;
  [va, vb].forEach((v, i) => {
    if (v.kind === 'const') c.checkFloat(v.t, i);
  });
  const shape = broadcastShapes(sa, sb);
  if (!shape) c.fail('inputs', `expected broadcastable shapes, found [${sa}] and [${sb}]`);
  const acts = [va, vb].filter((v): v is ActValue => v.kind === 'act');
  const nhwc =
    shape.length === 4 &&
    acts.some((v) => v.layout === 'nhwc') &&
    [va, vb].every((v) => (v.kind === 'const' ? v.t.dims.length <= 4 : v.shape.length === 4));
  const irOf = (v: Value, i: number): string => {
    if (v.kind === 'act') return nhwc ? c.toNhwc(v) : c.toPlain(v);
    if (!nhwc) return c.constIR(v.t.values, v.t.dims, names[i]);
    const dims4 = [...new Array(4 - v.t.dims.length).fill(1), ...v.t.dims];
    return c.constIR(permuteData(v.t.values, dims4, TO_NHWC), permute(dims4, TO_NHWC), `${names[i]}__nhwc`);
  };
  const a = irOf(va, 0);
  const b = irOf(vb, 1);
  const ir = c.produce(out, shape.length === 0 ? [1] : shape, nhwc ? 'nhwc' : 'plain');
  c.addNode(op, [a, b], [ir], {}, name);
}

export function binaryHandler(op: OpType): Handler {
  return (c, n) => {
    if (n.inputs.length !== 2) c.fail('inputs', `expected 2 inputs, found ${n.inputs.length}`);
    const a = c.input(0)!;
    let b = c.input(1)!;
    const rankA = a.kind === 'const' ? a.t.dims.length : a.shape.length;
    const dimsB = b.kind === 'const' ? b.t.dims : b.shape;
    // Opset < 7: B aligned at `axis` (Add/Sub/Mul/Div with broadcast=1), PRelu slope [C] on axis 1.
    let axis: number | undefined;
    if (c.opset < 7 && op === 'PRelu' && dimsB.length === 1 && rankA > 2 && dimsB[0] > 1) axis = 1;
    if (c.opset < 7 && op !== 'PRelu' && c.int('broadcast', 0) === 1 && dimsB.length < rankA) {
      axis = c.int('axis', rankA - dimsB.length);
      if (axis < 0) axis += rankA;
    }
    if (axis !== undefined) {
      const aligned = [...dimsB, ...new Array(rankA - axis - dimsB.length).fill(1)];
      if (b.kind === 'const') b = { ...b, t: { ...b.t, dims: aligned } };
      else {
        const name = c.fresh(`${n.inputs[1]}__aligned`);
        c.reshapeTo(b, aligned, name);
        b = c.values.get(name)!;
      }
    }
    binary(c, op, a, b, [n.inputs[0], n.inputs[1]], n.outputs[0], n.name);
  };
}

/** ONNX Max/Min take 1..N inputs: chained pairwise. */
export function variadic(op: OpType): Handler {
  return (c, n) => {
    if (n.inputs.length === 1) {
      c.alias(n.outputs[0], c.act(0));
      return;
    }
    let acc = c.input(0)!;
    let accName = n.inputs[0];
    for (let i = 1; i < n.inputs.length; i++) {
      const last = i === n.inputs.length - 1;
      const out = last ? n.outputs[0] : c.fresh(`${n.outputs[0]}__${i}`);
      binary(c, op, acc, c.input(i)!, [accName, n.inputs[i]], out, last ? n.name : `${n.name}/${i}`);
      acc = c.values.get(out)!;
      accName = out;
    }
  };
}

export function neg(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const m = c.constIR([-1], [1], `${n.name}__minus1`);
  const ir = c.produce(n.outputs[0], x.shape, x.layout);
  c.addNode('Mul', [x.ir, m], [ir], {}, n.name);
}

/** Mean of N inputs = their sum times 1/N. */
export function mean(c: Importer, n: OnnxNode): void {
  if (n.inputs.length === 1) {
    c.alias(n.outputs[0], c.act(0));
    return;
  }
  const sum = c.fresh(`${n.outputs[0]}__sum`);
  runAs(c, variadic('Add'), n, 'Sum', n.inputs, [sum]);
  runAs(
    c,
    binaryHandler('Mul'),
    n,
    'Mul',
    [sum, constValue(c, `${n.name}__1_over_n`, [1 / n.inputs.length], [])],
    [n.outputs[0]],
  );
}

export function reciprocal(c: Importer, n: OnnxNode): void {
  runAs(c, binaryHandler('Div'), n, 'Div', [constValue(c, `${n.name}__one`, [1], []), n.inputs[0]], [n.outputs[0]]);
}
