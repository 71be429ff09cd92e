// npm run bench -- <bench models dir> [--runs N] [--only mlp,cnn_small,mobilenet_v2,kws,resnet8,ad]
//   [--tflite a.tflite,…] [--json]
// npm run bench -- <bench models dir> --browser [--only …] [--runs N] [--json]: the same table in headless
//   Chromium (bench/browser.ts)
// npm run bench -- <bench models dir> --relaxed [--only mobilenet_v2] [--json]: relaxed vs simd build in Chromium
//   (bench/relaxed.ts)
// npm run bench -- --train [fashion_cnn.onnx] [--batch 32] [--steps 20]: training throughput (bench/train.ts)
// Side-by-side single-thread latency of edgec against its peers on the same model in the same run. ONNX models
// (mlp, cnn_small, mobilenet_v2 from the models dir): onnxruntime-web (wasm, numThreads 1; float and QDQ u8s8),
// tfjs-backend-wasm (float, running the very graph edgec compiles), and edgec f32 and int8 (the QDQ u8s8 model
// with its own scales, or, without one, calibrated on 4 random-normal inputs). .tflite models (kws, resnet8, ad: the
// MLPerf Tiny fixtures, bench/tflite.ts; more with --tflite): edgec int8 against TFLite's wasm interpreter, as edgec q8
// (--io int8: fed the Int8Array TFLite gets, int8 out) and edgec i8 (float32 I/O: a Quantize and Dequantize more).
// Prints medians (the runtimes interleaved run by run, so load bursts hit every peer alike) and ratios
// (edgec / peer: below 1 is faster), then max |Δ|, identical values and sizes (bench/table.ts).
// `--json`: the same run as one JSON document on stdout (schema edgec-bench/2: environment, commit, per-model
// records of bench/table.ts, peak RSS; the GEMM and factorisation notes as their text lines), everything else on
// stderr, so runs can be stored and compared across commits.
// With mobilenet_v2 in the run: MobileNetV2 peak RSS and bytes-to-first-result of `edgec run`, the runtime API and
// onnxruntime-web, each in a fresh child process (bench/memory.ts; `memory` in the JSON).
// Run by hand only: this machine is shared and noisy, so numbers never gate a test.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web';
import * as tf from '@tensorflow/tfjs-core';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileGraph } from '../compiler/compile.ts';
import { load } from '../runtime/node.ts';
import { readNpy } from '../compiler/io/npy.ts';
import { prepareTfjsGraph } from './peers/tfjs-graph.ts';
import { gemmBench } from './gemm.ts';
import { factorizeBench } from './factorize.ts';
import { trainBench } from './train.ts';
import { relaxedBench } from './relaxed.ts';
import { tfliteBench, tflitePath } from './tflite.ts';
import { memoryBench } from './memory.ts';
import { browserBench, printBrowser } from './browser.ts';
import { interleavedMedians } from './interleave.ts';
import { compileInt8, maxAbs } from './onnx-models.ts';
import { printTables, ratios, type ModelRecord } from './table.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string' },
    only: { type: 'string' },
    tflite: { type: 'string' },
    train: { type: 'boolean' },
    batch: { type: 'string' },
    steps: { type: 'string' },
    json: { type: 'boolean' },
    relaxed: { type: 'boolean' },
    browser: { type: 'boolean' },
  },
});
// --json: stdout carries only the document (peers' own console output goes to stderr)
const writeOut = process.stdout.write.bind(process.stdout);
if (values.json) console.log = console.info = (...a: unknown[]) => console.error(...a);
if (values.train) {
  await trainBench({ model: positionals[0], batch: values.batch, steps: values.steps });
  process.exit(0);
}
const MODELS = [
  ...(values.only ?? 'mlp,cnn_small,mobilenet_v2,kws,resnet8,ad').split(','),
  ...(values.tflite ? values.tflite.split(',') : []),
];
const onnxModels = MODELS.filter((m) => !tflitePath(m));
const dir = positionals[0] ?? '';
if ((onnxModels.length > 0 || values.relaxed) && !existsSync(join(dir, 'mlp.onnx'))) {
  console.error(`edgec bench: give the folder of the benchmark models (mlp.onnx, cnn_small.onnx, mobilenet_v2.onnx and their .npy),
e.g. npm run bench -- ../shared/models/bench${dir ? ` (no mlp.onnx in '${dir}')` : ''}`);
  process.exit(2);
}
for (const m of MODELS)
  if (m.endsWith('.tflite') && !existsSync(m)) {
    console.error(`edgec bench: no file '${m}'`);
    process.exit(2);
  }
if (values.relaxed) {
  await relaxedBench(
    dir,
    (values.only ?? 'mobilenet_v2').split(','),
    Math.max(2, Number(values.runs ?? 8)),
    !!values.json,
  );
  process.exit(0);
}
/** The checkout's commit, so stored runs can be compared across commits (null outside a git checkout). */
function commitOf(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null; // an installed package: no commit to record
  }
}
if (values.browser) {
  const r = await browserBench(dir, MODELS, values.runs ? Number(values.runs) : undefined);
  if (!values.json) printBrowser(r);
  else {
    const doc = {
      schema: 'edgec-bench/2',
      date: new Date().toISOString(),
      commit: commitOf(),
      host: 'chromium',
      chromium: r.chromium,
      platform: `${platform()} ${arch()}`,
      cpu: cpus()[0]?.model ?? null,
      crossOriginIsolated: r.isolated,
      loaded: r.loaded,
      timing: 'median ms per run in the page, the runtimes interleaved run by run (1-thread and 2-thread groups)',
      models: r.records,
    };
    writeOut(JSON.stringify(doc, null, 2) + '\n');
  }
  process.exit(0);
}
const RUNS: Record<string, number> = { mlp: 300, cnn_small: 100, mobilenet_v2: 12 };

