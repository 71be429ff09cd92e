// GlobalAvgPool: NHWC [N,H,W,C] → [N,1,1,C], the mean over H·W. Float64 reference and the int8 integer
// reference requant(Σ (x − zp_in)) with r = s_in / (s_out·H·W) (exact); for TFLite's arithmetic (its int8 MEAN, which
// its interpreter runs through XNNPACK) clamp(round_half_even(f32(Σ (x − zp_in))·f32(s_in / f32(s_out·H·W))) + zp).
import type { Graph, Node } from '../graph.ts';
import { tensorQuant } from '../quant.ts';
import { quantizeMultiplier, requantize, requantizeFp32, type FixedPoint } from '../requant.ts';
import { need, noAttrs, rank, passChannels } from './helpers.ts';
import type { OpDef, TypeInfo, Value } from './op-def.ts';

type Ints = ArrayLike<number>;

/** GlobalAvgPool: requant(Σ (x − zp_in)) with r = s_in / (s_out·H·W). */
export function globalAvgPoolQs8Ref(
  x: Ints,
  N: number,
  H: number,
  W: number,
  C: number,
  zpIn: number,
  zpOut: number,
  fp: FixedPoint,
): Int8Array {
  const out = new Int8Array(N * C);
  for (let nn = 0; nn < N; nn++)
    for (let c = 0; c < C; c++) {
      let acc = 0;
      for (let i = 0; i < H * W; i++) acc += x[(nn * H * W + i) * C + c]! - zpIn;
      out[nn * C + c] = requantize(acc, fp.mult, fp.shift, zpOut);
    }
  return out;
}

/** GlobalAvgPool_QS8_FP32's scale, as XNNPACK's qs8 mean computes it: f32(s_in / f32(s_out·H·W)). */
export function gapQs8Scale(sIn: number, sOut: number, hw: number, what: string): number {
  const f = Math.fround;
  const scale = f(f(sIn) / f(f(sOut) * hw));
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new RangeError(`${what}: float32 scale ${scale} must be positive and finite`);
  return scale;
}

function evaluateInt8(g: Graph, n: Node, ins: (Value | undefined)[], _outs: TypeInfo[]): Float64Array[] {
  const x = ins[0]!;
  const qi = tensorQuant(g, n.inputs[0]!, n),
    qo = tensorQuant(g, n.outputs[0]!, n);
  const [N, H, W, C] = x.shape as [number, number, number, number];
  if (g.int8Arithmetic === 'tflite') {
    const scale = gapQs8Scale(qi.scale, qo.scale, H * W, `node '${n.name}'`);
    const out = new Float64Array(N * C);
    for (let nn = 0; nn < N; nn++)
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let i = 0; i < H * W; i++) acc += x.data[(nn * H * W + i) * C + c]! - qi.zp;
        out[nn * C + c] = requantizeFp32(acc, scale, qo.zp);
      }
    return [out];
  }
  const fp = quantizeMultiplier(Math.fround(qi.scale) / (Math.fround(qo.scale) * H * W), `node '${n.name}'`);
  return [Float64Array.from(globalAvgPoolQs8Ref(x.data, N, H, W, C, qi.zp, qo.zp, fp))];
}

export const globalAvgPool: OpDef = {
  schema: noAttrs([1, 1]),
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x');
    rank(n, x, 4, file, 'input');
    return [{ shape: [x.shape[0]!, 1, 1, x.shape[3]!], dtype: x.dtype }];
  },
  evaluate(_n, ins) {
    const x = ins[0]!;
    const [N, H, W, C] = x.shape as [number, number, number, number];
    const out = new Float64Array(N * C);
    for (let nn = 0; nn < N; nn++)
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let i = 0; i < H * W; i++) acc += x.data[(nn * H * W + i) * C + c]!;
        out[nn * C + c] = acc / (H * W);
      }
    return [out];
  },
  int8: { quantize: 'own-params', evaluate: evaluateInt8 },
  channelFlow: passChannels,
  grad(b, n, dy) {
    // dx = dy [N,1,1,C] broadcast over H×W, times 1/(H·W)
    const [, H, W] = b.shape(n.inputs[0]!) as [number, number, number, number];
    return [b.add('Mul', [dy, b.constant('gap-share', [1, H, W, 1], new Float32Array(H * W).fill(1 / (H * W)))])[0]];
  },
};
