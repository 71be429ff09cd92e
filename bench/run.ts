// npm run bench -- <bench models dir> [--runs N] [--only mlp,cnn_small] [--json]
// npm run bench -- <bench models dir> --relaxed [--only mobilenet_v2] [--json]: relaxed vs simd build in Chromium (bench/relaxed.ts)
// npm run bench -- --train [fashion_cnn.onnx] [--batch 32] [--steps 20]: training throughput (bench/train.ts)
// Side-by-side single-thread latency of edgec against its peers on the same model in the same run:
// onnxruntime-web (wasm, numThreads 1; float and QDQ u8s8) and tfjs-backend-wasm (float, running
// the very graph edgec compiles), and edgec int8 (the QDQ u8s8 model with its own scales, or, without
// one, calibrated on 4 random-normal inputs). Prints medians (the runtimes interleaved run by run, so load
// bursts hit every peer alike) and ratios (edgec / peer: below 1 is faster).
// `--json`: the same run as one JSON document on stdout (schema edgec-bench/1: environment, commit, per-model
// medians in ms, ratios, sizes, peak RSS; the GEMM and factorisation notes as their text lines), everything else on
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
import { compileQuantized } from '../compiler/quantize/index.ts';
import { load } from '../runtime/node.ts';
import { readNpy } from '../compiler/io/npy.ts';
import { prepareTfjsGraph } from './peers/tfjs-graph.ts';
import { gemmBench } from './gemm.ts';
import { factorizeBench } from './factorize.ts';
import { trainBench } from './train.ts';
import { relaxedBench } from './relaxed.ts';
import { tfliteBench } from './tflite.ts';
import { memoryBench } from './memory.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string' },
    only: { type: 'string' },
    train: { type: 'boolean' },
    batch: { type: 'string' },
    steps: { type: 'string' },
    json: { type: 'boolean' },
    relaxed: { type: 'boolean' },
  },
});
// --json: stdout carries only the document (peers' own console output goes to stderr)
const writeOut = process.stdout.write.bind(process.stdout);
if (values.json) console.log = console.info = (...a: unknown[]) => console.error(...a);
if (values.train) {
  await trainBench({ model: positionals[0], batch: values.batch, steps: values.steps });
  process.exit(0);
}
const dir = positionals[0];
if (!dir || !existsSync(join(dir, 'mlp.onnx'))) {
  console.error(`edgec bench: give the folder of the benchmark models (mlp.onnx, cnn_small.onnx, mobilenet_v2.onnx and their .npy),
e.g. npm run bench -- ../shared/models/bench${dir ? ` (no mlp.onnx in '${dir}')` : ''}`);
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
const MODELS = (values.only ?? 'mlp,cnn_small,mobilenet_v2').split(',');
const RUNS: Record<string, number> = { mlp: 300, cnn_small: 100, mobilenet_v2: 12 };

/**
 * Median ms of each runner over `runs` rounds, the runners interleaved within every round (after 3 warm-up
 * rounds; in a round each runner runs twice, the second run timed, on caches its first run warmed): a burst of
 * load on the shared cores then lands on every peer alike instead of on one block.
 */
async function interleavedMedians(fns: (() => Promise<unknown>)[], runs: number): Promise<number[]> {
  for (let i = 0; i < Math.min(3, runs); i++) for (const fn of fns) await fn();
  const t: number[][] = fns.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (let j = 0; j < fns.length; j++) {
      await fns[j]!(); // untimed: the other runtimes just ran, so warm this one's caches again first
      const s = performance.now();
      await fns[j]!();
      t[j]!.push(performance.now() - s);
    }
  }
  return t.map((ts) => {
    ts.sort((a, b) => a - b);
    return ts[ts.length >> 1]!;
  });
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

ort.env.wasm.numThreads = 1;
tfwasm.setThreadsCount(1);
await tf.setBackend('wasm');
await tf.ready();

let peakRss = process.memoryUsage().rss;
const rows: string[][] = [];
const records: Record<string, unknown>[] = [];
for (const m of MODELS) {
  const runs = Number(values.runs ?? RUNS[m] ?? 20);
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

  // edgec int8: the u8s8 QDQ model's own scales (so its output is comparable with ort's int8 output)
  const qdqPath = join(dir, `${m}_qdq_u8s8.onnx`);
  let r = 1;
  const normal = () => {
    // Box-Muller on a fixed LCG: calibration inputs for latency only
    r = (r * 1664525 + 1013904223) >>> 0;
    const u = (r + 1) / 2 ** 32;
    r = (r * 1664525 + 1013904223) >>> 0;
    const v = r / 2 ** 32;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const q = existsSync(qdqPath)
    ? await compileQuantized(parseOnnx(readFileSync(qdqPath), qdqPath), {}, { modelName: `${m}_int8` })
    : await compileQuantized(
        graph,
        { samples: { input: graph.inputs[0]!, data: Array.from({ length: 4 }, () => Float32Array.from(xf, normal)) } },
        { modelName: `${m}_int8` },
      );
  const edgecQ = await load(q.bundle, { build: 'simd' });
  const qOut = edgecQ.run({ [inName]: xf })[outName] as Float32Array;

  const tfRun = prepareTfjsGraph(graph);
  const tfOut = (await tfRun({ [graph.inputs[0]!]: xf }))[graph.outputs[0]!]!;
  const [tEdgec, tOrtF, tEdgecQ, tTf, tOrtQ] = (await interleavedMedians(
    [
      async () => edgec.run({ [inName]: xf }),
      ortF.run,
      async () => edgecQ.run({ [inName]: xf }),
      () => tfRun({ [graph.inputs[0]!]: xf }),
      ...(ortQ ? [ortQ.run] : []),
    ],
    runs,
  )) as [number, number, number, number, number?];
  peakRss = Math.max(peakRss, process.memoryUsage().rss);

  records.push({
    model: m,
    runs,
    ms: { edgecF32: tEdgec, ortF32: tOrtF, ortU8s8: tOrtQ ?? null, tfjsF32: tTf, edgecI8: tEdgecQ },
    ratio: {
      edgecF32_ortF32: tEdgec / tOrtF,
      edgecF32_ortU8s8: tOrtQ ? tEdgec / tOrtQ : null,
      edgecF32_tfjsF32: tEdgec / tTf,
      edgecI8_ortU8s8: tOrtQ ? tEdgecQ / tOrtQ : null,
      edgecI8_tfjsF32: tEdgecQ / tTf,
    },
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
      i8Bundle: q.bundle.length,
    },
  });
  rows.push([
    m,
    tEdgec.toFixed(3),
    tOrtF.toFixed(3),
    tOrtQ ? tOrtQ.toFixed(3) : '-',
    tTf.toFixed(3),
    (tEdgec / tOrtF).toFixed(2),
    tOrtQ ? (tEdgec / tOrtQ).toFixed(2) : '-',
    (tEdgec / tTf).toFixed(2),
    maxAbs(eOut, refF).toExponential(1),
    maxAbs(ortF.out, refF).toExponential(1),
    maxAbs(tfOut, refF).toExponential(1),
    String(edgec.info.arenaBytes),
    String(bundle.length),
    tEdgecQ.toFixed(3),
    tOrtQ ? (tEdgecQ / tOrtQ).toFixed(2) : '-',
    (tEdgecQ / tTf).toFixed(2),
    ortQ ? maxAbs(qOut, ortQ.out).toExponential(1) : '-',
    String(edgecQ.info.arenaBytes),
    String(q.bundle.length),
  ]);
}

const head = [
  'model',
  'edgec f32 ms',
  'ort f32 ms',
  'ort u8s8 ms',
  'tfjs f32 ms',
  'edgec/ort f32',
  'edgec/ort int8',
  'edgec/tfjs',
  '|Δ| edgec',
  '|Δ| ort',
  '|Δ| tfjs',
  'arena B',
  'bundle B',
  'edgec i8 ms',
  'i8/ort int8',
  'i8/tfjs f32',
  '|Δ| i8 vs ort i8',
  'i8 arena B',
  'i8 bundle B',
];
if (values.json) {
  const gemm: string[] = [],
    factorize: string[] = [];
  const memory = MODELS.includes('mobilenet_v2') ? await memoryBench(dir, 3, () => {}) : null;
  await gemmBench((l) => gemm.push(l));
  await factorizeBench((l) => factorize.push(l));
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    // not a git checkout (an installed package): no commit to record
  }
  const doc = {
    schema: 'edgec-bench/1',
    date: new Date().toISOString(),
    commit,
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
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const fmt = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join('  ');
console.log(
  'single thread, median latency, the runtimes interleaved run by run; ratios edgec / peer (< 1 = edgec faster); |Δ| = max abs vs the reference output',
);
console.log(
  'targets (mobilenet_v2): i8/ort int8 ≤ 0.25, i8/tfjs f32 ≤ 0.45; arena = the wasm linear-memory working set besides the bundle',
);
console.log(fmt(head));
for (const r of rows) console.log(fmt(r));
console.log(`peak RSS ${(peakRss / 2 ** 20).toFixed(1)} MiB (one process holding every runtime)`);
console.log('');
if (MODELS.includes('mobilenet_v2')) {
  await memoryBench(dir);
  console.log('');
}
await gemmBench();
console.log('');
await factorizeBench();
console.log('');
await tfliteBench();
