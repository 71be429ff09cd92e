// ONNX Concat: NHWC when any 4-D input is, constants permuted to match; the axis maps to the IR layout.
import type { OnnxNode } from '../decode.ts';
import { permute, permuteData, TO_NCHW, TO_NHWC } from '../shapes.ts';
import type { Importer } from '../importer.ts';

export function concat(c: Importer, n: OnnxNode): void {
  const vals = n.inputs.map((_, i) => c.input(i)!);
  const shapes = vals.map((v) => (v.kind === 'const' ? v.t.dims : v.shape));
  const r = shapes[0].length;
  let axis = c.int('axis', NaN);
  if (Number.isNaN(axis)) c.fail(`attr 'axis'`, 'expected it, found nothing');
  if (axis < 0) axis += r;
  const shape = [...shapes[0]];
  shape[axis] = shapes.reduce((s, d) => s + d[axis], 0);
  vals.forEach((v, i) => {
    if (v.kind === 'const') c.checkFloat(v.t, i);
  });
  const nhwc = r === 4 && vals.some((v) => v.kind === 'act' && v.layout === 'nhwc');
  const irs = vals.map((v, i) => {
    if (v.kind === 'act') return nhwc ? c.toNhwc(v) : c.toPlain(v);
    return nhwc
      ? c.constIR(permuteData(v.t.values, v.t.dims, TO_NHWC), permute(v.t.dims, TO_NHWC), `${n.inputs[i]}__nhwc`)
      : c.constIR(v.t.values, v.t.dims, n.inputs[i]);
  });
  const ir = c.produce(n.outputs[0], shape, nhwc ? 'nhwc' : 'plain');
  c.addNode('Concat', irs, [ir], { axis: nhwc ? TO_NCHW[axis] : axis }, n.name);
}
