// ONNX Pad, constant mode only: pads as attr (< 11) or input (≥ 11, with optional axes), mapped to the IR layout.
import { FLOAT32_MAX } from '../../../ir/ops/helpers.ts';
import type { OnnxNode } from '../decode.ts';
import { permute, TO_NHWC } from '../shapes.ts';
import type { Importer } from '../importer.ts';

export function pad(c: Importer, n: OnnxNode): void {
  const x = c.act(0);
  const r = x.shape.length;
  const mode = c.str('mode', 'constant');
  if (mode !== 'constant') c.fail(`attr 'mode'`, `expected 'constant', found '${mode}'`);
  let pads: number[];
  let value = 0;
  if (c.opset < 11) {
    pads = c.ints('pads') ?? [];
    value = c.float('value', 0);
  } else {
    pads = [...c.constInput(1, 'pads').values];
    const cv = c.optConst(2, 'constant_value');
    if (cv) value = cv.values[0] ?? 0;
    const axesT = c.optConst(3, 'axes');
    if (axesT) {
      const full = new Array(2 * r).fill(0);
      const axes = [...axesT.values].map((a) => (a < 0 ? a + r : a));
      axes.forEach((a, i) => {
        full[a] = pads[i];
        full[a + r] = pads[i + axes.length];
      });
      pads = full;
    }
  }
  if (pads.length !== 2 * r) c.fail('pads', `expected ${2 * r} values, found ${pads.length}`);
  if (pads.some((p) => p < 0)) c.fail('pads', `expected pads ≥ 0 (cropping is not supported), found [${pads}]`);
  const shape = x.shape.map((d, i) => d + pads[i] + pads[i + r]);
  const nhwc = x.layout === 'nhwc';
  const irPads = nhwc ? [...permute(pads.slice(0, r), TO_NHWC), ...permute(pads.slice(r), TO_NHWC)] : pads;
  const ir = c.produce(n.outputs[0], shape, x.layout);
  c.addNode('Pad', [x.ir], [ir], { pads: irPads, value: Math.min(Math.max(value, -FLOAT32_MAX), FLOAT32_MAX) }, n.name);
}
