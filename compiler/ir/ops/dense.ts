// Dense: x [M,K], weights [N,K] (out, in), optional bias [N], fused activation. Float64 reference and the
// int8 integer reference (acc = bias + Σ (x − zp_in)·w, requantised per output feature; exact).
import type { Graph, Node } from '../graph.ts';
import { numElements } from '../graph.ts';
import { weightedQs8 } from '../quant.ts';
import { requantizeChannel, type ChannelRequant } from '../requant.ts';
import {
  applyActivation,
  checkActivation,
  lastAxis,
  checkClipRange,
  fail,
  fmt,
  FUSED_ACTIVATION,
  gradThroughFused,
  need,
  rank,
} from './helpers.ts';
import type { OpDef, TypeInfo, Value } from './op-def.ts';

type Ints = ArrayLike<number>;

/** Dense: x [M,K], w [N,K]. */
export function denseQs8Ref(
  x: Ints,
  w: Ints,
  bias: Ints | undefined,
  M: number,
  K: number,
  N: number,
  zpIn: number,
  zpOut: number,
  qMin: number,
  qMax: number,
  fp: readonly ChannelRequant[],
): Int8Array {
  const out = new Int8Array(M * N);
  for (let m = 0; m < M; m++)
    for (let j = 0; j < N; j++) {
      let acc = bias ? bias[j]! : 0;
      for (let k = 0; k < K; k++) acc += (x[m * K + k]! - zpIn) * w[j * K + k]!;
      out[m * N + j] = requantizeChannel(acc, fp[j]!, zpOut, qMin, qMax);
    }
  return out;
}

function evaluateInt8(g: Graph, n: Node, ins: (Value | undefined)[], _outs: TypeInfo[]): Float64Array[] {
  const x = ins[0]!,
    w = ins[1]!;
  const co = w.shape[0]!;
  const q = weightedQs8(g, n, co);
  const [M, K] = x.shape as [number, number];
  return [
    Float64Array.from(denseQs8Ref(x.data, w.data, ins[2]?.data, M, K, co, q.zpIn, q.zpOut, q.qMin, q.qMax, q.fp)),
  ];
}

export const dense: OpDef = {
  schema: { inputs: [2, 3], outputs: 1, attrs: { ...FUSED_ACTIVATION }, check: checkClipRange },
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'x'),
      w = need(n, ins, 1, file, 'weights');
    rank(n, x, 2, file, 'input');
    rank(n, w, 2, file, 'weights');
    if (w.shape[1] !== x.shape[1])
      fail(file, n, `weights [out,in] ${fmt(w.shape)} do not match input features ${x.shape[1]}`);
    const b = ins[2];
    if (b && numElements(b.shape) !== w.shape[0])
      fail(file, n, `bias ${fmt(b.shape)} does not match output features ${w.shape[0]}`);
    checkActivation(n, file);
    return [{ shape: [x.shape[0]!, w.shape[0]!], dtype: x.dtype === 'int8' ? 'int8' : 'float32' }];
  },
  evaluate(n, ins) {
    const x = ins[0]!,
      w = ins[1]!,
      b = ins[2];
    const [M, K] = x.shape as [number, number];
    const N = w.shape[0]!;
    const out = new Float64Array(M * N);
    for (let m = 0; m < M; m++)
      for (let j = 0; j < N; j++) {
        let acc = b ? b.data[j]! : 0;
        for (let k = 0; k < K; k++) acc += x.data[m * K + k]! * w.data[j * K + k]!;
        out[m * N + j] = acc;
      }
    return [applyActivation(n, out)];
  },
  int8: { quantize: 'own-params', evaluate: evaluateInt8 },
  channelFlow: (_n, ins) => ({
    kind: 'transform',
    data: 0,
    consumes: { input: 1, axis: 1 },
    groups: 1,
    produces: [{ input: 1, axis: 0 }, ...(ins[2] ? [{ input: 2, axis: lastAxis(ins[2]) }] : [])],
  }),
  grad(b, n, dy) {
    const [x, w, bias] = n.inputs as [string, string, string | undefined];
    const dz = gradThroughFused(b, n, dy);
    return [
      b.wants(x) ? b.add('MatMul', [dz, w])[0] : undefined,
      // dW [out,in] = dzᵀ·x: a sum over the batch, sample order ascending
      b.wants(w) ? b.add('MatMul', [b.add('Transpose', [dz], { perm: [1, 0] })[0]!, x])[0] : undefined,
      bias && b.wants(bias) ? b.add('ReduceSum', [dz], { axis: 0 })[0] : undefined,
    ];
  },
};
