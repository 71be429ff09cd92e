// ONNX shape ops: Flatten, Reshape, Squeeze, Unsqueeze (reshapes of NCHW element order), Transpose
// (composed with the value's layout), and the no-ops Identity, Dropout (inference) and float→float Cast.
import { numElements } from '../../../ir/graph.ts';
import { ONNX_DTYPE, onnxDtypeName } from '../decode.ts';
import type { OnnxNode } from '../decode.ts';
import { permute, reshapeTarget, TO_NCHW } from '../shapes.ts';
import type { Importer } from '../importer.ts';

export function flatten(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  let axis = c.int('axis', 1);
  if (axis < 0) axis += x.shape.length;
  const shape = [numElements(x.shape.slice(0, axis)), numElements(x.shape.slice(axis))];
  c.reshapeTo(x, shape, n.outputs[0]);
}

export function reshape(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const spec = c.opset < 5 ? (c.ints('shape') ?? []) : [...c.constInput(1, 'shape').values];
  const target = reshapeTarget(x.shape, spec, c.int('allowzero', 0) === 1);
  if (typeof target === 'string') c.fail('inputs[1]', `expected a shape for [${x.shape}], found [${spec}] (${target})`);
  c.reshapeTo(x, target, n.outputs[0]);
}

function axesArg(c: Importer, idx: number, attr: string): number[] | undefined {
  if (c.opset >= 13) {
    const t = c.optConst(idx, 'axes');
    return t ? [...t.values] : undefined;
  }
  return c.ints(attr);
}

export function squeeze(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  const axes = (axesArg(c, 1, 'axes') ?? x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) =>
    a < 0 ? a + r : a,
  );
  for (const a of axes) if (x.shape[a] !== 1) c.fail('axes', `expected axis ${a} of size 1, found ${x.shape[a]}`);
  c.reshapeTo(
    x,
    x.shape.filter((_, i) => !axes.includes(i)),
    n.outputs[0],
  );
}

export function unsqueeze(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const axes = axesArg(c, 1, 'axes');
  if (!axes) c.fail('axes', 'expected axes, found none');
  const r = x.shape.length + axes.length;
  const norm = axes.map((a) => (a < 0 ? a + r : a));
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) out.push(norm.includes(i) ? 1 : x.shape[j++]);
  c.reshapeTo(x, out, n.outputs[0]);
}

export function transpose(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  const perm = c.ints('perm') ?? x.shape.map((_, i) => r - 1 - i);
  const shape = permute(x.shape, perm);
  // On NHWC data the ONNX perm composes with the layout: IR axis i holds ONNX axis TO_NHWC[i].
  const irPerm = x.layout === 'nhwc' ? perm.map((p) => TO_NCHW[p]) : perm;
  if (irPerm.every((p, i) => p === i) && !c.g.tensors.get(x.ir)?.data) {
    if (!c.graphOutputs.has(n.outputs[0])) {
      c.alias(n.outputs[0], { kind: 'act', ir: x.ir, shape, layout: 'plain' });
      return;
    }
  }
  const ir = c.produce(n.outputs[0], shape, 'plain');
  c.addNode('Transpose', [x.ir], [ir], { perm: irPerm }, n.name);
}

export function identity(c: Importer, n: OnnxNode): void {
  if (n.opType === 'Dropout' && n.outputs[1]) c.fail('outputs[1]', 'expected no mask output (inference), found one');
  if (n.opType === 'Dropout' && n.inputs[2]) {
    const training = c.constInput(2, 'training_mode');
    if (training.values[0] !== 0) c.fail('inputs[2]', 'expected training_mode false (inference), found true');
  }
  const v = c.input(0)!;
  c.alias(n.outputs[0], v);
}

/** Cast of computed data: only float → float (a no-op in float32); constants fold. */
export function cast(c: Importer, n: OnnxNode): void {
  const to = c.int('to', ONNX_DTYPE.FLOAT);
  if (to !== ONNX_DTYPE.FLOAT) c.fail(`attr 'to'`, `expected float (1) for computed data, found ${onnxDtypeName(to)}`);
  c.alias(n.outputs[0], c.act(0));
}
