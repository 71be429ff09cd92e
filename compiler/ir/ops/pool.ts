// MaxPool and AvgPool (countIncludePad) over NHWC windows: kernel, strides (default = kernel), padding.
// Float64 reference and the int8 integer reference (input and output share scale and zero point; the
// average rounds half away from zero; exact).
import type { Graph, Node } from '../graph.ts';
import { tensorQuant } from '../quant.ts';
import { divRoundHalfAway } from '../requant.ts';
import {
  attrNum,
  attrNums,
  fail,
  fmt,
  need,
  outDim,
  rank,
  resolvePadding,
  type PadSpec,
  passChannels,
} from './helpers.ts';
import type { AttrSchema, OpDef, TypeInfo, Value } from './op-def.ts';
import { ModelError } from '../graph.ts';

export interface PoolGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pad: PadSpec;
  oh: number;
  ow: number;
}

export function poolGeometry(n: Node, shape: readonly number[], file: string): PoolGeometry {
  const [N, H, W, C] = shape as [number, number, number, number];
  const k = attrNums(n, 'kernel', []);
  if (k.length !== 2 || !k.every((v) => Number.isInteger(v) && v >= 1))
    fail(file, n, `kernel must be [kh,kw] ≥ 1, found ${JSON.stringify(n.attrs.kernel)}`);
  const [kh, kw] = k as [number, number];
  const [sh, sw] = attrNums(n, 'strides', [kh, kw]) as [number, number];
  if (!(sh >= 1 && sw >= 1)) fail(file, n, `strides must be ≥ 1, found ${JSON.stringify(n.attrs.strides)}`);
  const pad = resolvePadding(n, file, H, W, kh, kw, sh, sw, 1, 1);
  if (pad[0] >= kh || pad[2] >= kh || pad[1] >= kw || pad[3] >= kw)
    fail(file, n, `padding ${fmt(pad)} must be smaller than the kernel ${kh}x${kw}`);
  const oh = outDim(H, kh, sh, 1, pad[0], pad[2]);
  const ow = outDim(W, kw, sw, 1, pad[1], pad[3]);
  if (oh < 1 || ow < 1) fail(file, n, `kernel ${kh}x${kw} is larger than the padded input ${H}x${W}`);
  return { n: N, h: H, w: W, c: C, kh, kw, sh, sw, pad, oh, ow };
}

export interface PoolQs8Args {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pad: readonly number[];
  oh: number;
  ow: number;
  countIncludePad: boolean;
  zp: number;
}

/** MaxPool / AvgPool with input and output sharing scale and zero point. */
export function poolQs8Ref(kind: 'max' | 'avg', x: ArrayLike<number>, a: PoolQs8Args): Int8Array {
  const out = new Int8Array(a.n * a.oh * a.ow * a.c);
  let o = 0;
  for (let nn = 0; nn < a.n; nn++)
    for (let oy = 0; oy < a.oh; oy++)
      for (let ox = 0; ox < a.ow; ox++)
        for (let c = 0; c < a.c; c++) {
          let acc = kind === 'max' ? -128 : 0,
            cnt = 0,
            padded = 0;
          for (let ky = 0; ky < a.kh; ky++)
            for (let kx = 0; kx < a.kw; kx++) {
              const iy = oy * a.sh - a.pad[0]! + ky,
                ix = ox * a.sw - a.pad[1]! + kx;
              if (iy >= -a.pad[0]! && iy < a.h + a.pad[2]! && ix >= -a.pad[1]! && ix < a.w + a.pad[3]!) padded++;
              if (iy < 0 || iy >= a.h || ix < 0 || ix >= a.w) continue;
              const v = x[((nn * a.h + iy) * a.w + ix) * a.c + c]!;
              acc = kind === 'max' ? Math.max(acc, v) : acc + v - a.zp;
              cnt++;
            }
          const v = kind === 'max' ? acc : a.zp + divRoundHalfAway(acc, a.countIncludePad ? padded : cnt);
          out[o++] = Math.min(127, Math.max(-128, v));
        }
  return out;
}

