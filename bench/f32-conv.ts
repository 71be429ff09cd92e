// Float conv layers and float MobileNetV2: edgec's simd build against tfjs-backend-wasm (XNNPACK, 1 thread) on the
// very same one-node graph, and MobileNetV2 also against onnxruntime-web fp32 (1 thread); `old`: the same graph
// compiled without the packed kernel Conv2D_F32_P8 (Conv2D_F32 / Dense_F32 as before it). Medians of interleaved runs
// (the runtimes alternate within every round, so a burst of load on the shared cores hits each alike) and the ratio
// edgec / peer (below 1 is faster). Run by hand: `node --import tsx bench/f32-conv.ts [bench models dir]
// [--layers-only] [--runs N]`; numbers never gate a test.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web';
import * as tf from '@tensorflow/tfjs-core';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import { compileGraph } from '../compiler/compile.ts';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import type { Graph } from '../compiler/ir/graph.ts';
import { load } from '../runtime/node.ts';
import { readNpy } from '../compiler/io/npy.ts';
import { prepareTfjsGraph } from './peers/tfjs-graph.ts';

function randF32(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return ((s >>> 8) / 2 ** 24 - 0.5) * 0.2;
  });
}

/** One float Conv2D H×W×Ci → Co, k×k, stride s, 'same' padding, bias, relu6; groups = Ci makes it depthwise. */
function convGraph(H: number, Ci: number, Co: number, k: number, s: number, groups = 1): Graph {
  const g: Graph = { name: 'conv', source: 'bench', tensors: new Map(), nodes: [], inputs: ['x'], outputs: ['y'] };
  const OH = Math.ceil(H / s);
  g.tensors.set('x', { name: 'x', dtype: 'float32', shape: [1, H, H, Ci] });
  const cig = Ci / groups;
  g.tensors.set('w', { name: 'w', dtype: 'float32', shape: [Co, k, k, cig], data: randF32(Co * k * k * cig, 7) });
  g.tensors.set('b', { name: 'b', dtype: 'float32', shape: [Co], data: randF32(Co, 9) });
  g.tensors.set('y', { name: 'y', dtype: 'float32', shape: [1, OH, OH, Co] });
  g.nodes.push({
    name: 'conv',
    op: 'Conv2D',
    inputs: ['x', 'w', 'b'],
    outputs: ['y'],
    attrs: {
      strides: [s, s],
      dilations: [1, 1],
      padding: 'same',
      groups,
      activation: 'clip',
      clip: [0, 6],
    },
  });
  return g;
}

/** [name, H, Ci, Co, k, stride, groups]: the issue's 3×3 14²×256 layer, ResNet-like 3×3 layers, MobileNetV2's
 *  stem, pointwise and depthwise shapes. */
const LAYERS: [string, number, number, number, number, number, number][] = [
  ['3×3 14² 256→256', 14, 256, 256, 3, 1, 1],
  ['3×3 28² 128→128', 28, 128, 128, 3, 1, 1],
  ['3×3 56² 64→64', 56, 64, 64, 3, 1, 1],
  ['3×3 7² 512→512', 7, 512, 512, 3, 1, 1],
  ['mnv2 stem 3×3 s2 224² 3→32', 224, 3, 32, 3, 2, 1],
  ['mnv2 pw 112² 32→16', 112, 32, 16, 1, 1, 1],
  ['mnv2 pw 112² 16→96', 112, 16, 96, 1, 1, 1],
  ['mnv2 pw 56² 24→144', 56, 24, 144, 1, 1, 1],
  ['mnv2 pw 56² 144→24', 56, 144, 24, 1, 1, 1],
  ['mnv2 pw 28² 192→32', 28, 192, 32, 1, 1, 1],
  ['mnv2 pw 14² 384→64', 14, 384, 64, 1, 1, 1],
  ['mnv2 pw 14² 96→576', 14, 96, 576, 1, 1, 1],
  ['mnv2 pw 7² 960→320', 7, 960, 320, 1, 1, 1],
  ['mnv2 pw 7² 320→1280', 7, 320, 1280, 1, 1, 1],
  ['mnv2 dw 112² 32', 112, 32, 32, 3, 1, 32],
  ['mnv2 dw 56² 144 s2', 56, 144, 144, 3, 2, 144],
  ['mnv2 dw 14² 576', 14, 576, 576, 3, 1, 576],
];

