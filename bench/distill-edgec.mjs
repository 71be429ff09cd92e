// Child process of `npm run bench -- --train` for its distillation rows: per step, the teacher (the model as given,
// compiled float at batch B) runs on the batch, and the student (the same architecture re-initialised, --init he
// --seed 1) takes one step of the KD loss T² · KL(softmax(t/T) ‖ softmax(s/T)) on the teacher's logits (SGD
// momentum 0.9) on the data-parallel plan `edgec train` / `edgec distill` runs, on `threads` threads. Prints one
// JSON line: samples/s of the whole loop (teacher inference + student step), the last loss and this process's peak
// RSS (VmHWM). Plain JavaScript on the built dist/, as bench/train-edgec.mjs.
// argv: <model.onnx> <samples file (bench/train-graph.ts writeSamples)> <B> <warm> <steps> <lr> <T> <threads>
import { readFileSync } from 'node:fs';
import {
  parseOnnx,
  compileGraph,
  withBatch,
  initWeights,
  buildShardedTraining,
  compileShardedTraining,
} from '../dist/compiler/index.js';
import { load } from '../dist/runtime/node.js';
import { trainParallel } from '../dist/runtime/train-parallel.js';

const [onnxPath, dataPath, batchS, warmS, stepsS, lrS, tS, threadsS] = process.argv.slice(2);
const B = Number(batchS),
  warm = Number(warmS),
  steps = Number(stepsS),
  lr = Math.fround(Number(lrS));
const nb = warm + steps;

const raw = readFileSync(dataPath);
const ab = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
const x = new Float32Array(ab, 0, nb * B * 784);
const xs = (i) => x.subarray(i * B * 784, (i + 1) * B * 784);
// as bench/train-graph.ts forwardGraph (teacher) and bench/train.ts's student
const fwd = () => withBatch(compileGraph(parseOnnx(readFileSync(onnxPath), onnxPath)).graph, B);
const teacherGraph = fwd();
const teacher = await load(compileGraph(teacherGraph, { skipPasses: true }).bundle, { build: 'simd' });
const logits = teacher.info.outputs[0].name,
  input = teacher.info.inputs[0].name;
const student = fwd();
initWeights(student, 'he', 1);
const bundles = compileShardedTraining(
  buildShardedTraining(student, B, {
    loss: { kind: 'kl', temperature: Number(tS) },
    optimizer: { kind: 'sgd', momentum: 0.9 },
  }),
);
const t = await trainParallel(bundles, { threads: Number(threadsS), build: 'simd' });
const step = async (i) => (await t.step({ x: xs(i), labels: teacher.run({ [input]: xs(i) })[logits], lr })).loss;
let loss = 0;
for (let i = 0; i < warm; i++) loss = await step(i);
const t0 = performance.now();
for (let i = warm; i < nb; i++) loss = await step(i);
const s = (performance.now() - t0) / 1000;
await t.close();
const hwm = /VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
console.log(
  JSON.stringify({
    samplesPerS: (steps * B) / s,
    loss,
    threads: t.threads,
    shards: t.shards,
    peakRss: hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024,
  }),
);
