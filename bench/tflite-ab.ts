// Before → after on the .tflite rows, in one Node process: edgec int8 from two runtime builds (`--before DIR` holding
// an older commit's edgec-simd.wasm and edgec-threads.wasm, against this checkout's build/), 1 thread each and with
// `--threads` 2 threads each, interleaved run by run with TFLite-wasm (1 thread) on the same int8 input: the bundle
// compiled with --io int8, fed the very Int8Array TFLite gets and giving int8 out as TFLite does (the like-for-like
// ratio), plus `afterF32io`, this build on the float32-I/O bundle (the input dequantised; a Quantize and a Dequantize
// step more), so that cost stays in view. Prints per model the median µs and the median over rounds of each round's
// ratio (edgec / TFLite at 1 thread; 2T / 1T per build). Every edgec output must equal TFLite's int8 values (so
// each other's), or it stops.
//   node --import tsx bench/tflite-ab.ts --before /tmp/base-build [--only kws,resnet8,ad] [--rounds 7] [--threads]
// (build the older runtime with `git archive <commit> assembly asconfig.json | tar -x -C DIR` and asc in DIR.)
// `--disable KERNEL` (no --before) compares bundles instead: before = this build on a bundle compiled without KERNEL
// (e.g. Conv2DWino_QS8: the direct convs), after = this build on the default bundle.
// Run by hand only, like the rest of the bench.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { load, type Model } from '../runtime/index.ts';
import { wasmPath } from '../runtime/node.ts';
import { startWorker } from '../runtime/node-worker.ts';
import type { FromThread, ThreadPort } from '../runtime/threads.ts';
import { tfliteRunner } from '../test/tflite-oracle.ts';
import { requantize, sameBytes } from './interleave.ts';
import { tfliteCase, tflitePath } from './tflite.ts';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    only: { type: 'string', default: 'kws,resnet8,ad' },
    rounds: { type: 'string', default: '7' },
    threads: { type: 'boolean', default: false },
    disable: { type: 'string' },
  },
});
if (!values.before === !values.disable)
  throw new Error('usage: bench/tflite-ab.ts --before DIR | --disable KERNEL [--only …] [--rounds N] [--threads]');
const beforeDir = values.before ?? '';
const disabled = values.disable ? [values.disable] : undefined;

const spawn = (): ThreadPort => {
  const w = startWorker('thread-worker');
  return {
    post: (m) => w.postMessage(m),
    onMessage: (f) => w.on('message', (m: FromThread) => f(m)),
    onError: (f) => w.on('error', f),
    terminate: () => void w.terminate(),
  };
};
const mod = (file: string) => new WebAssembly.Module(readFileSync(file));
const builds = {
  before: mod(disabled ? wasmPath('simd') : join(beforeDir, 'edgec-simd.wasm')),
  after: mod(wasmPath('simd')),
  before2T: values.threads ? mod(disabled ? wasmPath('threads') : join(beforeDir, 'edgec-threads.wasm')) : undefined,
  after2T: values.threads ? mod(wasmPath('threads')) : undefined,
};
const rounds = Number(values.rounds);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

for (const name of values.only.split(',')) {
  const file = tflitePath(name);
  if (!file) throw new Error(`bench: '${name}' is not a .tflite bench model`);
  const c = await tfliteCase(file);
  const old = disabled ? (await tfliteCase(file, { disableKernels: disabled })).bundleQ8 : c.bundleQ8;
  const feed = { [c.inName]: c.q },
    feedF32 = { [c.inName]: c.x };
  const models: Record<string, Model> = {};
  for (const [k, wasm] of Object.entries(builds))
    if (wasm)
      models[k] = await load(k.startsWith('before') ? old : c.bundleQ8, {
        wasm,
        threads: k.endsWith('2T') ? { count: 2, spawn } : undefined,
      });
  const afterF32io = await load(c.bundle, { wasm: builds.after });
  const oracle = await tfliteRunner(c.tflite);
  const want = oracle.run([c.q])[0]!;
  for (const [k, m] of Object.entries(models)) {
    const same = sameBytes(m.run(feed)[c.outName]!, want);
    if (!same.startsWith(`${want.length}/`)) throw new Error(`${name}: ${k} agrees with TFLite on ${same} values`);
  }
  const sameF = sameBytes(requantize(afterF32io.run(feedF32)[c.outName]!, c.outScale, c.outZeroPoint), want);
  if (!sameF.startsWith(`${want.length}/`)) throw new Error(`${name}: afterF32io agrees with TFLite on ${sameF}`);
  const names = [...Object.keys(models), 'afterF32io', 'tflite'];
  const fns = [
    ...Object.values(models).map((m) => () => m.run(feed)),
    () => afterF32io.run(feedF32),
    () => oracle.run([c.q]),
  ];
  const runs = name === 'resnet8' ? 200 : 1000;
  const perRound: Record<string, number>[] = [];
  for (let r = 0; r < rounds; r++) {
    const ts: number[][] = fns.map(() => []);
    for (let i = 0; i < runs; i++)
      fns.forEach((f, j) => {
        f(); // untimed: warms this runtime's caches after the others ran
        const s = performance.now();
        f();
        ts[j]!.push((performance.now() - s) * 1000);
      });
    perRound.push(Object.fromEntries(names.map((n, j) => [n, median(ts[j]!)])));
  }
  const us = (a: string) => median(perRound.map((r) => r[a]!)).toFixed(1);
  const ratio = (a: string, b: string) => median(perRound.map((r) => r[a]! / r[b]!)).toFixed(2);
  console.log(
    `${name}: µs ${names.map((n) => `${n} ${us(n)}`).join(', ')}; edgec/TFLite 1T ${ratio('before', 'tflite')} → ` +
      `${ratio('after', 'tflite')}` +
      `; float-I/O after/TFLite ${ratio('afterF32io', 'tflite')}` +
      (values.threads ? `; 2T/1T ${ratio('before2T', 'before')} → ${ratio('after2T', 'after')}` : '') +
      `; after/TFLite per round ${perRound.map((r) => (r.after! / r.tflite!).toFixed(2)).join(' ')}`,
  );
  for (const m of [...Object.values(models), afterF32io]) m.close();
}
process.exit(0);
