// ONNX pooling: MaxPool / AveragePool (ceil_mode, count_include_pad), GlobalAveragePool, GlobalMaxPool
// (a MaxPool over the whole plane) and ReduceMean over H and W (global average pooling as TF exports it).
import type { Attrs } from '../../../ir/graph.ts';
import type { OnnxNode } from '../decode.ts';
import type { ActValue, Handler, Importer } from '../importer.ts';
import { runAs } from './compose.ts';
import { spatial } from './window.ts';

export function pool(op: 'MaxPool' | 'AvgPool'): Handler {
  return (c, n) => {
    const x = c.act(0);
    if (x.shape.length !== 4)
      c.fail('inputs[0]', `expected 4-D input [N,C,H,W] (2-D pooling), found shape [${x.shape}]`);
    if (n.outputs.length > 1 && n.outputs[1])
      c.fail('outputs[1]', 'expected no Indices output, found one (argmax indices are not supported)');
    const kernel = c.ints('kernel_shape');
    if (!kernel) c.fail(`attr 'kernel_shape'`, 'expected it, found nothing');
    const countIncludePad = op === 'AvgPool' && c.int('count_include_pad', 0) === 1;
    const before = c.ints('pads') ?? [0, 0, 0, 0];
    const s = spatial(c, x.shape.slice(2), kernel!, true);
    if (s.dilations[0] !== 1 || s.dilations[1] !== 1)
      c.fail(`attr 'dilations'`, `expected [1,1], found [${s.dilations}]`);
    if (countIncludePad && c.int('ceil_mode', 0) === 1 && s.pads.some((p, i) => p !== before[i])) {
      c.fail(`attr 'ceil_mode'`, 'expected 0 with count_include_pad=1 when the last window overhangs, found 1');
    }
    const ir = c.produce(n.outputs[0], [x.shape[0], x.shape[1], ...s.out], 'nhwc');
    const attrs: Attrs = { kernel: s.kernel, strides: s.strides, padding: s.pads };
    if (op === 'AvgPool') attrs.countIncludePad = countIncludePad;
    c.addNode(op, [c.toNhwc(x)], [ir], attrs, n.name);
  };
}

export function globalPool(op: 'avg' | 'max'): Handler {
  return (c, n) => {
    const x = c.act(0);
    if (x.shape.length !== 4) c.fail('inputs[0]', `expected 4-D input [N,C,H,W], found shape [${x.shape}]`);
    const ir = c.produce(n.outputs[0], [x.shape[0], x.shape[1], 1, 1], 'nhwc');
    if (op === 'avg') c.addNode('GlobalAvgPool', [c.toNhwc(x)], [ir], {}, n.name);
    else {
      const k = x.shape.slice(2);
      c.addNode('MaxPool', [c.toNhwc(x)], [ir], { kernel: k, strides: k, padding: 'valid' }, n.name);
    }
  };
}

/** ReduceMean over H and W of 4-D data (how TF exporters write global average pooling). */
export function reduceMean(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  const axes = (c.opset >= 18 ? (n.inputs[1] ? [...c.constInput(1, 'axes').values] : undefined) : c.ints('axes'))
    ?.map((a) => (a < 0 ? a + r : a))
    .sort((a, b) => a - b);
  if (r !== 4 || !axes || axes.length !== 2 || axes[0] !== 2 || axes[1] !== 3) {
    c.fail('axes', `expected axes [2, 3] of 4-D data (global average pooling), found [${axes ?? 'all'}] of rank ${r}`);
  }
  const keep = c.int('keepdims', 1) === 1;
  const out = keep ? n.outputs[0] : c.fresh(`${n.outputs[0]}__keep`);
  runAs(c, globalPool('avg'), n, 'GlobalAveragePool', [n.inputs[0]], [out]);
  if (!keep) c.reshapeTo(c.values.get(out) as ActValue, [x.shape[0], x.shape[1]], n.outputs[0]);
}
