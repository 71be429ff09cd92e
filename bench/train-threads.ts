// node --import tsx bench/train-threads.ts [--batch 32] [--shards 8] [--steps 30] [--threads 1,2]
// Training throughput (samples/s) of data-parallel steps (runtime/train-parallel.ts) at each thread count on
// a fashion_cnn-shaped CNN (28×28×1 → conv 16, pool, conv 32, pool, dw 3×3 + 1×1 64, dw s2 + 1×1 64, GAP,
// dense 10; ≈1.2 MMAC a sample; random weights and data), beside the unsharded training bundle on one
// thread, and samples per CPU second (all threads; on a loaded machine the honest cost figure). Checks on
// the way that every thread count ends on the same weight bytes.
// Run by hand only: this machine is shared and noisy, so numbers never gate a test.
import { parseArgs } from 'node:util';
import type { Graph, Node, Tensor } from '../compiler/ir/graph.ts';
import { inferShapes } from '../compiler/passes/infer-shapes.ts';
import { buildTrainingGraph, type TrainingOptions } from '../compiler/train/training-graph.ts';
import { buildShardedTraining, compileShardedTraining } from '../compiler/train/shard.ts';
import { compileGraph } from '../compiler/compile.ts';
import { load } from '../runtime/node.ts';
import { trainParallel } from '../runtime/train-parallel.ts';

const { values } = parseArgs({
  options: {
    batch: { type: 'string' },
    shards: { type: 'string' },
    steps: { type: 'string' },
    threads: { type: 'string' },
  },
});
const B = Number(values.batch ?? 32),
  STEPS = Number(values.steps ?? 30);
const THREADS = (values.threads ?? '1,2').split(',').map(Number);

/** Seeded uniform numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function cnn(batch: number): Graph {
  const r = rng(7);
  const tensors = new Map<string, Tensor>([['x', { name: 'x', dtype: 'float32', shape: [batch, 28, 28, 1] }]]);
  const nodes: Node[] = [];
  let prev = 'x',
    k = 0;
  const weight = (shape: number[], fanIn: number) => {
    const name = `w${k++}`,
      n = shape.reduce((a, b) => a * b, 1),
      a = Math.sqrt(6 / fanIn);
    tensors.set(name, {
      name,
      dtype: 'float32',
      shape,
      data: Float32Array.from({ length: n }, () => (2 * r() - 1) * a),
    });
    return name;
  };
  const layer = (op: Node['op'], inputs: string[], attrs: Node['attrs']) => {
    const name = `n${nodes.length}`;
    nodes.push({ name, op, inputs: [prev, ...inputs], outputs: [`${name}:y`], attrs });
    prev = `${name}:y`;
  };
  const conv = (co: number, ci: number, kk: number, groups: number, stride = 1) =>
    layer('Conv2D', [weight([co, kk, kk, ci / groups], (kk * kk * ci) / groups), weight([co], 1e6)], {
      strides: [stride, stride],
      padding: kk === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0],
      groups,
      activation: 'relu',
    });
  const pool = () => layer('MaxPool', [], { kernel: [2, 2], strides: [2, 2] });
  conv(16, 1, 3, 1);
  pool();
  conv(32, 16, 3, 1);
  pool();
  conv(32, 32, 3, 32);
  conv(64, 32, 1, 1);
  conv(64, 64, 3, 64, 2);
  conv(64, 64, 1, 1);
  layer('GlobalAvgPool', [], {});
  layer('Flatten', [], { axis: 1 });
  layer('Dense', [weight([10, 64], 64), weight([10], 1e6)], {});
  const g: Graph = { name: 'fashion-like', tensors, nodes, inputs: ['x'], outputs: [prev], source: 'bench' };
  inferShapes.run(g);
  return g;
}

const opts: TrainingOptions = { optimizer: { kind: 'sgd', momentum: 0.9 } };
const fwd = cnn(B);
const st = buildShardedTraining(fwd, B, opts, values.shards ? Number(values.shards) : undefined);
const bundles = compileShardedTraining(st);
const r = rng(11);
const batches = Array.from({ length: 4 }, () => ({
  x: Float32Array.from({ length: B * 784 }, () => r()),
  labels: Int32Array.from({ length: B }, () => Math.floor(r() * 10)),
}));
console.log(
  `batch ${B}, ${st.plan.shards} shards of ${B / st.plan.shards}, ${STEPS} steps (after 3 warm-up steps), sgd momentum 0.9`,
);

const tg = buildTrainingGraph(fwd, opts);
const single = await load(compileGraph(tg.graph, { skipPasses: true }).bundle);
const feed = (k: number) => ({
  [tg.x]: batches[k % 4]!.x,
  [tg.labels]: batches[k % 4]!.labels,
  [tg.lr]: Float32Array.of(0.01),
});
for (let k = 0; k < 3; k++) single.run(feed(k));
/** Samples per CPU second of this process (every thread): what the shards cost, whatever the load. */
const cpuRate = (c: NodeJS.CpuUsage) => (B * STEPS) / ((c.user + c.system) / 1e6);
let t0 = performance.now(),
  c0 = process.cpuUsage();
for (let k = 0; k < STEPS; k++) single.run(feed(k));
const base = (B * STEPS) / ((performance.now() - t0) / 1000);
console.log(
  `unsharded bundle, 1 thread: ${base.toFixed(0)} samples/s, ${cpuRate(process.cpuUsage(c0)).toFixed(0)} samples per CPU s`,
);

let first: string | undefined;
for (const threads of THREADS) {
  const t = await trainParallel(bundles, { threads });
  t.model.resetVariables();
  for (let k = 0; k < 3; k++) await t.step({ ...batches[k % 4]!, lr: 0.01 });
  t0 = performance.now();
  c0 = process.cpuUsage();
  for (let k = 0; k < STEPS; k++) await t.step({ ...batches[k % 4]!, lr: 0.01 });
  const rate = (B * STEPS) / ((performance.now() - t0) / 1000),
    cpu = cpuRate(process.cpuUsage(c0));
  const w = Buffer.concat(st.plan.params.map((p) => Buffer.from(t.model.readVariable(p).buffer))).toString('base64');
  first ??= w;
  const same = w === first ? 'identical to' : 'DIFFER from';
  console.log(
    `sharded, ${t.threads} thread(s): ${rate.toFixed(0)} samples/s (${(rate / base).toFixed(2)}× the unsharded bundle),` +
      ` ${cpu.toFixed(0)} samples per CPU s; weights ${same} the first run's`,
  );
  await t.close();
}
