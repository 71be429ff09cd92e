// ONNX Softmax: one axis from opset 13; before 13 over the flattened trailing dims (reshape, softmax, reshape).
import { numElements } from '../../../ir/graph.ts';
import type { OnnxNode } from '../decode.ts';
import { TO_NCHW } from '../shapes.ts';
import type { ActValue, Importer } from '../importer.ts';

export function softmax(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  let axis = c.int('axis', c.opset >= 13 ? -1 : 1);
  if (axis < 0) axis += r;
  if (c.opset >= 13 || axis === r - 1) {
    const ir = c.produce(n.outputs[0], x.shape, x.layout);
    c.addNode('Softmax', [x.ir], [ir], { axis: x.layout === 'nhwc' ? TO_NCHW[axis] : axis }, n.name);
    return;
  }
  // Opset < 13: softmax over the flattened trailing dims [d_axis … d_r-1].
  const flat = c.fresh(`${n.name}/2d`);
  c.reshapeTo(x, [numElements(x.shape.slice(0, axis)), numElements(x.shape.slice(axis))], flat);
  const fv = c.values.get(flat) as ActValue;
  const sm = c.fresh(`${n.name}/sm`);
  const smIr = c.produce(sm, fv.shape, 'plain');
  c.addNode('Softmax', [fv.ir], [smIr], { axis: -1 }, n.name);
  c.reshapeTo({ kind: 'act', ir: smIr, shape: fv.shape, layout: 'plain' }, x.shape, n.outputs[0]);
}
