// Test graphs for the training engine: small MLPs built by hand with seeded weights.
import type { Graph, Node, Tensor } from '../../../compiler/ir/graph.ts';
import { inferShapes } from '../../../compiler/passes/infer-shapes.ts';
import { rng, randF32 } from '../../assembly/harness.ts';

/**
 * x [B,6] → Dense 6→8 (fused relu) → h; t = Tanh(h); s = Add(h, t) (h fans out) → Sigmoid → Dense 8→5
 * → LeakyRelu → Dense 5→3 → Softmax. Every slice-1 gradient rule and a fan-out sum on one path.
 */
export function mlpGraph(batch: number, seed = 1): Graph {
  const r = rng(seed);
  const t = (name: string, shape: number[], data?: Float32Array): [string, Tensor] => [
    name,
    { name, dtype: 'float32', shape, data },
  ];
  const tensors = new Map<string, Tensor>([
    t('x', [batch, 6]),
    t('w1', [8, 6], randF32(r, 48, -0.8, 0.8)),
    t('b1', [8], randF32(r, 8, -0.2, 0.2)),
    t('w2', [5, 8], randF32(r, 40, -0.8, 0.8)),
    t('b2', [5], randF32(r, 5, -0.2, 0.2)),
    t('w3', [3, 5], randF32(r, 15, -0.8, 0.8)),
  ]);
  const node = (name: string, op: Node['op'], inputs: string[], attrs: Node['attrs'] = {}): Node => ({
    name,
    op,
    inputs,
    outputs: [`${name}:y`],
    attrs,
  });
  const nodes: Node[] = [
    node('fc1', 'Dense', ['x', 'w1', 'b1'], { activation: 'relu' }),
    node('tanh', 'Tanh', ['fc1:y']),
    node('sum', 'Add', ['fc1:y', 'tanh:y']),
    node('sig', 'Sigmoid', ['sum:y']),
    node('fc2', 'Dense', ['sig:y', 'w2', 'b2']),
    node('leaky', 'LeakyRelu', ['fc2:y'], { alpha: 0.1 }),
    node('fc3', 'Dense', ['leaky:y', 'w3', '']),
    node('prob', 'Softmax', ['fc3:y'], { axis: -1 }),
  ];
  const g: Graph = { name: 'mlp', tensors, nodes, inputs: ['x'], outputs: ['prob:y'], source: 'mlp.json' };
  inferShapes.run(g);
  return g;
}

/**
 * x [B,6] → Dense 6→12 → Reshape [B,3,4] → Clip [−0.5, 0.7] → Exp = e; Dense 6→4 → Reshape [B,1,4] = s;
 * m = Mul(e, s) (broadcast on both sides); Dense 6→3 → Reshape [B,3,1] → Relu6 = c; a = Add(m, c)
 * (broadcast) → Flatten → Relu → Dense 12→4 logits.
 */
export function broadcastGraph(batch: number, seed = 2): Graph {
  const r = rng(seed);
  const t = (name: string, shape: number[], data?: Float32Array): [string, Tensor] => [
    name,
    { name, dtype: 'float32', shape, data },
  ];
  const tensors = new Map<string, Tensor>([
    t('x', [batch, 6]),
    t('w1', [12, 6], randF32(r, 72, -0.6, 0.6)),
    t('b1', [12], randF32(r, 12, -0.2, 0.2)),
    t('w2', [4, 6], randF32(r, 24, -0.6, 0.6)),
    t('b2', [4], randF32(r, 4, 0.5, 1)),
    t('w3', [3, 6], randF32(r, 18, -0.6, 0.6)),
    t('b3', [3], randF32(r, 3, 0.5, 1.5)),
    t('w4', [4, 12], randF32(r, 48, -0.6, 0.6)),
    t('b4', [4], randF32(r, 4, -0.2, 0.2)),
  ]);
  const node = (name: string, op: Node['op'], inputs: string[], attrs: Node['attrs'] = {}): Node => ({
    name,
    op,
    inputs,
    outputs: [`${name}:y`],
    attrs,
  });
  const nodes: Node[] = [
    node('d1', 'Dense', ['x', 'w1', 'b1']),
    node('r1', 'Reshape', ['d1:y'], { shape: [batch, 3, 4] }),
    node('clip', 'Clip', ['r1:y'], { min: -0.5, max: 0.7 }),
    node('exp', 'Exp', ['clip:y']),
    node('d2', 'Dense', ['x', 'w2', 'b2']),
    node('r2', 'Reshape', ['d2:y'], { shape: [batch, 1, 4] }),
    node('mul', 'Mul', ['exp:y', 'r2:y']),
    node('d3', 'Dense', ['x', 'w3', 'b3']),
    node('r3', 'Reshape', ['d3:y'], { shape: [batch, 3, 1] }),
    node('relu6', 'Relu6', ['r3:y']),
    node('add', 'Add', ['mul:y', 'relu6:y']),
    node('flat', 'Flatten', ['add:y'], { axis: 1 }),
    node('relu', 'Relu', ['flat:y']),
    node('d4', 'Dense', ['relu:y', 'w4', 'b4']),
  ];
  const g: Graph = { name: 'bcast', tensors, nodes, inputs: ['x'], outputs: ['d4:y'], source: 'bcast.json' };
  inferShapes.run(g);
  return g;
}

