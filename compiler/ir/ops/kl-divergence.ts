// KlDivergence (training graphs, distillation): student logits s [M,N], teacher logits t [M,N], attrs.temperature
// T → loss [1] = T² · mean over rows of KL(softmax(t/T) ‖ softmax(s/T)), ds = T·(softmax(s/T) − softmax(t/T)) / M
// (Hinton et al.'s T² keeps the gradient scale of the hard loss). Lowers to KlDivergence_F32.
import { attrNum, fail, fmt, need, rank } from './helpers.ts';
import type { OpDef } from './op-def.ts';

export const klDivergence: OpDef = {
  schema: { inputs: [2, 2], outputs: 2, attrs: { temperature: { kind: 'float', default: 1 } } },
  trainingOnly: true,
  infer(n, ins, file) {
    const s = need(n, ins, 0, file, 'student logits'),
      t = need(n, ins, 1, file, 'teacher logits');
    rank(n, s, 2, file, 'student logits');
    if (s.dtype !== 'float32' || t.dtype !== 'float32')
      fail(file, n, `logits must be float32, found ${s.dtype} and ${t.dtype}`);
    if (s.shape.join() !== t.shape.join())
      fail(file, n, `teacher logits ${fmt(t.shape)} do not match the student's ${fmt(s.shape)}`);
    if (!(attrNum(n, 'temperature', 1) > 0)) fail(file, n, `temperature must be > 0, found ${n.attrs.temperature}`);
    return [
      { shape: [1], dtype: 'float32' },
      { shape: [...s.shape], dtype: 'float32' },
    ];
  },
  evaluate(n, ins) {
    const s = ins[0]!,
      t = ins[1]!;
    const [M, N] = s.shape as [number, number];
    const T = attrNum(n, 'temperature', 1);
    const logSoftmax = (row: Float64Array) => {
      const mx = Math.max(...row);
      let sum = 0;
      for (const v of row) sum += Math.exp((v - mx) / T);
      return row.map((v) => (v - mx) / T - Math.log(sum));
    };
    const ds = new Float64Array(M * N);
    let total = 0;
    for (let m = 0; m < M; m++) {
      const lq = logSoftmax(s.data.subarray(m * N, (m + 1) * N)),
        lp = logSoftmax(t.data.subarray(m * N, (m + 1) * N));
      for (let j = 0; j < N; j++) {
        total += Math.exp(lp[j]!) * (lp[j]! - lq[j]!);
        ds[m * N + j] = (T * (Math.exp(lq[j]!) - Math.exp(lp[j]!))) / M;
      }
    }
    return [Float64Array.of((T * T * total) / M), ds];
  },
};