/** Median and best ms of each runner, interleaved round by round after warm-up (as bench/run.ts). */
async function interleaved(fns: (() => unknown)[], runs: number): Promise<{ med: number; best: number }[]> {
  for (let i = 0; i < 3; i++) for (const fn of fns) await fn();
  const t: number[][] = fns.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (let j = 0; j < fns.length; j++) {
      await fns[j]!();
      const s = performance.now();
      await fns[j]!();
      t[j]!.push(performance.now() - s);
    }
  }
  return t.map((ts) => {
    ts.sort((a, b) => a - b);
    return { med: ts[ts.length >> 1]!, best: ts[0]! };
  });
}

/** The compile options of `old`: the float convs as before Conv2D_F32_P8. */
const OLD = { disableKernels: ['Conv2D_F32_P8'] };

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string' }, 'layers-only': { type: 'boolean' }, only: { type: 'string' } },
});
tfwasm.setThreadsCount(1);
await tf.setBackend('wasm');
await tf.ready();
ort.env.wasm.numThreads = 1;

/** "median (best)" of a ratio: on the shared cores the median moves with other load, the best much less. */
const ratio = (a: { med: number; best: number }, b: { med: number; best: number }) =>
  `${(a.med / b.med).toFixed(2)} (${(a.best / b.best).toFixed(2)})`;

console.log('float conv layers, 1 thread, median ms of interleaved runs; ratios at the median (best) times');
for (const [name, H, Ci, Co, k, s, groups] of LAYERS) {
  if (values.only && !name.includes(values.only)) continue;
  const g = convGraph(H, Ci, Co, k, s, groups);
  const { bundle, graph } = compileGraph(g, {});
  const m = await load(bundle, { build: 'simd' });
  const old = await load(compileGraph(g, OLD).bundle, { build: 'simd' });
  const x = randF32(H * H * Ci, 3);
  const tfRun = prepareTfjsGraph(graph);
  const macs = Math.ceil(H / s) ** 2 * Co * k * k * (Ci / groups);
  const runs = Number(values.runs ?? Math.max(15, Math.min(200, Math.round(2e9 / macs))));
  const [te, to, tt] = await interleaved([() => m.run({ x }), () => old.run({ x }), () => tfRun({ x })], runs);
  const gf = (t: number) => ((2 * macs) / (t * 1e6)).toFixed(1);
  console.log(
    `  ${name.padEnd(28)} edgec ${te!.med.toFixed(3).padStart(7)} ms (${gf(te!.med).padStart(5)} GFLOP/s)` +
      `  tfjs ${tt!.med.toFixed(3).padStart(7)} ms  edgec/tfjs ${ratio(te!, tt!)}  old/tfjs ${ratio(to!, tt!)}`,
  );
}

const dir = positionals[0];
if (!values['layers-only'] && dir && existsSync(join(dir, 'mobilenet_v2.onnx'))) {
  const path = join(dir, 'mobilenet_v2.onnx');
  const xf = Float32Array.from(readNpy(readFileSync(join(dir, 'mobilenet_v2.input.npy'))).data as ArrayLike<number>);
  const { bundle, graph } = compileGraph(parseOnnx(readFileSync(path), path), { modelName: 'mobilenet_v2' });
  const m = await load(bundle, { build: 'simd' });
  const old = await load(compileGraph(parseOnnx(readFileSync(path), path), OLD).bundle, { build: 'simd' });
  const inName = m.info.inputs[0]!.name;
  const tfRun = prepareTfjsGraph(graph);
  const s = await ort.InferenceSession.create(readFileSync(path), { executionProviders: ['wasm'] });
  const feed = { [s.inputNames[0]!]: new ort.Tensor('float32', xf, [1, 3, 224, 224]) };
  const [te, tOld, tt, to] = await interleaved(
    [
      () => m.run({ [inName]: xf }),
      () => old.run({ [inName]: xf }),
      () => tfRun({ [graph.inputs[0]!]: xf }),
      () => s.run(feed),
    ],
    Number(values.runs ?? 15),
  );
  console.log(
    `MobileNetV2 float: edgec ${te!.med.toFixed(2)} ms (old ${tOld!.med.toFixed(2)}), tfjs-wasm ${tt!.med.toFixed(2)} ms,` +
      ` ort-web ${to!.med.toFixed(2)} ms; edgec/tfjs ${ratio(te!, tt!)} (old ${ratio(tOld!, tt!)}; target ≤ 0.8),` +
      ` edgec/ort ${ratio(te!, to!)} (old ${ratio(tOld!, to!)}; target ≤ 0.5)`,
  );
}
