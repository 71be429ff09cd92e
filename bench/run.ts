// npm run bench -- <bench models dir> [--runs N] [--only mlp,cnn_small]
// Side-by-side single-thread latency of edgec against its peers on the same model in the same run:
// onnxruntime-web (wasm, numThreads 1; float and QDQ u8s8) and tfjs-backend-wasm (float, running
// the very graph edgec compiles). Prints medians and ratios (edgec / peer: below 1 is faster).
// Run by hand only: this machine is shared and noisy, so numbers never gate a test.
import { existsSync, readFileSync } from 'node:fs';
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

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string' }, only: { type: 'string' } },
});
const dir = positionals[0];
if (!dir || !existsSync(join(dir, 'mlp.onnx'))) {
  console.error(`edgec bench: give the folder of the benchmark models (mlp.onnx, cnn_small.onnx, mobilenet_v2.onnx and their .npy),
e.g. npm run bench -- ../shared/models/bench${dir ? ` (no mlp.onnx in '${dir}')` : ''}`);
  process.exit(2);
}
const MODELS = (values.only ?? 'mlp,cnn_small,mobilenet_v2').split(',');
const RUNS: Record<string, number> = { mlp: 300, cnn_small: 100, mobilenet_v2: 12 };

async function median(fn: () => Promise<unknown>, runs: number): Promise<number> {
  for (let i = 0; i < Math.min(3, runs); i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1]!;
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
  const tEdgec = await median(async () => edgec.run({ [inName]: xf }), runs);

  const ortRun = async (file: string) => {
    const s = await ort.InferenceSession.create(readFileSync(join(dir, file)), { executionProviders: ['wasm'] });
    const feed = { [s.inputNames[0]!]: new ort.Tensor('float32', xf, x.shape) };
    const out = (await s.run(feed))[s.outputNames[0]!]!.data as Float32Array;
    const t = await median(() => s.run(feed), runs);
    return { t, out };
  };
  const ortF = await ortRun(`${m}.onnx`);
  const ortQ = existsSync(join(dir, `${m}_qdq_u8s8.onnx`)) ? await ortRun(`${m}_qdq_u8s8.onnx`) : undefined;

  const tfRun = prepareTfjsGraph(graph);
  const tfOut = (await tfRun({ [graph.inputs[0]!]: xf }))[graph.outputs[0]!]!;
  const tTf = await median(() => tfRun({ [graph.inputs[0]!]: xf }), runs);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);

  rows.push([
    m, tEdgec.toFixed(3), ortF.t.toFixed(3), ortQ ? ortQ.t.toFixed(3) : '-', tTf.toFixed(3),
    (tEdgec / ortF.t).toFixed(2), ortQ ? (tEdgec / ortQ.t).toFixed(2) : '-', (tEdgec / tTf).toFixed(2),
    maxAbs(eOut, refF).toExponential(1), maxAbs(ortF.out, refF).toExponential(1), maxAbs(tfOut, refF).toExponential(1),
    String(edgec.info.arenaBytes), String(bundle.length),
  ]);
}

const head = ['model', 'edgec f32 ms', 'ort f32 ms', 'ort u8s8 ms', 'tfjs f32 ms', 'edgec/ort f32', 'edgec/ort int8',
  'edgec/tfjs', '|Δ| edgec', '|Δ| ort', '|Δ| tfjs', 'arena B', 'bundle B'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const fmt = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join('  ');
console.log('single thread, median latency; ratios edgec / peer (< 1 = edgec faster); |Δ| = max abs vs the reference output');
console.log(fmt(head));
for (const r of rows) console.log(fmt(r));
console.log(`peak RSS ${(peakRss / 2 ** 20).toFixed(1)} MiB (one process holding every runtime)`);
