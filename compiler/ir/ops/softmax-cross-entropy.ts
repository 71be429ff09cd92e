// SoftmaxCrossEntropy (training graphs): logits [M,N], labels int32 [M], attrs.labelSmoothing ε → loss [1]
// (batch mean of Σ_j t_j·(logsumexp − x_j)) and dlogits [M,N] = (softmax − t) / M, t = ε/N + (1 − ε)·onehot.
// Lowers to SoftmaxCrossEntropy_F32 (summation order in assembly/kernels/train/f32-train.ts).
import { numElements } from '../graph.ts';
import { attrNum, fail, fmt, need, rank } from './helpers.ts';
import type { OpDef } from './op-def.ts';

export const softmaxCrossEntropy: OpDef = {
  schema: { inputs: [2, 2], outputs: 2, attrs: { labelSmoothing: { kind: 'float', default: 0 } } },
  trainingOnly: true,
  infer(n, ins, file) {
    const x = need(n, ins, 0, file, 'logits'),
      lab = need(n, ins, 1, file, 'labels');
    rank(n, x, 2, file, 'logits');
    if (x.dtype !== 'float32') fail(file, n, `logits '${x.name}' must be float32, found ${x.dtype}`);
    if (lab.dtype !== 'int32') fail(file, n, `labels '${lab.name}' must be int32 class indices, found ${lab.dtype}`);
    if (numElements(lab.shape) !== x.shape[0])
      fail(file, n, `labels ${fmt(lab.shape)} do not match the ${x.shape[0]} rows of logits ${fmt(x.shape)}`);
    const eps = attrNum(n, 'labelSmoothing', 0);
    if (!(eps >= 0 && eps < 1)) fail(file, n, `labelSmoothing must be in [0, 1), found ${eps}`);
    return [
      { shape: [1], dtype: 'float32' },
      { shape: [...x.shape], dtype: 'float32' },
    ];
  },
  evaluate(n, ins) {
    const x = ins[0]!,
      lab = ins[1]!;
    const [M, N] = x.shape as [number, number];
    const eps = attrNum(n, 'labelSmoothing', 0);
    const dx = new Float64Array(M * N);
    let total = 0;
    for (let m = 0; m < M; m++) {
      const label = lab.data[m]!;
      if (!(Number.isInteger(label) && label >= 0 && label < N))
        fail('', n, `label ${label} of sample ${m} is outside [0, ${N})`);
      const row = x.data.subarray(m * N, (m + 1) * N);
      const mx = Math.max(...row);
      let s = 0;
      for (const v of row) s += Math.exp(v - mx);
      const lse = mx + Math.log(s);
      for (let j = 0; j < N; j++) {
        const t = eps / N + (j === label ? 1 - eps : 0);
        total += t * (lse - row[j]!);
        dx[m * N + j] = (Math.exp(row[j]! - mx) / s - t) / M;
      }
    }
    return [Float64Array.of(total / M), dx];
  },
};
