// Distillation numbers for docs/distillation.md (issue 13; a script, not a timed test): fashion_cnn (the
// teacher, run on edgec's float runtime, logits computed once and cached) → a half-width student
// (conv 8 → pool → conv 16 → pool → dw 16 → pw 32 → dw s2 → pw 32 → GAP → dense 10, He-uniform init), trained
// in the wasm with the same seed, batches and epochs on labels alone, on soft targets + labels (KD), and on
// soft targets alone from fewer images (data-only, α = 1); test accuracy on the 10,000 test images.
// Usage: node --import tsx scripts/distill-fashion.ts <fashion_cnn.onnx> [--train N] [--epochs E] [--batch B]
//        [--lr F] [--temperature T] [--alpha A] [--unlabeled N]
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { loadOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileGraph } from '../compiler/compile.ts';
import type { Graph, Node, Tensor } from '../compiler/ir/graph.ts';
import { inferShapes } from '../compiler/passes/infer-shapes.ts';
import { buildTrainingGraph, withBatch, type LossOptions } from '../compiler/train/training-graph.ts';
import { load } from '../runtime/node.ts';

const args = process.argv.slice(2);
const teacherPath = args[0];
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
if (!teacherPath || teacherPath.startsWith('--')) {
  console.error(
    'usage: node --import tsx scripts/distill-fashion.ts <fashion_cnn.onnx> [--train N] [--epochs E] [--batch B] [--lr F] [--temperature T] [--alpha A] [--unlabeled N]',
  );
  process.exit(2);
}
const TRAIN = Number(opt('train', '10000')),
  EPOCHS = Number(opt('epochs', '3')),
  B = Number(opt('batch', '32'));
const LR = Number(opt('lr', '0.002')),
  T = Number(opt('temperature', '4')),
  ALPHA = Number(opt('alpha', '0.7'));
const UNLABELED = Number(opt('unlabeled', '5000'));
const FASHION = '/usr/share/datasets/fashion-mnist';

function idx(file: string, header: number): Uint8Array {
  return gunzipSync(readFileSync(`${FASHION}/${file}`)).subarray(header);
}
const toF32 = (u: Uint8Array) => Float32Array.from(u, (v) => v / 255);
const trainX = toF32(idx('train-images-idx3-ubyte.gz', 16)),
  trainY = Int32Array.from(idx('train-labels-idx1-ubyte.gz', 8));
const testX = toF32(idx('t10k-images-idx3-ubyte.gz', 16)),
  testY = Int32Array.from(idx('t10k-labels-idx1-ubyte.gz', 8));
const PIX = 784;

