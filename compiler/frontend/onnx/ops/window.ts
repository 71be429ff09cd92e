// 2-D window geometry shared by Conv and the pools: ONNX pads / auto_pad / ceil_mode resolved to explicit
// [top,left,bottom,right] pads, and 1-D [N,C,L] ops run as their 2-D form on [N,C,1,L].
import type { ActValue, Handler, Importer } from '../importer.ts';
import { runAs } from './compose.ts';

interface Spatial {
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: number[];
  out: number[];
}

/** Resolves ONNX pads/auto_pad/ceil_mode to explicit [top,left,bottom,right] pads for a 2-D window. */
export function spatial(c: Importer, hw: number[], kernel: number[], allowCeil: boolean): Spatial {
  const strides = c.ints('strides') ?? [1, 1];
  const dilations = c.ints('dilations') ?? [1, 1];
  const autoPad = c.str('auto_pad', 'NOTSET');
  let pads = c.ints('pads') ?? [0, 0, 0, 0];
  if (strides.length !== 2 || dilations.length !== 2 || pads.length !== 4 || kernel.length !== 2) {
    c.fail(
      'attrs',
      'expected a 2-D window (kernel_shape, strides, dilations of 2, pads of 4), found another rank (only 2-D spatial ops are supported)',
    );
  }
  const eff = kernel.map((k, i) => (k - 1) * dilations[i] + 1);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = hw.map((h, i) => Math.max((Math.ceil(h / strides[i]) - 1) * strides[i] + eff[i] - h, 0));
    const small = total.map((t) => Math.floor(t / 2));
    const begin = autoPad === 'SAME_UPPER' ? small : total.map((t, i) => t - small[i]);
    pads = [begin[0], begin[1], total[0] - begin[0], total[1] - begin[1]];
  } else if (autoPad === 'VALID') {
    pads = [0, 0, 0, 0];
  } else if (autoPad !== 'NOTSET') {
    c.fail(`attr 'auto_pad'`, `expected NOTSET, SAME_UPPER, SAME_LOWER or VALID, found ${autoPad}`);
  }
  const ceil = c.int('ceil_mode', 0) === 1;
  if (ceil && !allowCeil) c.fail(`attr 'ceil_mode'`, 'expected 0, found 1');
  const out = hw.map((h, i) => {
    const span = h + pads[i] + pads[i + 2] - eff[i];
    if (span < 0) c.fail('inputs', `window ${eff[i]} is larger than padded input ${h + pads[i] + pads[i + 2]}`);
    let o = (ceil ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
    // ONNX/PyTorch drop a last window that would start in the end padding.
    if (ceil && (o - 1) * strides[i] >= h + pads[i]) o--;
    return o;
  });
  if (ceil) {
    // Emulate ceil_mode with extra end padding that no window ever reads as data.
    pads = [...pads];
    for (let i = 0; i < 2; i++) {
      const need = (out[i] - 1) * strides[i] + eff[i] - (hw[i] + pads[i] + pads[i + 2]);
      if (need > 0) pads[i + 2] += need;
    }
  }
  return { kernel, strides, dilations, pads, out };
}

/** Conv / pools on 3-D [N,C,L] data run as their 2-D form on [N,C,1,L] with a 1×k window. */
export function with1d(handler: Handler, hasWeights: boolean): Handler {
  return (c, n) => {
    const x = c.act(0);
    if (x.shape.length !== 3) {
      handler(c, n);
      return;
    }
    const [batch, ch, len] = x.shape;
    const x4 = c.fresh(`${n.inputs[0]}__2d`);
    c.reshapeTo(x, [batch, ch, 1, len], x4);
    const inputs = [x4, ...n.inputs.slice(1)];
    if (hasWeights) {
      const wv = c.input(1);
      const w = c.constInput(1, 'weights W');
      inputs[1] = c.fresh(`${n.inputs[1]}__2d`);
      c.setConst(
        inputs[1],
        { ...w, dims: [w.dims[0], w.dims[1], 1, ...w.dims.slice(2)] },
        wv?.kind === 'const' ? wv.quant : undefined,
      );
    }
    const attrs = new Map(n.attrs);
    for (const k of ['kernel_shape', 'strides', 'dilations']) {
      const a = attrs.get(k);
      if (a?.kind === 'ints') attrs.set(k, { kind: 'ints', value: [1, ...a.value] });
    }
    const pads = attrs.get('pads');
    if (pads?.kind === 'ints') attrs.set('pads', { kind: 'ints', value: [0, pads.value[0], 0, pads.value[1]] });
    const y4 = c.fresh(`${n.outputs[0]}__2d`);
    runAs(c, handler, n, n.opType, inputs, [y4, ...n.outputs.slice(1)], attrs);
    const yv = c.values.get(y4) as ActValue;
    c.reshapeTo(yv, [yv.shape[0], yv.shape[1], yv.shape[3]], n.outputs[0]);
  };
}