/**
 * x [B,7,7,2] → Conv 3×3 same relu (4) = c1; c2 = depthwise ×2 3×3 stride 2 pads [1,0,1,1] (8);
 * c3 = Conv 1×3 groups 2 dilation [1,2] no bias (6) → MaxPool 2×2 strides [2,1] → Pad → [B,4,3,8];
 * AvgPool 2×2 same countIncludePad on c2; Concat (channels) → Transpose → Softmax (axis 2) → Sub(·, its
 * input) → GlobalAvgPool → Flatten → Dense → 3 logits. Every slice-2 gradient rule on one graph.
 */
export function cnnGraph(batch: number, seed = 3): Graph {
  const r = rng(seed);
  const t = (name: string, shape: number[], data?: Float32Array): [string, Tensor] => [
    name,
    { name, dtype: 'float32', shape, data },
  ];
  const tensors = new Map<string, Tensor>([
    t('x', [batch, 7, 7, 2]),
    t('w1', [4, 3, 3, 2], randF32(r, 72, -0.5, 0.5)),
    t('b1', [4], randF32(r, 4, 0, 0.2)),
    t('w2', [8, 3, 3, 1], randF32(r, 72, -0.5, 0.5)),
    t('b2', [8], randF32(r, 8, -0.2, 0.2)),
    t('w3', [6, 1, 3, 2], randF32(r, 36, -0.5, 0.5)),
    t('w4', [3, 16], randF32(r, 48, -1, 1)),
    t('b4', [3], randF32(r, 3, -0.2, 0.2)),
  ]);
  const node = (name: string, op: Node['op'], inputs: string[], attrs: Node['attrs'] = {}): Node => ({
    name,
    op,
    inputs,
    outputs: [`${name}:y`],
    attrs,
  });
  const nodes: Node[] = [
    node('c1', 'Conv2D', ['x', 'w1', 'b1'], { padding: 'same', activation: 'relu' }),
    node('c2', 'Conv2D', ['c1:y', 'w2', 'b2'], { groups: 4, strides: [2, 2], padding: [1, 0, 1, 1] }),
    node('c3', 'Conv2D', ['c1:y', 'w3', ''], { groups: 2, dilations: [1, 2] }),
    node('mp', 'MaxPool', ['c3:y'], { kernel: [2, 2], strides: [2, 1] }),
    node('ap', 'AvgPool', ['c2:y'], { kernel: [2, 2], strides: [1, 1], padding: 'same', countIncludePad: true }),
    node('pd', 'Pad', ['mp:y'], { pads: [0, 1, 1, 0, 0, 0, 0, 2] }),
    node('cat', 'Concat', ['ap:y', 'pd:y'], { axis: 3 }),
    node('tr', 'Transpose', ['cat:y'], { perm: [0, 2, 1, 3] }),
    node('sm', 'Softmax', ['tr:y'], { axis: 2 }),
    node('sb', 'Sub', ['sm:y', 'tr:y']),
    node('gap', 'GlobalAvgPool', ['sb:y']),
    node('fl', 'Flatten', ['gap:y'], { axis: 1 }),
    node('fc', 'Dense', ['fl:y', 'w4', 'b4']),
  ];
  const g: Graph = { name: 'cnn', tensors, nodes, inputs: ['x'], outputs: ['fc:y'], source: 'cnn.json' };
  inferShapes.run(g);
  return g;
}
