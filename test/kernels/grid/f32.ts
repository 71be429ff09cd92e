// Kernel-grid cases of the float kernels and the any-dtype data movers (test/kernels/grid.test.ts): inputs and
// weights in [−1, 1], so a sum of K products is within 1e-5·(K + 1) of the float64 reference.
import { type Builder, CaseGraph } from './case.ts';
import type { Attrs, OpType } from '../../../compiler/ir/graph.ts';

const ACTS: Attrs[] = [{}, { activation: 'relu' }, { activation: 'clip', clip: [-0.25, 0.5] }];
const sumTol = (terms: number) => 1e-5 * (terms + 1);

export const GRID: Record<string, Builder> = {
  // weights as a graph input (trained weights): constant ones lower to Conv2D_F32_P8
  Conv2D_F32: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    const y = c.node('Conv2D', [c.f32('x', [1, 3, m, k]), c.f32('w', [n, 3, 3, k]), c.constF32('b', [n])], {
      padding: 'same',
      ...ACTS[i % 3],
    });
    return c.done(y, sumTol(9 * k));
  },
  // 3×3 same, stride 2, dilation 2, pointwise, groups 2 in turn: m output columns, n output and k input channels
  Conv2D_F32_P8: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    const v = i % 5,
      kk = v === 3 ? 1 : 3,
      groups = v === 4 && k > 1 ? 2 : 1; // one input channel per group would be a depthwise conv
    const attrs: Attrs = [
      { padding: 'same' },
      { padding: 'same', strides: [2, 2] },
      { padding: 'same', dilations: [2, 2] },
      {},
      { padding: 'same', groups },
    ][v]!;
    const y = c.node(
      'Conv2D',
      [c.f32('x', [2, 3, m, k * groups]), c.constF32('w', [n * groups, kk, kk, k]), c.constF32('b', [n * groups])],
      { ...attrs, ...ACTS[i % 3] },
    );
    return c.done(y, sumTol(kk * kk * k));
  },
  DepthwiseConv2D_F32: ({ m, n, k }, i) => {
    const c = new CaseGraph(i),
      ch = Math.max(n, 2); // one channel is a plain conv
    const y = c.node(
      'Conv2D',
      [c.f32('x', [1, 3, m, ch]), c.constF32('w', [ch * k, 3, 3, 1]), c.constF32('b', [ch * k])],
      { padding: 'same', groups: ch, ...ACTS[i % 3] },
    );
    return c.done(y, sumTol(9));
  },
  Dense_F32: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(
      c.node('Dense', [c.f32('x', [m, k]), c.constF32('w', [n, k]), c.constF32('b', [n])], ACTS[i % 3]),
      sumTol(k),
    );
  },
  MaxPool_F32: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(c.node('MaxPool', [c.f32('x', [1, 2, m + k - 1, n])], { kernel: [2, k] }));
  },
  AvgPool_F32: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(c.node('AvgPool', [c.f32('x', [1, 2, m + k - 1, n])], { kernel: [2, k] }), sumTol(2 * k));
  },
  GlobalAvgPool_F32: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(c.node('GlobalAvgPool', [c.f32('x', [1, k, m, n])]), sumTol(k * m));
  },
  Binary_F32: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    const op = (['Add', 'Sub', 'Mul', 'Max', 'Min'] as OpType[])[i % 5]!;
    return c.done(c.node(op, [c.f32('a', [k, m, n]), c.f32('b', [n])]), 1e-6);
  },
  Unary_F32: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    const op = (['Relu', 'Sigmoid', 'Tanh', 'Exp', 'LeakyRelu', 'Clip'] as OpType[])[i % 6]!;
    return c.done(c.node(op, [c.f32('x', [k, m, n])], op === 'Clip' ? { min: -0.5, max: 0.25 } : {}), 1e-6);
  },
  Softmax_F32: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(c.node('Softmax', [c.f32('x', [k, m, n])]), 1e-6);
  },
  Transpose: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(c.node('Transpose', [c.f32('x', [k, m, n])], { perm: [2, 0, 1] }));
  },
  Concat: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(c.node('Concat', [c.f32('a', [m, n]), c.f32('b', [m, k])], { axis: 1 }));
  },
  Copy: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(c.node('Reshape', [c.f32('x', [k, m, n])], { shape: [k * m * n] }));
  },
  Pad: ({ m, n, k }, i) => {
    const c = new CaseGraph(i);
    return c.done(c.node('Pad', [c.f32('x', [k, m, n])], { pads: [0, 1, 0, 1, 0, 2], value: 0.5 }));
  },
};
