// ONNX Conv (2-D; 1-D through window.ts): NCHW input and [Co,Ci/group,KH,KW] weights become an IR
// Conv2D on NHWC with OHWI weights; per-output-channel quant stays on axis 0.
import { numElements } from '../../../ir/graph.ts';
import type { OnnxNode } from '../decode.ts';
import { permuteData, TO_NHWC } from '../shapes.ts';
import type { Importer } from '../importer.ts';
import { spatial } from './window.ts';

export function conv(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  if (x.shape.length !== 4)
    c.fail('inputs[0]', `expected 4-D input [N,C,H,W] (2-D convolution), found shape [${x.shape}]`);
  const w = c.constInput(1, 'weights W');
  c.checkFloat(w, 1);
  const group = c.int('group', 1);
  if (w.dims.length !== 4) c.fail('inputs[1]', `expected 4-D weights [Co,Ci/group,KH,KW], found [${w.dims}]`);
  const [co, cig, kh, kw] = w.dims;
  const ci = x.shape[1];
  if (cig * group !== ci)
    c.fail('inputs[1]', `weights [${w.dims}] with group ${group} expected ${cig * group} input channels, found ${ci}`);
  const kernel = c.ints('kernel_shape') ?? [kh, kw];
  if (kernel[0] !== kh || kernel[1] !== kw)
    c.fail(`attr 'kernel_shape'`, `expected [${kh},${kw}] as in W, found [${kernel}]`);
  const s = spatial(c, x.shape.slice(2), kernel, false);
  // Per-output-channel quant (axis 0) stays axis 0 in OHWI.
  const inputs = [
    c.toNhwc(x),
    c.constIR(permuteData(w.values, w.dims, TO_NHWC), [co, kh, kw, cig], `${n.inputs[1]}__ohwi`, c.quantOf(1)),
  ];
  const b = c.optConst(2, 'bias B');
  if (b) {
    c.checkFloat(b, 2);
    if (numElements(b.dims) !== co) c.fail('inputs[2]', `expected ${co} bias values, found dims [${b.dims}]`);
    inputs.push(c.constIR(b.values, [co], n.inputs[2], c.quantOf(2)));
  }
  const ir = c.produce(n.outputs[0], [x.shape[0], co, ...s.out], 'nhwc');
  c.addNode(
    'Conv2D',
    inputs,
    [ir],
    {
      strides: s.strides,
      dilations: s.dilations,
      padding: s.pads,
      groups: group,
    },
    n.name,
  );
}