function evaluateInt8(kind: 'max' | 'avg') {
  return (g: Graph, n: Node, ins: (Value | undefined)[], _outs: TypeInfo[]): Float64Array[] => {
    const x = ins[0]!;
    const qi = tensorQuant(g, n.inputs[0]!, n),
      qo = tensorQuant(g, n.outputs[0]!, n);
    if (Math.fround(qi.scale) !== Math.fround(qo.scale) || qi.zp !== qo.zp) {
      throw new ModelError(
        g.source,
        `node '${n.name}' (${n.op})`,
        `int8 pooling needs the output quant equal to the input's (insert a Requantize)`,
      );
    }
    const geo = poolGeometry(n, x.shape, g.source);
    const countIncludePad = attrNum(n, 'countIncludePad', 0) !== 0;
    // TFLite's int8 AVERAGE_POOL_2D rounds the raw sum: the same formula with zero point 0 (AvgPool_QS8_RAW)
    const raw = kind === 'avg' && g.int8Arithmetic === 'tflite' && !countIncludePad;
    return [Float64Array.from(poolQs8Ref(kind, x.data, { ...geo, countIncludePad, zp: raw ? 0 : qi.zp }))];
  };
}

function pool(kind: 'max' | 'avg', extra: Record<string, AttrSchema>): OpDef {
  return {
    schema: {
      inputs: [1, 1],
      outputs: 1,
      attrs: {
        kernel: { kind: 'ints', length: 2, min: 1 },
        strides: {
          kind: 'ints',
          length: 2,
          min: 1,
          derive: (a) => [...(a.kernel as number[])],
          deriveDoc: 'kernel',
        },
        padding: { kind: 'padding', default: 'valid' },
        ...extra,
      },
    },
    infer(n, ins, file) {
      const x = need(n, ins, 0, file, 'x');
      rank(n, x, 4, file, 'input');
      const g = poolGeometry(n, x.shape, file);
      return [{ shape: [g.n, g.oh, g.ow, g.c], dtype: x.dtype }];
    },
    evaluate(n, ins) {
      const x = ins[0]!;
      const g = poolGeometry(n, x.shape, '');
      const incl = attrNum(n, 'countIncludePad', 0) !== 0;
      const out = new Float64Array(g.n * g.oh * g.ow * g.c);
      let o = 0;
      for (let nn = 0; nn < g.n; nn++)
        for (let oy = 0; oy < g.oh; oy++)
          for (let ox = 0; ox < g.ow; ox++)
            for (let c = 0; c < g.c; c++) {
              let acc = kind === 'max' ? -Infinity : 0;
              let cnt = 0,
                padded = 0;
              for (let ky = 0; ky < g.kh; ky++) {
                const iy = oy * g.sh - g.pad[0] + ky;
                for (let kx = 0; kx < g.kw; kx++) {
                  const ix = ox * g.sw - g.pad[1] + kx;
                  if (iy >= -g.pad[0] && iy < g.h + g.pad[2] && ix >= -g.pad[1] && ix < g.w + g.pad[3]) padded++;
                  if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                  const v = x.data[((nn * g.h + iy) * g.w + ix) * g.c + c]!;
                  acc = kind === 'max' ? Math.max(acc, v) : acc + v;
                  cnt++;
                }
              }
              out[o++] = kind === 'max' ? acc : acc / (incl ? padded : cnt);
            }
      return [out];
    },
    int8: { quantize: 'input-params', evaluate: evaluateInt8(kind) },
    channelFlow: passChannels,
    grad(b, n, dy) {
      const x = n.inputs[0]!,
        xs = b.shape(x);
      const g = poolGeometry(n, xs, '');
      const attrs = {
        kernel: [g.kh, g.kw],
        strides: [g.sh, g.sw],
        padding: [...g.pad],
        countIncludePad: attrNum(n, 'countIncludePad', 0) !== 0,
      };
      return [
        kind === 'max'
          ? b.add('MaxPoolGrad', [x, dy], attrs)[0]
          : b.add('AvgPoolGrad', [dy], { ...attrs, inputShape: [...xs] })[0],
      ];
    },
  };
}

export const maxPool = pool('max', {});
export const avgPool = pool('avg', { countIncludePad: { kind: 'bool', default: false } });
