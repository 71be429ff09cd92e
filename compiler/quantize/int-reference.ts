// TS reference of every integer kernel (docs/quantization.md) on IR layouts: NHWC int8 activations,
// Conv2D weights OHWI [Co,KH,KW,Ci/G], Dense [out,in], int32 bias, per-channel multipliers/shifts.
// Slow and obvious: the truth for int8 plans, bit for bit; evaluate() routes int8 nodes here.
import { ModelError, numElements, type Graph, type Node, type QuantParams } from '../ir/graph.ts';
import {
  activationOf, attrNum, attrNums, broadcastStrides, convGeometry, poolGeometry, type TypeInfo, type Value,
} from '../ir/ops.ts';
import {
  activationClamp, addMultipliers, channelMultipliers, dequantizeF32, divRoundHalfAway, quantizeF32,
  quantizeMultiplier, requantize, type FixedPoint,
} from './requant.ts';

type Ints = ArrayLike<number>;

export interface ConvQs8Args {
  n: number; h: number; w: number; ci: number; co: number; kh: number; kw: number;
  sh: number; sw: number; dh: number; dw: number; groups: number;
  /** [top, left, bottom, right] */
  pad: readonly number[];
  oh: number; ow: number;
  zpIn: number; zpOut: number; qMin: number; qMax: number;
  fp: readonly FixedPoint[];
}

/** Conv2D (groups; depthwise is groups = Ci): acc = bias[c] + Σ in-bounds taps (x − zp_in)·w. */
export function conv2dQs8Ref(x: Ints, w: Ints, bias: Ints | undefined, a: ConvQs8Args): Int8Array {
  const cig = a.ci / a.groups, cog = a.co / a.groups;
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
          out[o++] = requantize(acc, a.fp[co]!.mult, a.fp[co]!.shift, a.zpOut, a.qMin, a.qMax);
        }
  return out;
}

/** Dense: x [M,K], w [N,K]. */
export function denseQs8Ref(x: Ints, w: Ints, bias: Ints | undefined, M: number, K: number, N: number,
  zpIn: number, zpOut: number, qMin: number, qMax: number, fp: readonly FixedPoint[]): Int8Array {
  const out = new Int8Array(M * N);
  for (let m = 0; m < M; m++)
    for (let j = 0; j < N; j++) {
      let acc = bias ? bias[j]! : 0;
      for (let k = 0; k < K; k++) acc += (x[m * K + k]! - zpIn) * w[j * K + k]!;
      out[m * N + j] = requantize(acc, fp[j]!.mult, fp[j]!.shift, zpOut, qMin, qMax);
    }
  return out;
}

export interface PoolQs8Args {
  n: number; h: number; w: number; c: number; kh: number; kw: number; sh: number; sw: number;
  pad: readonly number[]; oh: number; ow: number; countIncludePad: boolean; zp: number;
}

