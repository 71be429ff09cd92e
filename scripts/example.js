#!/usr/bin/env node
// `npm start`: the newcomer's tour. Compiles examples/mnist/model.json with the edgec CLI, runs the
// 500 shipped MNIST test images on both runtime builds (simd, scalar) through dist/runtime/node.js,
// and prints top-1 accuracy, bundle and arena size, median latency per image, and simd-vs-scalar diff.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ex = join(root, 'examples/mnist');
const node = process.execPath;

/** Runs a step with its output shown; a failure has already printed its one-line error, so just exit. */
function step(args) {
  const r = spawnSync(node, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

step([join(root, 'scripts/build.js'), '--if-stale']);
const outDir = join(root, 'build/example');
mkdirSync(outDir, { recursive: true });
const bundlePath = join(outDir, 'mnist.edgec');
const rel = (p) => relative(process.cwd(), p) || '.';
console.log(`$ edgec compile ${rel(join(ex, 'model.json'))} -o ${rel(bundlePath)}`);
step([join(root, 'bin/edgec.js'), 'compile', relative(root, join(ex, 'model.json')), '-o', relative(root, bundlePath)]);

const { readNpy } = await tsImport('../compiler/io/npy.ts', import.meta.url);
const { load } = await import(pathToFileURL(join(root, 'dist/runtime/node.js')).href);
const images = readNpy(readFileSync(join(ex, 'images.npy')), 'images.npy');
const labels = readNpy(readFileSync(join(ex, 'labels_u8.npy')), 'labels_u8.npy').data;
const n = images.shape[0];
const per = images.data.length / n;
const bundle = new Uint8Array(readFileSync(bundlePath));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const results = {};
for (const build of ['simd', 'scalar']) {
  const model = await load(bundle, { build });
  const inName = model.info.inputs[0].name;
  const outName = model.info.outputs[0].name;
  const sample = (i) => images.data.subarray(i * per, (i + 1) * per);
  for (let i = 0; i < 20; i++) model.run({ [inName]: sample(i % n) }); // warm-up: let the engine tier up
  let outs = null;
  const times = [];
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const y = model.run({ [inName]: sample(i) })[outName];
    times.push(performance.now() - t0);
    outs ??= new Float32Array(n * y.length);
    outs.set(y, i * y.length);
    let best = 0;
    for (let k = 1; k < y.length; k++) if (y[k] > y[best]) best = k;
    if (best === labels[i]) correct++;
  }
  results[build] = { outs, acc: correct / n, correct, ms: median(times), arena: model.info.arenaBytes };
}

let maxDiff = 0;
for (let i = 0; i < results.simd.outs.length; i++)
  maxDiff = Math.max(maxDiff, Math.abs(results.simd.outs[i] - results.scalar.outs[i]));
console.log(
  `\nMNIST (ONNX model zoo mnist-8), ${n} test images, bundle ${bundle.length.toLocaleString('en-US')} bytes, arena ${results.simd.arena.toLocaleString('en-US')} bytes`,
);
for (const build of ['simd', 'scalar']) {
  const r = results[build];
  console.log(
    `  ${build.padEnd(6)}  top-1 ${(100 * r.acc).toFixed(2)} % (${r.correct}/${n})   median ${(r.ms * 1000).toFixed(0)} µs/image`,
  );
}
console.log(`  max |simd - scalar| over all ${results.simd.outs.length} logits: ${maxDiff}`);
