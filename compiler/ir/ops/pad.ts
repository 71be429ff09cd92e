// Pad with a constant: attrs.pads = [begin per axis…, end per axis…] ≥ 0, attrs.value. On int8 the fill is
// the output zero point (the quantised 0; the quantize pass only places Pads with value 0).
import { numElements, type Graph, type Node } from '../graph.ts';
import { tensorQuant } from '../quant.ts';
import { attrNum, attrNums, fail, need, rowStrides, passChannels } from './helpers.ts';
import type { OpDef, TypeInfo, Value } from './op-def.ts';

function padsOf(n: Node, r: number, file: string): number[] {
  const pads = attrNums(n, 'pads', []);
  if (pads.length !== 2 * r || pads.some((p) => !Number.isInteger(p) || p < 0)) {
    fail(
      file,
      n,
      `pads must hold ${2 * r} non-negative integers (begins then ends), found ${JSON.stringify(n.attrs.pads)}`,
    );
  }
  return pads;
}

function evaluateInt8(g: Graph, n: Node, ins: (Value | undefined)[], outs: TypeInfo[]): Float64Array[] {
  const x = ins[0]!;
  const qo = tensorQuant(g, n.outputs[0]!, n);
  const s = x.shape,
    r = s.length,
    pads = attrNums(n, 'pads', []);
  const os = outs[0]!.shape;
  const res = new Float64Array(numElements(os)).fill(qo.zp);
  const idx = new Array<number>(r).fill(0);
  for (let i = 0; i < x.data.length; i++) {
    let o = 0;
    for (let k = 0; k < r; k++) o = o * os[k]! + idx[k]! + pads[k]!;
    res[o] = x.data[i]!;
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k]! < s[k]!) break;
      idx[k] = 0;
    }
  }
  return [res];
}

export const pad: OpDef = {
  schema: {
    inputs: [1, 1],
    outputs: 1,
    attrs: { pads: { kind: 'ints', min: 0 }, value: { kind: 'float', default: 0 } },
    check: (a) =>
      (a.pads as number[]).length % 2 === 0
        ? undefined
        : `attr 'pads': expected an even count [b0..bn-1, e0..en-1], found ${(a.pads as number[]).length} values`,
  },
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    const r = x.shape.length;
    const pads = padsOf(n, r, file);
    return [{ shape: x.shape.map((d, i) => d + pads[i]! + pads[i + r]!), dtype: x.dtype }];
  },
  evaluate(n, ins, outs) {
    const x = ins[0]!;
    const r = x.shape.length;
    const pads = padsOf(n, r, '');
    const shape = outs[0]!.shape;
    const out = new Float64Array(numElements(shape)).fill(attrNum(n, 'value', 0));
    const ost = rowStrides(shape);
    const idx = new Array<number>(r).fill(0);
    for (let i = 0; i < x.data.length; i++) {
      let o = 0;
      for (let k = 0; k < r; k++) o += (idx[k]! + pads[k]!) * ost[k]!;
      out[o] = x.data[i]!;
      for (let k = r - 1; k >= 0; k--) {
        if (++idx[k]! < x.shape[k]!) break;
        idx[k] = 0;
      }
    }
    return [out];
  },
  int8: { quantize: 'input-params', evaluate: evaluateInt8 },
  channelFlow(n, ins) {
    const r = ins[0]!.shape.length,
      pads = attrNums(n, 'pads', []);
    return pads[r - 1] === 0 && pads[2 * r - 1] === 0
      ? passChannels()
      : { kind: 'boundary', why: 'pads the channel axis' };
  },
  grad(b, n, dy) {
    // the gradient of the padded area is dropped: dx is dy's slice at the input's place
    const s = b.shape(n.inputs[0]!),
      r = s.length;
    const pads = padsOf(n, r, '');
    const axes = s.map((_d, k) => k);
    return [
      b.add('Slice', [dy], {
        starts: axes.map((k) => pads[k]!),
        ends: axes.map((k) => pads[k]! + s[k]!),
        axes,
        steps: axes.map(() => 1),
      })[0],
    ];
  },
};
