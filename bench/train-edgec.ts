// Child process of `npm run bench -- --train`: compiles the training bundle of the model at batch B (SGD, momentum
// 0.9), runs warm-up + timed steps over the batches in the data file and prints one JSON line: samples/s, the last loss, the
// arena bytes and this process's peak RSS (so the RSS is edgec's alone, not the peers'). With a thread count as the
// last argument it runs the data-parallel plan `edgec train` runs (default shards, that many worker threads; arena =
// threads × the shard-gradient bundle's + the update bundle's).
import { buildTrainingGraph } from '../compiler/train/training-graph.ts';
import { buildShardedTraining, compileShardedTraining } from '../compiler/train/shard.ts';
import { compileGraph } from '../compiler/compile.ts';
import { load } from '../runtime/node.ts';
import { trainParallel } from '../runtime/train-parallel.ts';
import { readSamples, forwardGraph } from './train-graph.ts';

const [onnxPath, dataPath, batchS, warmS, stepsS, build, lrS, threadsS] = process.argv.slice(2);
const B = Number(batchS),
  warm = Number(warmS),
  steps = Number(stepsS),
  lr = Float32Array.of(Number(lrS));
const nb = warm + steps;
const data = readSamples(dataPath!, nb * B);
if (threadsS !== undefined) {
  const fwd = forwardGraph(onnxPath!, B);
  const bundles = compileShardedTraining(buildShardedTraining(fwd, B, { optimizer: { kind: 'sgd', momentum: 0.9 } }));
  const t = await trainParallel(bundles, { threads: Number(threadsS), build: build as 'simd' | 'scalar' });
  const feed = (i: number) => ({
    x: data.x.subarray(i * B * 784, (i + 1) * B * 784),
    labels: data.labels.subarray(i * B, (i + 1) * B),
    lr: lr[0]!,
  });
  let loss = 0;
  for (let i = 0; i < warm; i++) loss = (await t.step(feed(i))).loss;
  const t0 = performance.now();
  for (let i = warm; i < nb; i++) loss = (await t.step(feed(i))).loss;
  const s = (performance.now() - t0) / 1000;
  await t.close();
  console.log(
    JSON.stringify({
      samplesPerS: (steps * B) / s,
      loss,
      threads: t.threads,
      shards: t.shards,
      arenaBytes: t.threads * t.arena.gradient.arenaBytes + t.arena.update.arenaBytes,
      peakRss: process.resourceUsage().maxRSS * 1024,
    }),
  );
  process.exit(0);
}
const tg = buildTrainingGraph(forwardGraph(onnxPath!, B), { optimizer: { kind: 'sgd', momentum: 0.9 } });
const m = await load(compileGraph(tg.graph, { skipPasses: true }).bundle, { build: build as 'simd' | 'scalar' });
const feed = (i: number) => ({
  [tg.x]: data.x.subarray(i * B * 784, (i + 1) * B * 784),
  [tg.labels]: data.labels.subarray(i * B, (i + 1) * B),
  [tg.lr]: lr,
});
let loss = 0;
for (let i = 0; i < warm; i++) loss = m.run(feed(i))[tg.loss]![0]!;
const t0 = performance.now();
for (let i = warm; i < nb; i++) loss = m.run(feed(i))[tg.loss]![0]!;
const s = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    samplesPerS: (steps * B) / s,
    loss,
    arenaBytes: m.info.arenaBytes,
    peakRss: process.resourceUsage().maxRSS * 1024,
  }),
);
