// Child process of `npm run bench -- --train`: compiles the training bundle of the model at batch B (SGD, momentum
// 0.9), runs warm-up + timed steps over the batches in the data file and prints one JSON line: samples/s, the last loss, the
// arena bytes and this process's peak RSS (so the RSS is edgec's alone, not the peers').
import { buildTrainingGraph } from '../compiler/train/training-graph.ts';
import { compileGraph } from '../compiler/compile.ts';
import { load } from '../runtime/node.ts';
import { readSamples, forwardGraph } from './train-graph.ts';

const [onnxPath, dataPath, batchS, warmS, stepsS, build, lrS] = process.argv.slice(2);
const B = Number(batchS),
  warm = Number(warmS),
  steps = Number(stepsS),
  lr = Float32Array.of(Number(lrS));
const tg = buildTrainingGraph(forwardGraph(onnxPath!, B), { optimizer: { kind: 'sgd', momentum: 0.9 } });
const m = await load(compileGraph(tg.graph, { skipPasses: true }).bundle, { build: build as 'simd' | 'scalar' });
const nb = warm + steps;
const data = readSamples(dataPath!, nb * B);
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
