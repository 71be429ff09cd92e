// Model builders for the compression scripts and tests (issue 14): a residual Fashion-MNIST CNN with both
// a residual Add and a channel Concat, so every dependency-group rule that matters in practice (residual
// groups, concat offset slices, Flatten → Dense) is exercised. Weights are He-uniform from a seed (edgec
// train --init he replaces them anyway); `width` scales every channel count (the tests use a tiny one).
import type { Attrs, Graph, OpType } from '../compiler/ir/graph.ts';
import { inferShapes } from '../compiler/passes/infer-shapes.ts';

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * [1, 1, 28, 28] → (NHWC) conv3×3 w (relu) → maxpool 2 → residual block (conv3×3 w relu, conv3×3 w, Add, relu)
 * → Concat(conv1×1 w relu, conv3×3 w relu) → maxpool 2 → residual block at 2w → GlobalAvgPool → Flatten →
 * Dense 10. width 16: 2.38 M MACs.
 */
export function residualFashion(width = 16, seed = 1): Graph {
  const rand = mulberry(seed);
  const g: Graph = {
    name: 'resfashion',
    source: 'resfashion.json',
    tensors: new Map(),
    nodes: [],
    inputs: [],
    outputs: [],
  };
  const constant = (name: string, shape: number[], fanIn: number): string => {
    const n = shape.reduce((a, b) => a * b, 1);
    const lim = Math.sqrt(6 / fanIn);
    g.tensors.set(name, {
      name,
      dtype: 'float32',
      shape,
      data: Float32Array.from({ length: n }, () => (2 * rand() - 1) * lim),
    });
    return name;
  };
  const zeros = (name: string, n: number): string => {
    g.tensors.set(name, { name, dtype: 'float32', shape: [n], data: new Float32Array(n) });
    return name;
  };
  const node = (op: OpType, name: string, inputs: string[], attrs: Attrs = {}): string => {
    const o = `${name}:0`;
    g.tensors.set(o, { name: o, dtype: 'float32', shape: [] });
    g.nodes.push({ name, op, inputs, outputs: [o], attrs });
    return o;
  };
  const conv = (name: string, x: string, ci: number, co: number, k: number, relu: boolean): string =>
    node('Conv2D', name, [x, constant(`${name}.w`, [co, k, k, ci], k * k * ci), zeros(`${name}.b`, co)], {
      padding: 'same',
      ...(relu ? { activation: 'relu' } : {}),
    });
  const block = (name: string, x: string, c: number): string => {
    const a = conv(`${name}.conv1`, x, c, c, 3, true);
    const b = conv(`${name}.conv2`, a, c, c, 3, false);
    return node('Add', `${name}.add`, [b, x], { activation: 'relu' });
  };
  const w = width;
  g.tensors.set('x', { name: 'x', dtype: 'float32', shape: [1, 1, 28, 28] });
  g.inputs.push('x');
  // Fashion-MNIST comes NCHW [N, 1, 28, 28]: with one channel that is NHWC [N, 28, 28, 1] byte for byte
  let h = node('Reshape', 'nhwc', ['x'], { shape: [1, 28, 28, 1] });
  h = conv('stem', h, 1, w, 3, true);
  h = node('MaxPool', 'pool1', [h], { kernel: [2, 2] });
  h = block('block1', h, w);
  const p = conv('branch.pw', h, w, w, 1, true),
    q = conv('branch.conv', h, w, w, 3, true);
  h = node('Concat', 'branch.cat', [p, q], { axis: 3 });
  h = node('MaxPool', 'pool2', [h], { kernel: [2, 2] });
  h = block('block2', h, 2 * w);
  h = node('GlobalAvgPool', 'gap', [h]);
  h = node('Flatten', 'flatten', [h], { axis: 1 });
  h = node('Dense', 'fc', [h, constant('fc.w', [10, 2 * w], 2 * w), zeros('fc.b', 10)]);
  g.outputs.push(h);
  inferShapes.run(g);
  return g;
}
