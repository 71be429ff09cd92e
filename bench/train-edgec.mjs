// Child process of `npm run bench -- --train`: compiles the training bundle of the model at batch B (SGD, momentum
// 0.9), runs warm-up + timed steps over the batches in the data file and prints one JSON line: samples/s, the last
// loss, the arena bytes and this process's peak RSS (so the RSS is edgec's alone, not the peers'). With a thread count
// as the last argument it runs the data-parallel plan `edgec train` runs (default shards, that many threads: this one
// and threads − 1 workers; arena = threads × the shard-gradient bundle's + the update bundle's).
// Plain JavaScript on the built package (dist/), as `edgec train` runs: tsx's loader would add its own memory to
// this process and to every worker.
// argv: <model.onnx> <samples file (bench/train-graph.ts writeSamples)> <B> <warm> <steps> simd|scalar <lr> [threads]
import { readFileSync } from 'node:fs';
import {
  parseOnnx,
  compileGraph,
  withBatch,
  buildTrainingGraph,
  buildShardedTraining,
  compileShardedTraining,
} from '../dist/compiler/index.js';
import { load } from '../dist/runtime/node.js';
import { trainParallel } from '../dist/runtime/train-parallel.js';

const [onnxPath, dataPath, batchS, warmS, stepsS, build, lrS, threadsS] = process.argv.slice(2);
const B = Number(batchS),
  warm = Number(warmS),
  steps = Number(stepsS),
  lr = Float32Array.of(Number(lrS));
const nb = warm + steps;
const opts = { optimizer: { kind: 'sgd', momentum: 0.9 } };

/** This process's peak RSS in bytes: VmHWM (getrusage's maxRSS carries the forking parent's high-water mark over exec). */
function peakRss() {
  const hwm = /VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

// the samples file: x f32 [count,28,28,1], then labels i32 [count] (bench/train-graph.ts writeSamples)
const raw = readFileSync(dataPath);
const ab = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
const x = new Float32Array(ab, 0, nb * B * 784),
  labels = new Int32Array(ab, nb * B * 784 * 4, nb * B);
// as bench/train-graph.ts forwardGraph: the graph after the compiler's passes, at batch B
const fwd = withBatch(compileGraph(parseOnnx(readFileSync(onnxPath), onnxPath)).graph, B);
const xs = (i) => x.subarray(i * B * 784, (i + 1) * B * 784),
  ys = (i) => labels.subarray(i * B, (i + 1) * B);

let loss = 0,
  s = 0,
  extra;
if (threadsS !== undefined) {
  const bundles = compileShardedTraining(buildShardedTraining(fwd, B, opts));
  const t = await trainParallel(bundles, { threads: Number(threadsS), build });
  for (let i = 0; i < warm; i++) loss = (await t.step({ x: xs(i), labels: ys(i), lr: lr[0] })).loss;
  const t0 = performance.now();
  for (let i = warm; i < nb; i++) loss = (await t.step({ x: xs(i), labels: ys(i), lr: lr[0] })).loss;
  s = (performance.now() - t0) / 1000;
  await t.close();
  extra = {
    threads: t.threads,
    shards: t.shards,
    arenaBytes: t.threads * t.arena.gradient.arenaBytes + t.arena.update.arenaBytes,
  };
} else {
  const tg = buildTrainingGraph(fwd, opts);
  const m = await load(compileGraph(tg.graph, { skipPasses: true }).bundle, { build });
  const feed = (i) => ({ [tg.x]: xs(i), [tg.labels]: ys(i), [tg.lr]: lr });
  for (let i = 0; i < warm; i++) loss = m.run(feed(i))[tg.loss][0];
  const t0 = performance.now();
  for (let i = warm; i < nb; i++) loss = m.run(feed(i))[tg.loss][0];
  s = (performance.now() - t0) / 1000;
  extra = { arenaBytes: m.info.arenaBytes };
}
console.log(JSON.stringify({ samplesPerS: (steps * B) / s, loss, ...extra, peakRss: peakRss() }));
