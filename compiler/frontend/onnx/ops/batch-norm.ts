// ONNX BatchNormalization (inference form) on 2-D, 3-D (via [N,L,C] transposes) and 4-D (NHWC) data.
import { numElements } from '../../../ir/graph.ts';
import type { OnnxNode } from '../decode.ts';
import type { Importer } from '../importer.ts';

export function batchNorm(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  if (c.int('training_mode', 0) !== 0) c.fail(`attr 'training_mode'`, 'expected 0 (inference), found 1');
  if (n.outputs.slice(1).some((o) => o))
    c.fail('outputs', 'expected only Y (inference), found running mean/var outputs');
  const eps = c.float('epsilon', 1e-5);
  const ch = x.shape[1];
  const params = [1, 2, 3, 4].map((i) => {
    const t = c.constInput(i, ['scale', 'B', 'mean', 'var'][i - 1]);
    c.checkFloat(t, i);
    if (numElements(t.dims) !== ch)
      c.fail(`inputs[${i}]`, `expected ${ch} values (one per channel), found dims [${t.dims}]`);
    return c.constIR(t.values, [ch], n.inputs[i]);
  });
  if (x.shape.length === 4) {
    const ir = c.produce(n.outputs[0], x.shape, 'nhwc');
    c.addNode('BatchNorm', [c.toNhwc(x), ...params], [ir], { epsilon: eps }, n.name);
  } else if (x.shape.length === 2) {
    const ir = c.produce(n.outputs[0], x.shape, 'plain');
    c.addNode('BatchNorm', [x.ir, ...params], [ir], { epsilon: eps }, n.name);
  } else if (x.shape.length === 3) {
    const t = c.fresh(`${n.name}/nlc`);
    c.addAct(t, [x.shape[0], x.shape[2], x.shape[1]]);
    c.addNode('Transpose', [c.toPlain(x)], [t], { perm: [0, 2, 1] });
    const y = c.fresh(`${n.name}/y_nlc`);
    c.addAct(y, [x.shape[0], x.shape[2], x.shape[1]]);
    c.addNode('BatchNorm', [t, ...params], [y], { epsilon: eps }, n.name);
    const ir = c.produce(n.outputs[0], x.shape, 'plain');
    c.addNode('Transpose', [y], [ir], { perm: [0, 2, 1] });
  } else {
    c.fail('inputs[0]', `expected 2-D, 3-D or 4-D input, found shape [${x.shape}]`);
  }
}
