// Conv2D: NHWC input, OHWI weights [Co,KH,KW,Ci/G], optional bias [Co], groups (depthwise = groups = Ci),
// strides, dilations, padding, fused activation. Float64 reference and the int8 integer reference
// (acc = bias + Σ in-bounds taps (x − zp_in)·w, requantised per output channel; exact).
import { numElements, type Graph, type Node } from '../graph.ts';
import { weightedQs8 } from '../quant.ts';
import { requantizeChannel, type ChannelRequant } from '../requant.ts';
import {
  applyActivation,
  attrNum,
  checkActivation,
  lastAxis,
  checkClipRange,
  convGeometry,
  fail,
  fmt,
  FUSED_ACTIVATION,
  gradThroughFused,
  need,
  rank,
} from './helpers.ts';
import type { OpDef, TypeInfo, Value } from './op-def.ts';

type Ints = ArrayLike<number>;

export interface ConvQs8Args {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  groups: number;
  /** [top, left, bottom, right] */
  pad: readonly number[];
  oh: number;
  ow: number;
  zpIn: number;
  zpOut: number;
  qMin: number;
  qMax: number;
  fp: readonly ChannelRequant[];
}

/** Conv2D (groups; depthwise is groups = Ci): acc = bias[c] + Σ in-bounds taps (x − zp_in)·w. */
export function conv2dQs8Ref(x: Ints, w: Ints, bias: Ints | undefined, a: ConvQs8Args): Int8Array {
  const cig = a.ci / a.groups,
    cog = a.co / a.groups;
  const out = new Int8Array(a.n * a.oh * a.ow * a.co);
  let o = 0;
  for (let nn = 0; nn < a.n; nn++)
    for (let oy = 0; oy < a.oh; oy++)
      for (let ox = 0; ox < a.ow; ox++)
        for (let co = 0; co < a.co; co++) {
          const grp = Math.floor(co / cog);
          let acc = bias ? bias[co]! : 0;
          for (let ky = 0; ky < a.kh; ky++) {
            const iy = oy * a.sh - a.pad[0]! + ky * a.dh;
            if (iy < 0 || iy >= a.h) continue;
            for (let kx = 0; kx < a.kw; kx++) {
              const ix = ox * a.sw - a.pad[1]! + kx * a.dw;
              if (ix < 0 || ix >= a.w) continue;
              const xb = ((nn * a.h + iy) * a.w + ix) * a.ci + grp * cig;
              const wb = ((co * a.kh + ky) * a.kw + kx) * cig;
              for (let c = 0; c < cig; c++) acc += (x[xb + c]! - a.zpIn) * w[wb + c]!;
            }
          }
          out[o++] = requantizeChannel(acc, a.fp[co]!, a.zpOut, a.qMin, a.qMax);
        }
  return out;
}

function evaluateInt8(g: Graph, n: Node, ins: (Value | undefined)[], _outs: TypeInfo[]): Float64Array[] {
  const x = ins[0]!,
    w = ins[1]!;
  const q = weightedQs8(g, n, w.shape[0]!);
  const geo = convGeometry(n, x, w, g.source);
  return [Float64Array.from(conv2dQs8Ref(x.data, w.data, ins[2]?.data, { ...geo, ...q }))];
}

export const conv2d: OpDef = {
  schema: {
    inputs: [2, 3],
    outputs: 1,
    attrs: {
      strides: { kind: 'ints', length: 2, min: 1, default: [1, 1] },
      dilations: { kind: 'ints', length: 2, min: 1, default: [1, 1] },
      padding: { kind: 'padding', default: 'valid' },
      groups: { kind: 'int', min: 1, default: 1 },
      ...FUSED_ACTIVATION,
    },
    check: checkClipRange,
  },
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x'),
      w = need(n, ins, 1, file, 'weights');
    rank(n, x, 4, file, 'input');
    rank(n, w, 4, file, 'weights');
    const g = convGeometry(n, x, w, file);
    const b = ins[2];
    if (b && numElements(b.shape) !== g.co)
      fail(file, n, `bias ${fmt(b.shape)} does not match output channels ${g.co}`);
    checkActivation(n, file);
    return [{ shape: [g.n, g.oh, g.ow, g.co], dtype: x.dtype === 'int8' ? 'int8' : 'float32' }];
  },
  evaluate(n, ins) {
    const x = ins[0]!,
      w = ins[1]!,
      b = ins[2];
    const g = convGeometry(n, x, w, '');
    const cig = g.ci / g.groups,
      cog = g.co / g.groups;
    const out = new Float64Array(g.n * g.oh * g.ow * g.co);
    let o = 0;
    for (let nn = 0; nn < g.n; nn++)
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++)
          for (let co = 0; co < g.co; co++) {
            const grp = Math.floor(co / cog);
            let acc = b ? b.data[co]! : 0;
            for (let ky = 0; ky < g.kh; ky++) {
              const iy = oy * g.sh - g.pad[0] + ky * g.dh;
              if (iy < 0 || iy >= g.h) continue;
              for (let kx = 0; kx < g.kw; kx++) {
                const ix = ox * g.sw - g.pad[1] + kx * g.dw;
                if (ix < 0 || ix >= g.w) continue;
                const xb = ((nn * g.h + iy) * g.w + ix) * g.ci + grp * cig;
                const wb = ((co * g.kh + ky) * g.kw + kx) * cig;
                for (let c = 0; c < cig; c++) acc += x.data[xb + c]! * w.data[wb + c]!;
              }
            }
            out[o++] = acc;
          }
    return [applyActivation(n, out)];
  },
  int8: { quantize: 'own-params', evaluate: evaluateInt8 },
  channelFlow(n, ins) {
    const groups = attrNum(n, 'groups', 1),
      ci = ins[0]!.shape[3]!,
      co = ins[1]!.shape[0]!;
    const bias = ins[2] ? [{ input: 2, axis: lastAxis(ins[2]) }] : [];
    // depthwise with multiplier 1: channel c in is channel c out; its filters follow the channel
    if (groups > 1 && groups === ci && co === ci) {
      return {
        kind: 'elementwise',
        data: [0],
        params: [{ input: 1, axis: 0 }, ...bias],
        update: (node, c) => {
          node.attrs.groups = c;
        },
      };
    }
    return {
      kind: 'transform',
      data: 0,
      consumes: { input: 1, axis: 3 },
      produces: [{ input: 1, axis: 0 }, ...bias],
      groups,
    };
  },
  grad(b, n, dy) {
    const [x, w, bias] = n.inputs as [string, string, string | undefined];
    const xs = b.shape(x),
      ws = b.shape(w);
    const geo = convGeometry(n, { shape: xs, data: new Float64Array(0) }, { shape: ws, data: new Float64Array(0) }, '');
    const attrs = { strides: [geo.sh, geo.sw], dilations: [geo.dh, geo.dw], padding: [...geo.pad], groups: geo.groups };
    const dz = gradThroughFused(b, n, dy);
    return [
      b.wants(x) ? b.add('Conv2DGradInput', [dz, w], { ...attrs, inputShape: [...xs] })[0] : undefined,
      b.wants(w) ? b.add('Conv2DGradFilter', [x, dz], { ...attrs, weightShape: [...ws] })[0] : undefined,
      // db: Σ over batch and pixels, in pixel order (dz viewed [N·OH·OW, Co])
      bias && b.wants(bias)
        ? b.add('ReduceSum', [b.add('Reshape', [dz], { shape: [geo.n * geo.oh * geo.ow, geo.co] })[0]!], { axis: 0 })[0]
        : undefined,
    ];
  },
};
