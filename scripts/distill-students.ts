// Student models of the distillation scripts (scripts/distill-targets.ts): the half-width fashion_cnn student
// and a small MNIST student, built as IR graphs with seeded He-uniform weights and written as model.json.
import type { Graph, Node, Tensor } from '../compiler/ir/graph.ts';
import { inferShapes } from '../compiler/passes/infer-shapes.ts';

export function mulberry(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * fashion_cnn at half width (NCHW [1,1,28,28] → 10 logits, 3.6× fewer MACs), He-uniform from `seed`. `flatHead`:
 * the dense layer reads the whole 4×4×32 map instead of its global average (340,496 MACs, 3.54× fewer; 8,458
 * parameters), the same weights drawn before it.
 */
export function fashionStudent(seed: number, flatHead = false): Graph {
  const r = mulberry(seed);
  const he = (n: number, fanIn: number) => Float32Array.from({ length: n }, () => (2 * r() - 1) * Math.sqrt(6 / fanIn));
  const t = (name: string, shape: number[], data?: Float32Array): [string, Tensor] => [
    name,
    { name, dtype: 'float32', shape, data },
  ];
  const zeros = (n: number) => new Float32Array(n);
  const tensors = new Map<string, Tensor>([
    t('x', [1, 1, 28, 28]),
    t('w1', [8, 3, 3, 1], he(72, 9)),
    t('b1', [8], zeros(8)),
    t('w2', [16, 3, 3, 8], he(1152, 72)),
    t('b2', [16], zeros(16)),
    t('w3', [16, 3, 3, 1], he(144, 9)),
    t('b3', [16], zeros(16)),
    t('w4', [32, 1, 1, 16], he(512, 16)),
    t('b4', [32], zeros(32)),
    t('w5', [32, 3, 3, 1], he(288, 9)),
    t('b5', [32], zeros(32)),
    t('w6', [32, 1, 1, 32], he(1024, 32)),
    t('b6', [32], zeros(32)),
    flatHead ? t('w7', [10, 512], he(5120, 512)) : t('w7', [10, 32], he(320, 32)),
    t('b7', [10], zeros(10)),
  ]);
  const node = (name: string, op: Node['op'], inputs: string[], attrs: Node['attrs'] = {}): Node => ({
    name,
    op,
    inputs,
    outputs: [`${name}:y`],
    attrs,
  });
  const nodes: Node[] = [
    // NCHW input as the .npy files hold it (and ONNX models take it); one channel: a reshape to NHWC
    node('nhwc', 'Reshape', ['x'], { shape: [1, 28, 28, 1] }),
    node('c1', 'Conv2D', ['nhwc:y', 'w1', 'b1'], { padding: 'same', activation: 'relu' }),
    node('p1', 'MaxPool', ['c1:y'], { kernel: [2, 2] }),
    node('c2', 'Conv2D', ['p1:y', 'w2', 'b2'], { padding: 'same', activation: 'relu' }),
    node('p2', 'MaxPool', ['c2:y'], { kernel: [2, 2] }),
    node('dw1', 'Conv2D', ['p2:y', 'w3', 'b3'], { padding: 'same', groups: 16, activation: 'relu' }),
    node('pw1', 'Conv2D', ['dw1:y', 'w4', 'b4'], { activation: 'relu' }),
    node('dw2', 'Conv2D', ['pw1:y', 'w5', 'b5'], {
      padding: [1, 1, 1, 1],
      strides: [2, 2],
      groups: 32,
      activation: 'relu',
    }),
    node('pw2', 'Conv2D', ['dw2:y', 'w6', 'b6'], { activation: 'relu' }),
    ...(flatHead ? [] : [node('gap', 'GlobalAvgPool', ['pw2:y'])]),
    node('fl', 'Flatten', [flatHead ? 'pw2:y' : 'gap:y'], { axis: 1 }),
    node('fc', 'Dense', ['fl:y', 'w7', 'b7']),
  ];
  const g: Graph = { name: 'student', tensors, nodes, inputs: ['x'], outputs: ['fc:y'], source: 'student.json' };
  inferShapes.run(g);
  return g;
}

/**
 * A plain two-conv Fashion-MNIST student within a quarter of fashion_cnn's MACs (NCHW [1,1,28,28] → 10 logits):
 * conv 3×3 8 relu → pool → conv 3×3 16 relu → pool → dense 784 → 10 — fashion_cnn's first two blocks at half width
 * with its depthwise-separable tail and global pooling replaced by one dense layer on the 7×7×16 map: 290,080 MACs
 * (1,205,920 / 4.16), 9,098 parameters: the dense layer over the whole map costs 7,840 MACs and keeps where things
 * are, which the half-width student's 32-wide pooled head loses (labels only, 8–10 epochs cosine: 90.67 % against
 * 87.45 %; docs/distillation.md). He-uniform from `seed`.
 */
export function fashionStudentFlat(seed: number): Graph {
  return convConvDense('fashion-student-flat', seed, 8, 16);
}

/**
 * A Fashion-MNIST teacher for `edgec train` (scripts/fashion-teacher.ts writes it): conv 3×3 `c1` relu → pool → conv
 * 3×3 `c2` relu → pool → dense 49·c2 → `hidden` relu → dense 10 — the flat student at `c1 / 8` times its width with
 * a hidden layer. He-uniform from `seed`.
 */
export function fashionTeacher(seed: number, c1: number, c2: number, hidden: number): Graph {
  return convConvDense('fashion-teacher', seed, c1, c2, hidden);
}

/**
 * A small MNIST student (NCHW [1,1,28,28] → 10 logits): conv 3×3 6 relu → pool → conv 3×3 12 relu → pool → dense
 * 588 → 10, 175,224 MACs (mnist-8: 786,560; 4.5× fewer), He-uniform from `seed`. `hidden` > 0 puts a dense
 * 588 → hidden relu layer before the last (hidden 32: 188,480 MACs, 4.17× fewer).
 */
export function mnistStudent(seed: number, hidden = 0): Graph {
  return convConvDense('mnist-student', seed, 6, 12, hidden);
}

/** conv 3×3 c1 relu → pool 2 → conv 3×3 c2 relu → pool 2 → [dense hidden relu →] dense 10; weights drawn in that order. */
function convConvDense(name: string, seed: number, c1: number, c2: number, hidden = 0): Graph {
  const r = mulberry(seed);
  const he = (n: number, fanIn: number) => Float32Array.from({ length: n }, () => (2 * r() - 1) * Math.sqrt(6 / fanIn));
  const t = (name: string, shape: number[], data?: Float32Array): [string, Tensor] => [
    name,
    { name, dtype: 'float32', shape, data },
  ];
  const flat = 7 * 7 * c2,
    last = hidden > 0 ? hidden : flat;
  const tensors = new Map<string, Tensor>([
    t('x', [1, 1, 28, 28]),
    t('w1', [c1, 3, 3, 1], he(9 * c1, 9)),
    t('b1', [c1], new Float32Array(c1)),
    t('w2', [c2, 3, 3, c1], he(9 * c1 * c2, 9 * c1)),
    t('b2', [c2], new Float32Array(c2)),
    ...(hidden > 0
      ? [t('wh', [hidden, flat], he(hidden * flat, flat)), t('bh', [hidden], new Float32Array(hidden))]
      : []),
    t('w3', [10, last], he(10 * last, last)),
    t('b3', [10], new Float32Array(10)),
  ]);
  const node = (name: string, op: Node['op'], inputs: string[], attrs: Node['attrs'] = {}): Node => ({
    name,
    op,
    inputs,
    outputs: [`${name}:y`],
    attrs,
  });
  const nodes: Node[] = [
    node('nhwc', 'Reshape', ['x'], { shape: [1, 28, 28, 1] }),
    node('c1', 'Conv2D', ['nhwc:y', 'w1', 'b1'], { padding: 'same', activation: 'relu' }),
    node('p1', 'MaxPool', ['c1:y'], { kernel: [2, 2] }),
    node('c2', 'Conv2D', ['p1:y', 'w2', 'b2'], { padding: 'same', activation: 'relu' }),
    node('p2', 'MaxPool', ['c2:y'], { kernel: [2, 2] }),
    node('fl', 'Flatten', ['p2:y'], { axis: 1 }),
    ...(hidden > 0 ? [node('fh', 'Dense', ['fl:y', 'wh', 'bh'], { activation: 'relu' })] : []),
    node('fc', 'Dense', [hidden > 0 ? 'fh:y' : 'fl:y', 'w3', 'b3']),
  ];
  const g: Graph = { name, tensors, nodes, inputs: ['x'], outputs: ['fc:y'], source: `${name}.json` };
  inferShapes.run(g);
  return g;
}