function mulberry(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function student(seed: number): Graph {
  const r = mulberry(seed);
  const he = (n: number, fanIn: number) => Float32Array.from({ length: n }, () => (2 * r() - 1) * Math.sqrt(6 / fanIn));
  const t = (name: string, shape: number[], data?: Float32Array): [string, Tensor] => [
    name,
    { name, dtype: 'float32', shape, data },
  ];
  const zeros = (n: number) => new Float32Array(n);
  const tensors = new Map<string, Tensor>([
    t('x', [1, 28, 28, 1]),
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
    t('w7', [10, 32], he(320, 32)),
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
    node('c1', 'Conv2D', ['x', 'w1', 'b1'], { padding: 'same', activation: 'relu' }),
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
    node('gap', 'GlobalAvgPool', ['pw2:y']),
    node('fl', 'Flatten', ['gap:y'], { axis: 1 }),
    node('fc', 'Dense', ['fl:y', 'w7', 'b7']),
  ];
  const g: Graph = { name: 'student', tensors, nodes, inputs: ['x'], outputs: ['fc:y'], source: 'student' };
  inferShapes.run(g);
  return g;
}

function argmax(a: ArrayLike<number>, o: number, n: number): number {
  let b = 0;
  for (let i = 1; i < n; i++) if (a[o + i]! > a[o + b]!) b = i;
  return b;
}

/** Logits [n,10] of a float graph over images, batch 100, on the simd build. */
async function logitsOf(g: Graph, x: Float32Array, n: number): Promise<Float32Array> {
  const gb = withBatch(g, 100);
  const m = await load(compileGraph(gb).bundle, { build: 'simd' });
  const out = new Float32Array(n * 10);
  for (let i = 0; i < n; i += 100) {
    const y = m.run({ [gb.inputs[0]!]: x.subarray(i * PIX, (i + 100) * PIX) })[gb.outputs[0]!] as Float32Array;
    out.set(y, i * 10);
  }
  return out;
}

const accuracy = (logits: Float32Array, y: Int32Array) => {
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (argmax(logits, i * 10, 10) === y[i]) ok++;
  return (100 * ok) / y.length;
};

async function train(label: string, n: number, loss: LossOptions, teacher: Float32Array): Promise<number> {
  const fwd = student(42);
  const tg = buildTrainingGraph(withBatch(fwd, B), { loss, optimizer: { kind: 'adam' } });
  const m = await load(compileGraph(tg.graph, { skipPasses: true }).bundle, { build: 'simd' });
  const rand = mulberry(7);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const x = new Float32Array(B * PIX),
    yl = new Int32Array(B),
    yt = new Float32Array(B * 10);
  let step = 0;
  const t0 = performance.now();
  for (let e = 0; e < EPOCHS; e++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let sum = 0,
      count = 0;
    for (let b = 0; b + B <= n; b += B) {
      for (let k = 0; k < B; k++) {
        const s = order[b + k]!;
        x.set(trainX.subarray(s * PIX, (s + 1) * PIX), k * PIX);
        yl[k] = trainY[s]!;
        yt.set(teacher.subarray(s * 10, (s + 1) * 10), k * 10);
      }
      const feed: Record<string, Float32Array | Int32Array> = {
        [tg.x]: x,
        [tg.lr]: Float32Array.of(LR),
        [tg.step!]: Float32Array.of(++step),
      };
      if (loss.kind === 'softmax-cross-entropy') feed[tg.labels] = yl;
      else {
        feed[tg.labels] = yt;
        if (tg.hardLabels) feed[tg.hardLabels] = yl;
      }
      sum += (m.run(feed)[tg.loss] as Float32Array)[0]!;
      count++;
    }
    console.error(`  ${label}: epoch ${e + 1} loss ${(sum / count).toFixed(4)}`);
  }
  const secs = (performance.now() - t0) / 1000;
  const trained: Graph = {
    ...fwd,
    tensors: new Map(
      [...fwd.tensors].map(([k, t]) => [
        k,
        tg.params.includes(k) ? { ...t, data: Float32Array.from(m.readVariable(k)) } : t,
      ]),
    ),
  };
  const acc = accuracy(await logitsOf(trained, testX, 10000), testY);
  console.log(
    `${label}: test top-1 ${acc.toFixed(2)} % (${n} images × ${EPOCHS} epochs, ${((n * EPOCHS) / secs).toFixed(0)} samples/s)`,
  );
  return acc;
}

const teacherGraph = loadOnnx(teacherPath);
const t0 = performance.now();
const cached = await logitsOf(teacherGraph, trainX, TRAIN);
console.log(
  `teacher: train logits of ${TRAIN} images computed once in ${((performance.now() - t0) / 1000).toFixed(1)} s; test top-1 ${accuracy(await logitsOf(teacherGraph, testX, 10000), testY).toFixed(2)} %`,
);
const macs = (g: Graph) =>
  g.nodes.reduce((s, n) => {
    if (n.op !== 'Conv2D' && n.op !== 'Dense') return s;
    const w = g.tensors.get(n.inputs[1]!)!.shape,
      y = g.tensors.get(n.outputs[0]!)!.shape;
    return s + y.reduce((a, b) => a * b, 1) * w.slice(1).reduce((a, b) => a * b, 1);
  }, 0);
console.log(`MACs per image: teacher ${macs(teacherGraph)}, student ${macs(student(42))}`);
await train('student, labels only (CE)', TRAIN, { kind: 'softmax-cross-entropy' }, cached);
await train(`student, KD α ${ALPHA} T ${T}`, TRAIN, { kind: 'kd', alpha: ALPHA, temperature: T }, cached);
await train(
  `student, data-only KD (α 1, T ${T}, ${UNLABELED} unlabeled images)`,
  Math.min(UNLABELED, TRAIN),
  { kind: 'kd', alpha: 1, temperature: T },
  cached,
);
