// node --import tsx bench/herding.ts [--pool 1000] [--count 200] [--runs 3] [--model test/fixtures/onnx/fashion_cnn.onnx]
// The replay selection step of `edgec distill --replay-select herding` (compiler/distill/replay.ts), from the
// previous model already compiled as the teacher to the kept samples: the one pass (herdingTeacher compiled
// with logits + penultimate features, run once over the pool) against the two passes it replaced (the teacher
// over the pool for the logits, then the feature teacher over it again), interleaved in one run (medians).
// Pool: the first `pool` Fashion-MNIST training images of classes 0–4 (/usr/share/datasets/fashion-mnist),
// unlabelled, so the labels are the previous model's argmax among 0–4. Checks both keep the same samples with
// the same labels and that the logits are the same bytes. Run by hand only: the machine is shared and noisy.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { loadModel } from '../compiler/cli/compile.ts';
import { teacherOutputs } from '../compiler/distill/batches.ts';
import { selectReplay } from '../compiler/distill/continual.ts';
import { datasetOf } from '../compiler/distill/index.ts';
import { herdingTeacher, replayBuffer, replayLabels, type Replay } from '../compiler/distill/replay.ts';
import { graphTeacher } from '../compiler/distill/teacher.ts';
import { interleavedMedians, sameBytes } from './interleave.ts';

const { values } = parseArgs({
  options: {
    pool: { type: 'string' },
    count: { type: 'string' },
    runs: { type: 'string' },
    model: { type: 'string' },
  },
});
const POOL = Number(values.pool ?? 1000),
  COUNT = Number(values.count ?? 200),
  RUNS = Number(values.runs ?? 3);
const SRC = '/usr/share/datasets/fashion-mnist';
const idx = (f: string, header: number) => new Uint8Array(gunzipSync(readFileSync(`${SRC}/${f}`)).subarray(header));
const images = idx('train-images-idx3-ubyte.gz', 16),
  labels = idx('train-labels-idx1-ubyte.gz', 8);
const rows: number[] = [];
for (let i = 0; i < labels.length && rows.length < POOL; i++) if (labels[i]! < 5) rows.push(i);
const x = new Float32Array(rows.length * 784);
rows.forEach((r, i) => {
  for (let k = 0; k < 784; k++) x[i * 784 + k] = images[r * 784 + k]! / 255;
});
const shape = [1, 28, 28];
const pool = datasetOf(x, shape);
const replay: Replay = { data: pool, labelled: false, select: { by: 'herding', count: COUNT } };
const old: [number, number] = [0, 5];

const g = loadModel(values.model ?? 'test/fixtures/onnx/fashion_cnn.onnx', undefined);
const teacher = await graphTeacher(g, [], shape);

/** Before: the teacher over the pool for the logits, then a second compile and pass for the features. */
async function twoPass() {
  const all = (rs: Uint32Array) => pool.readSamples(rs);
  const logits = teacherOutputs(teacher, all, pool.size).get('logits')!;
  const h = await herdingTeacher(teacher, shape, 'simd');
  const feat = teacherOutputs(h.teacher, all, pool.size).get(h.feature)!;
  const y = replayLabels(teacher, replay, old, logits);
  const keep = selectReplay('herding', COUNT, y, logits, teacher.classes, old, {
    data: feat,
    dim: feat.length / pool.size,
  });
  return { keep, labels: Int32Array.from(keep, (i) => y[i]!), logits };
}

/** After: one compile and one pass giving both. */
async function onePass() {
  const h = await herdingTeacher(teacher, shape, 'simd');
  return replayBuffer(h.teacher, replay, old, 'bench', h.feature);
}

const a = await twoPass(),
  b = await onePass();
const h = await herdingTeacher(teacher, shape, 'simd');
const l1 = teacherOutputs(h.teacher, (rs) => pool.readSamples(rs), pool.size).get('logits')!;
const keptX = b.data.readSamples(Uint32Array.from({ length: b.data.size }, (_, i) => i));
console.log(
  `pool ${pool.size}, keep ${COUNT}: logits same ${sameBytes(new Uint8Array(a.logits.buffer), new Uint8Array(l1.buffer))}` +
    `, labels same ${sameBytes(a.labels, b.labels)}, kept samples same ${sameBytes(pool.readSamples(a.keep), keptX)}`,
);
const [t2, t1] = await interleavedMedians([twoPass, onePass], RUNS);
console.log(`two passes ${t2!.toFixed(0)} ms, one pass ${t1!.toFixed(0)} ms (×${(t2! / t1!).toFixed(2)})`);