/** MaxPool / AvgPool with input and output sharing scale and zero point. */
export function poolQs8Ref(kind: 'max' | 'avg', x: Ints, a: PoolQs8Args): Int8Array {
  const out = new Int8Array(a.n * a.oh * a.ow * a.c);
  let o = 0;
  for (let nn = 0; nn < a.n; nn++)
    for (let oy = 0; oy < a.oh; oy++)
      for (let ox = 0; ox < a.ow; ox++)
        for (let c = 0; c < a.c; c++) {
          let acc = kind === 'max' ? -128 : 0, cnt = 0, padded = 0;
          for (let ky = 0; ky < a.kh; ky++)
            for (let kx = 0; kx < a.kw; kx++) {
              const iy = oy * a.sh - a.pad[0]! + ky, ix = ox * a.sw - a.pad[1]! + kx;
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

/** GlobalAvgPool: requant(Σ (x − zp_in)) with r = s_in / (s_out·H·W). */
export function globalAvgPoolQs8Ref(x: Ints, N: number, H: number, W: number, C: number, zpIn: number, zpOut: number, fp: FixedPoint): Int8Array {
  const out = new Int8Array(N * C);
  for (let nn = 0; nn < N; nn++)
    for (let c = 0; c < C; c++) {
      let acc = 0;
      for (let i = 0; i < H * W; i++) acc += x[(nn * H * W + i) * C + c]! - zpIn;
      out[nn * C + c] = requantize(acc, fp.mult, fp.shift, zpOut);
    }
  return out;
}

/** Add with broadcasting: clamp(zp + (((a − zp_a)·mA + (b − zp_b)·mB + 2^(shift−1)) >> shift)). */
export function addQs8Ref(a: Ints, aShape: readonly number[], b: Ints, bShape: readonly number[], outShape: readonly number[],
  zpA: number, zpB: number, zpOut: number, m: { multA: number; multB: number; shift: number }, qMin: number, qMax: number): Int8Array {
  const sa = broadcastStrides(aShape, outShape), sb = broadcastStrides(bShape, outShape);
  const total = numElements(outShape);
  const out = new Int8Array(total);
  const idx = new Array<number>(outShape.length).fill(0);
  const rnd = 1n << BigInt(m.shift - 1);
  for (let i = 0; i < total; i++) {
    let ia = 0, ib = 0;
    for (let k = 0; k < outShape.length; k++) { ia += idx[k]! * sa[k]!; ib += idx[k]! * sb[k]!; }
    const s = BigInt(a[ia]! - zpA) * BigInt(m.multA) + BigInt(b[ib]! - zpB) * BigInt(m.multB) + rnd;
    const v = Number(s >> BigInt(m.shift)) + zpOut;
    out[i] = Math.min(qMax, Math.max(qMin, v));
    for (let k = outShape.length - 1; k >= 0; k--) { if (++idx[k]! < outShape[k]!) break; idx[k] = 0; }
  }
  return out;
}

export function quantizeRef(x: ArrayLike<number>, scale: number, zp: number): Int8Array {
  return Int8Array.from(x, (v) => quantizeF32(v, scale, zp));
}
export function dequantizeRef(q: Ints, scale: number, zp: number): Float32Array {
  return Float32Array.from(q, (v) => dequantizeF32(v, scale, zp));
}
export function requantizeRef(q: Ints, zpIn: number, zpOut: number, fp: FixedPoint): Int8Array {
  return Int8Array.from(q, (v) => requantize(v - zpIn, fp.mult, fp.shift, zpOut));
}

// ---------- int8 nodes of the IR (evaluate() routes them here) ----------

const INT8_OPS = new Set(['Conv2D', 'Dense', 'Add', 'MaxPool', 'AvgPool', 'GlobalAvgPool', 'Pad']);

/** Per-tensor quant of an int8 activation (scale, zero point), with a clear error when absent. */
export function tensorQuant(g: Graph, name: string, n: Node): { scale: number; zp: number } {
  const q: QuantParams | undefined = g.tensors.get(name)?.quant;
  if (!q || q.scale.length < 1) throw new ModelError(g.source, `node '${n.name}' (${n.op})`, `int8 tensor '${name}' has no quant params`);
  const zp = q.zeroPoint[0] ?? 0;
  if (!Number.isInteger(zp) || zp < -128 || zp > 127) throw new ModelError(g.source, `node '${n.name}' (${n.op})`, `int8 tensor '${name}' has zero point ${zp}, expected an integer in [-128, 127]`);
  if (!(q.scale[0]! > 0) || !Number.isFinite(q.scale[0]!)) throw new ModelError(g.source, `node '${n.name}' (${n.op})`, `int8 tensor '${name}' has scale ${q.scale[0]}, expected a positive finite number`);
  return { scale: q.scale[0]!, zp };
}

/** Is this node computed on int8 (docs/quantization.md): its first input and its output are int8, or a (de/re)quantise. */
export function isInt8Node(g: Graph, n: Node): boolean {
  if (n.op === 'Quantize' || n.op === 'Dequantize' || n.op === 'Requantize') return true;
  return INT8_OPS.has(n.op) && g.tensors.get(n.inputs[0]!)?.dtype === 'int8' && g.tensors.get(n.outputs[0]!)?.dtype === 'int8';
}

/** Output clamp of a node with a fused activation. */
export function nodeClamp(n: Node, sOut: number, zpOut: number): [number, number] {
  const a = activationOf(n);
  return activationClamp(a.kind, a.min, a.max, sOut, zpOut);
}

/**
 * The integer evaluation of an int8 node (values are the integers, as float64); undefined when the node
 * is not an int8 node (the float evaluation applies).
 */
export function evaluateInt8Node(g: Graph, n: Node, ins: (Value | undefined)[], outs: TypeInfo[]): Float64Array[] | undefined {
  if (!isInt8Node(g, n)) return undefined;
  const x = ins[0]!;
  const out = n.outputs[0]!;
  const f = (a: ArrayLike<number>) => Float64Array.from(a);
  switch (n.op) {
    case 'Quantize': { const q = tensorQuant(g, out, n); return [f(quantizeRef(x.data, q.scale, q.zp))]; }
    case 'Dequantize': { const q = tensorQuant(g, n.inputs[0]!, n); return [f(dequantizeRef(x.data, q.scale, q.zp))]; }
    case 'Requantize': {
      const qi = tensorQuant(g, n.inputs[0]!, n), qo = tensorQuant(g, out, n);
      return [f(requantizeRef(x.data, qi.zp, qo.zp, quantizeMultiplier(Math.fround(qi.scale) / Math.fround(qo.scale))))];
    }
    case 'Conv2D': case 'Dense': {
      const qi = tensorQuant(g, n.inputs[0]!, n), qo = tensorQuant(g, out, n);
      const wq = g.tensors.get(n.inputs[1]!)?.quant;
      if (!wq) throw new ModelError(g.source, `node '${n.name}' (${n.op})`, `int8 weights '${n.inputs[1]}' have no quant params`);
      const w = ins[1]!, bias = ins[2]?.data;
      const co = w.shape[0]!;
      const sW = wq.scale.length === 1 ? new Array<number>(co).fill(wq.scale[0]!) : wq.scale;
      const fp = channelMultipliers(qi.scale, sW, qo.scale, `node '${n.name}'`);
      const [qMin, qMax] = nodeClamp(n, qo.scale, qo.zp);
      if (n.op === 'Dense') {
        const [M, K] = x.shape as [number, number];
        return [f(denseQs8Ref(x.data, w.data, bias, M, K, co, qi.zp, qo.zp, qMin, qMax, fp))];
      }
      const geo = convGeometry(n, x, w, g.source);
      return [f(conv2dQs8Ref(x.data, w.data, bias, { ...geo, zpIn: qi.zp, zpOut: qo.zp, qMin, qMax, fp }))];
    }
    case 'Add': {
      const qa = tensorQuant(g, n.inputs[0]!, n), qb = tensorQuant(g, n.inputs[1]!, n), qo = tensorQuant(g, out, n);
      const so = Math.fround(qo.scale);
      const m = addMultipliers(Math.fround(qa.scale) / so, Math.fround(qb.scale) / so, `node '${n.name}'`);
      const [qMin, qMax] = nodeClamp(n, qo.scale, qo.zp);
      return [f(addQs8Ref(x.data, x.shape, ins[1]!.data, ins[1]!.shape, outs[0]!.shape, qa.zp, qb.zp, qo.zp, m, qMin, qMax))];
    }
    case 'MaxPool': case 'AvgPool': {
      const qi = tensorQuant(g, n.inputs[0]!, n), qo = tensorQuant(g, out, n);
      if (Math.fround(qi.scale) !== Math.fround(qo.scale) || qi.zp !== qo.zp) {
        throw new ModelError(g.source, `node '${n.name}' (${n.op})`, `int8 pooling needs the output quant equal to the input's (insert a Requantize)`);
      }
      const geo = poolGeometry(n, x.shape, g.source);
      return [f(poolQs8Ref(n.op === 'MaxPool' ? 'max' : 'avg', x.data, { ...geo, countIncludePad: attrNum(n, 'countIncludePad', 0) !== 0, zp: qi.zp }))];
    }
    case 'GlobalAvgPool': {
      const qi = tensorQuant(g, n.inputs[0]!, n), qo = tensorQuant(g, out, n);
      const [N, H, W, C] = x.shape as [number, number, number, number];
      const fp = quantizeMultiplier(Math.fround(qi.scale) / (Math.fround(qo.scale) * H * W), `node '${n.name}'`);
      return [f(globalAvgPoolQs8Ref(x.data, N, H, W, C, qi.zp, qo.zp, fp))];
    }
    case 'Pad': {
      // int8 Pad fills with the output zero point (the quantised 0)
      const qo = tensorQuant(g, out, n);
      const s = x.shape, r = s.length, pads = attrNums(n, 'pads', []);
      const os = outs[0]!.shape;
      const res = new Float64Array(numElements(os)).fill(qo.zp);
      const idx = new Array<number>(r).fill(0);
      for (let i = 0; i < x.data.length; i++) {
        let o = 0;
        for (let k = 0; k < r; k++) o = o * os[k]! + idx[k]! + pads[k]!;
        res[o] = x.data[i]!;
        for (let k = r - 1; k >= 0; k--) { if (++idx[k]! < s[k]!) break; idx[k] = 0; }
      }
      return [res];
    }
  }
  return undefined;
}
