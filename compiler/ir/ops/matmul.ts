// MatMul (training graphs): a [M,K] · b [K,N] → [M,N], float32; acc = 0, k ascending. Lowers to the Dense_F32
// GEMM with b as its [K,N] weights and no bias (compiler/train/lower.ts).
import { fail, fmt, need, rank } from './helpers.ts';
import type { OpDef } from './op-def.ts';
import type { Node, Tensor } from '../graph.ts';

function f32(n: Node, t: Tensor, file: string, what: string): void {
  if (t.dtype !== 'float32') fail(file, n, `${what} '${t.name}' must be float32, found ${t.dtype}`);
}

export const matMul: OpDef = {
  schema: { inputs: [2, 2], outputs: 1, attrs: {} },
  trainingOnly: true,
  infer(n, ins, file) {
    const a = need(n, ins, 0, file, 'a'),
      b = need(n, ins, 1, file, 'b');
    rank(n, a, 2, file, 'a');
    rank(n, b, 2, file, 'b');
    f32(n, a, file, 'a');
    f32(n, b, file, 'b');
    if (a.shape[1] !== b.shape[0]) fail(file, n, `a ${fmt(a.shape)} and b ${fmt(b.shape)} do not chain`);
    return [{ shape: [a.shape[0]!, b.shape[1]!], dtype: 'float32' }];
  },
  evaluate(_n, ins) {
    const a = ins[0]!,
      b = ins[1]!;
    const [M, K] = a.shape as [number, number],
      N = b.shape[1]!;
    const out = new Float64Array(M * N);
    for (let m = 0; m < M; m++)
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += a.data[m * K + k]! * b.data[k * N + j]!;
        out[m * N + j] = acc;
      }
    return [out];
  },
};
