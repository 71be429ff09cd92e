// Conv2D's backward ops (training graphs): Conv2DGradInput (dy, w OHWI; attrs.inputShape) → dx and
// Conv2DGradFilter (x, dy; attrs.weightShape) → dw OHWI, with the forward node's strides, dilations,
// padding and groups (depthwise = groups = Ci; 1×k / k×1 alike). Float64 references sum in the orders of
// the kernels Conv2DGradInput_F32 / Conv2DGradFilter_F32 (assembly/kernels/train/f32-conv-grad.ts).
import type { Node, Tensor } from '../graph.ts';
import { attrNums, convGeometry, fail, fmt, need, rank, type ConvGeometry } from './helpers.ts';
import type { OpDef, OpSchema, Value } from './op-def.ts';

const schema = (shapeAttr: string): OpSchema => ({
  inputs: [2, 2],
  outputs: 1,
  attrs: {
    strides: { kind: 'ints', length: 2, min: 1, default: [1, 1] },
    dilations: { kind: 'ints', length: 2, min: 1, default: [1, 1] },
    padding: { kind: 'padding', default: 'valid' },
    groups: { kind: 'int', min: 1, default: 1 },
    [shapeAttr]: { kind: 'ints', length: 4, min: 1 },
  },
});

function geometry(
  n: Node,
  x: Pick<Tensor, 'shape'>,
  w: Pick<Tensor, 'shape'>,
  dy: Pick<Tensor, 'shape'>,
  file: string,
): ConvGeometry {
  const g = convGeometry(n, x as Tensor, w as Tensor, file);
  const want = [g.n, g.oh, g.ow, g.co];
  if (dy.shape.join() !== want.join()) fail(file, n, `dy ${fmt(dy.shape)} is not the forward output ${fmt(want)}`);
  return g;
}

function f32(n: Node, t: Tensor, file: string, what: string): void {
  rank(n, t, 4, file, what);
  if (t.dtype !== 'float32') fail(file, n, `${what} '${t.name}' must be float32, found ${t.dtype}`);
}

export const conv2dGradInput: OpDef = {
  schema: schema('inputShape'),
  trainingOnly: true,
  infer(n, ins, file) {
    const dy = need(n, ins, 0, file, 'dy'),
      w = need(n, ins, 1, file, 'weights');
    f32(n, dy, file, 'dy');
    f32(n, w, file, 'weights');
    const xs = attrNums(n, 'inputShape', []);
    if (xs.length !== 4) fail(file, n, `inputShape must be [N,H,W,Ci], found ${JSON.stringify(n.attrs.inputShape)}`);
    geometry(n, { shape: xs }, w, dy, file);
    return [{ shape: [...xs], dtype: 'float32' }];
  },
  evaluate(n, ins) {
    const dy = ins[0]!,
      w = ins[1]!;
    const g = geometry(n, { shape: attrNums(n, 'inputShape', []) }, w, dy, '');
    const cig = g.ci / g.groups,
      cog = g.co / g.groups;
    const dx = new Float64Array(g.n * g.h * g.w * g.ci);
    for (let nn = 0; nn < g.n; nn++)
      for (let iy = 0; iy < g.h; iy++)
        for (let ix = 0; ix < g.w; ix++)
          for (let ci = 0; ci < g.ci; ci++) {
            const grp = Math.floor(ci / cig);
            let acc = 0;
            for (let ky = 0; ky < g.kh; ky++)
              for (let kx = 0; kx < g.kw; kx++) {
                const ty = iy + g.pad[0] - ky * g.dh,
                  tx = ix + g.pad[1] - kx * g.dw;
                if (ty < 0 || tx < 0 || ty % g.sh !== 0 || tx % g.sw !== 0) continue;
                const oy = ty / g.sh,
                  ox = tx / g.sw;
                if (oy >= g.oh || ox >= g.ow) continue;
                for (let co = grp * cog; co < (grp + 1) * cog; co++) {
                  acc +=
                    dy.data[((nn * g.oh + oy) * g.ow + ox) * g.co + co]! *
                    w.data[((co * g.kh + ky) * g.kw + kx) * cig + ci - grp * cig]!;
                }
              }
            dx[((nn * g.h + iy) * g.w + ix) * g.ci + ci] = acc;
          }
    return [dx];
  },
};

export const conv2dGradFilter: OpDef = {
  schema: schema('weightShape'),
  trainingOnly: true,
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x'),
      dy = need(n, ins, 1, file, 'dy');
    f32(n, x, file, 'x');
    f32(n, dy, file, 'dy');
    const ws = attrNums(n, 'weightShape', []);
    if (ws.length !== 4)
      fail(file, n, `weightShape must be [Co,KH,KW,Ci/G], found ${JSON.stringify(n.attrs.weightShape)}`);
    geometry(n, x, { shape: ws }, dy, file);
    return [{ shape: [...ws], dtype: 'float32' }];
  },
  evaluate(n, ins) {
    const x = ins[0]! as Value,
      dy = ins[1]!;
    const g = geometry(n, x, { shape: attrNums(n, 'weightShape', []) }, dy, '');
    const cig = g.ci / g.groups,
      cog = g.co / g.groups;
    const dw = new Float64Array(g.co * g.kh * g.kw * cig);
    for (let co = 0; co < g.co; co++)
      for (let ky = 0; ky < g.kh; ky++)
        for (let kx = 0; kx < g.kw; kx++)
          for (let c = 0; c < cig; c++) {
            const ci = Math.floor(co / cog) * cig + c;
            let acc = 0;
            for (let nn = 0; nn < g.n; nn++)
              for (let oy = 0; oy < g.oh; oy++)
                for (let ox = 0; ox < g.ow; ox++) {
                  const iy = oy * g.sh - g.pad[0] + ky * g.dh,
                    ix = ox * g.sw - g.pad[1] + kx * g.dw;
                  if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                  acc +=
                    dy.data[((nn * g.oh + oy) * g.ow + ox) * g.co + co]! *
                    x.data[((nn * g.h + iy) * g.w + ix) * g.ci + ci]!;
                }
            dw[((co * g.kh + ky) * g.kw + kx) * cig + c] = acc;
          }
    return [dw];
  },
};