ort.env.wasm.numThreads = 1;
tfwasm.setThreadsCount(1);
await tf.setBackend('wasm');
await tf.ready();

let peakRss = process.memoryUsage().rss;
const records: ModelRecord[] = [];
for (const m of MODELS) {
  const runs = Number(values.runs ?? RUNS[m] ?? 200);
  const tfl = tflitePath(m);
  if (tfl) {
    records.push(await tfliteBench(m, tfl, runs));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    continue;
  }
  const onnxPath = resolve(dir, `${m}.onnx`);
  const x = readNpy(readFileSync(join(dir, `${m}.input.npy`)));
  const ref = readNpy(readFileSync(join(dir, `${m}.output.npy`)));
  const xf = Float32Array.from(x.data as ArrayLike<number>);
  const refF = Float32Array.from(ref.data as ArrayLike<number>);

  const { bundle, graph } = compileGraph(parseOnnx(readFileSync(onnxPath), onnxPath), { modelName: m });
  const edgec = await load(bundle, { build: 'simd' });
  const inName = edgec.info.inputs[0]!.name;
  const outName = edgec.info.outputs[0]!.name;
  const eOut = edgec.run({ [inName]: xf })[outName] as Float32Array;

  const ortRun = async (file: string) => {
    const s = await ort.InferenceSession.create(readFileSync(join(dir, file)), { executionProviders: ['wasm'] });
    const feed = { [s.inputNames[0]!]: new ort.Tensor('float32', xf, x.shape) };
    const out = (await s.run(feed))[s.outputNames[0]!]!.data as Float32Array;
    return { run: () => s.run(feed), out };
  };
  const ortF = await ortRun(`${m}.onnx`);
  const ortQ = existsSync(join(dir, `${m}_qdq_u8s8.onnx`)) ? await ortRun(`${m}_qdq_u8s8.onnx`) : undefined;

  const q = await compileInt8(dir, m, graph, xf);
  const edgecQ = await load(q, { build: 'simd' });
  const qOut = edgecQ.run({ [inName]: xf })[outName] as Float32Array;

  const tfRun = prepareTfjsGraph(graph);
  const tfOut = (await tfRun({ [graph.inputs[0]!]: xf }))[graph.outputs[0]!]!;
  const [tEdgec, tOrtF, tEdgecQ, tTf, tOrtQ] = (await interleavedMedians(
    [
      () => edgec.run({ [inName]: xf }),
      ortF.run,
      () => edgecQ.run({ [inName]: xf }),
      () => tfRun({ [graph.inputs[0]!]: xf }),
      ...(ortQ ? [ortQ.run] : []),
    ],
    runs,
  )) as [number, number, number, number, number?];
  peakRss = Math.max(peakRss, process.memoryUsage().rss);

  const ms = { edgecF32: tEdgec, edgecI8: tEdgecQ, ortF32: tOrtF, ortU8s8: tOrtQ ?? null, tfjsF32: tTf };
  records.push({
    model: m,
    runs,
    ms,
    ratio: ratios(ms, [
      ['edgecF32', 'ortF32'],
      ['edgecF32', 'tfjsF32'],
      ['edgecI8', 'ortU8s8'],
      ['edgecI8', 'tfjsF32'],
    ]),
    maxAbs: {
      edgecF32: maxAbs(eOut, refF),
      ortF32: maxAbs(ortF.out, refF),
      tfjsF32: maxAbs(tfOut, refF),
      edgecI8_vs_ortU8s8: ortQ ? maxAbs(qOut, ortQ.out) : null,
    },
    bytes: {
      f32Arena: edgec.info.arenaBytes,
      f32Bundle: bundle.length,
      i8Arena: edgecQ.info.arenaBytes,
      i8Bundle: q.length,
    },
  });
}

if (values.json) {
  const gemm: string[] = [],
    factorize: string[] = [];
  const memory = MODELS.includes('mobilenet_v2') ? await memoryBench(dir, 3, () => {}) : null;
  await gemmBench((l) => gemm.push(l));
  await factorizeBench((l) => factorize.push(l));
  const doc = {
    schema: 'edgec-bench/2',
    date: new Date().toISOString(),
    commit: commitOf(),
    host: 'node',
    node: process.version,
    v8: process.versions.v8,
    platform: `${platform()} ${arch()}`,
    cpu: cpus()[0]?.model ?? null,
    threads: 1,
    timing: 'median ms per run, the runtimes interleaved run by run',
    models: records,
    peakRssMiB: peakRss / 2 ** 20,
    memory,
    gemm,
    factorize,
  };
  writeOut(JSON.stringify(doc, null, 2) + '\n');
  process.exit(0);
}
console.log(
  'Node, single thread, median latency, the runtimes interleaved run by run; ratios edgec / peer (< 1 = edgec faster)',
);
console.log('targets: mobilenet_v2 edgec i8 / ort u8s8 ≤ 0.18, edgec f32 / tfjs f32 ≤ 0.8, edgec f32 / ort f32 ≤ 0.5;');
console.log('.tflite models edgec q8 / tflite i8 ≤ 0.6 (q8: --io int8, the same Int8Array in; docs/benchmarks.md)');
printTables(records);
console.log('|Δ| = max abs vs the reference output; arena = the wasm linear-memory working set besides the bundle');
console.log(`peak RSS ${(peakRss / 2 ** 20).toFixed(1)} MiB (one process holding every runtime)`);
console.log('');
if (MODELS.includes('mobilenet_v2')) {
  await memoryBench(dir);
  console.log('');
}
await gemmBench();
console.log('');
await factorizeBench();
