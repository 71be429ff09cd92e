// Before → after on float MobileNetV2, in one Node process: edgec's simd build from an older commit (`--before DIR`
// holding its edgec-simd.wasm) against this checkout's build/, interleaved run by run with tfjs-backend-wasm and
// onnxruntime-web fp32 (1 thread each) on the same input. Prints median and best ms, the median over rounds of each
// round's ratio (after / before, each build / each peer: on a loaded machine it moves less than a ratio of medians),
// and the ratios of the best times (each runtime's least disturbed run). The two builds' bytes must match, or it stops.
//   node --import tsx bench/f32-ab.ts --before /tmp/base-build [--rounds 20] [bench models dir]
// (build the older runtime with `git archive <commit> assembly asconfig.json | tar -x -C DIR` and asc in DIR.)
// Run by hand only, like the rest of the bench.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web';
import * as tf from '@tensorflow/tfjs-core';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import { compileGraph } from '../compiler/compile.ts';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { readNpy } from '../compiler/io/npy.ts';
import { load } from '../runtime/index.ts';
import { wasmPath } from '../runtime/node.ts';
import { prepareTfjsGraph } from './peers/tfjs-graph.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { before: { type: 'string' }, rounds: { type: 'string', default: '20' } },
});
if (!values.before) throw new Error('usage: bench/f32-ab.ts --before DIR [--rounds N] [bench models dir]');
const dir = positionals[0] ?? 'bench/models';
const path = join(dir, 'mobilenet_v2.onnx');
const xf = Float32Array.from(readNpy(readFileSync(join(dir, 'mobilenet_v2.input.npy'))).data as ArrayLike<number>);
const { bundle, graph } = compileGraph(parseOnnx(readFileSync(path), path), { modelName: 'mobilenet_v2' });
const mod = (file: string) => new WebAssembly.Module(readFileSync(file));
const before = await load(bundle, { wasm: mod(join(values.before, 'edgec-simd.wasm')) });
const after = await load(bundle, { wasm: mod(wasmPath('simd')) });
const inName = before.info.inputs[0]!.name,
  outName = before.info.outputs[0]!.name;
const bytes = (m: typeof before) => Buffer.from((m.run({ [inName]: xf })[outName] as Float32Array).buffer);
if (!bytes(before).equals(bytes(after))) throw new Error('bench: the two builds give different bytes');

tfwasm.setThreadsCount(1);
await tf.setBackend('wasm');
await tf.ready();
ort.env.wasm.numThreads = 1;
const tfRun = prepareTfjsGraph(graph);
const session = await ort.InferenceSession.create(readFileSync(path), { executionProviders: ['wasm'] });
const feed = { [session.inputNames[0]!]: new ort.Tensor('float32', xf, [1, 3, 224, 224]) };

const names = ['before', 'after', 'tfjs', 'ort'];
const fns: (() => unknown)[] = [
  () => before.run({ [inName]: xf }),
  () => after.run({ [inName]: xf }),
  () => tfRun({ [graph.inputs[0]!]: xf }),
  () => session.run(feed),
];
for (let i = 0; i < 3; i++) for (const f of fns) await f();
const rounds = Number(values.rounds);
const t: number[][] = fns.map(() => []);
for (let r = 0; r < rounds; r++)
  for (let j = 0; j < fns.length; j++) {
    await fns[j]!(); // untimed: the other runtimes just ran, so warm this one's caches again first
    const s = performance.now();
    await fns[j]!();
    t[j]!.push(performance.now() - s);
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const ratio = (j: number, k: number) => median(t[j]!.map((v, i) => v / t[k]![i]!)).toFixed(3);
const best = (j: number) => Math.min(...t[j]!);
console.log(`float MobileNetV2, 1 thread, ${rounds} interleaved rounds; bytes of both builds identical`);
console.log(
  'median (best) ms: ' + names.map((n, j) => `${n} ${median(t[j]!).toFixed(2)} (${best(j).toFixed(2)})`).join(', '),
);
console.log(
  `median per-round ratio: after/before ${ratio(1, 0)}; ort f32: before ${ratio(0, 3)} → after ${ratio(1, 3)}` +
    ` (target ≤ 0.5); tfjs: before ${ratio(0, 2)} → after ${ratio(1, 2)} (target ≤ 0.8)`,
);
const bestRatio = (j: number, k: number) => (best(j) / best(k)).toFixed(3);
console.log(
  `best-time ratio: after/before ${bestRatio(1, 0)}; ort f32: before ${bestRatio(0, 3)} → after ${bestRatio(1, 3)};` +
    ` tfjs: before ${bestRatio(0, 2)} → after ${bestRatio(1, 2)}`,
);
