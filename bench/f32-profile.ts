// Per-step profile of float MobileNetV2 (simd build, 1 thread): compiles `<model>.onnx` as bench/f32-ab.ts does, runs
// it once, then times each step alone through the wasm's `edgec_run_step(i)` (each step re-run on the arena as the
// full run left it; warm caches, so a whole run is slower than the sum). With `--before DIR` (an older
// edgec-simd.wasm) both builds run interleaved step by step in one process and must give the same output bytes.
// Prints per step µs (minimum over rounds), GFLOP/s (2 per MAC) and after/before, then the sums by kernel and shape.
//   node --import tsx bench/f32-profile.ts [--dir /work/shared/models/bench] [--model mobilenet_v2] [--before DIR]
//     [--rounds 15]
// Run by hand only, like the rest of the bench.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { wasmPath } from '../runtime/node.ts';
import { readNpy } from '../compiler/io/npy.ts';
import { compileGraph } from '../compiler/compile.ts';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { summarizeBundle, type StepRow } from '../compiler/cli/inspect.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/work/shared/models/bench' },
    model: { type: 'string', default: 'mobilenet_v2' },
    before: { type: 'string' },
    rounds: { type: 'string', default: '15' },
  },
});

interface Exports {
  memory: WebAssembly.Memory;
  edgec_alloc(bytes: number): number;
  edgec_load(ptr: number, len: number): number;
  edgec_input_ptr(i: number): number;
  edgec_input_size(i: number): number;
  edgec_output_ptr(i: number): number;
  edgec_output_size(i: number): number;
  edgec_run(): number;
  edgec_run_step(i: number): number;
}

/** One instance of a build with the bundle loaded and run once (so every step's inputs hold real values). */
function instance(file: string, bundle: Uint8Array, x: Float32Array): Exports {
  const ex = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), {}).exports as unknown as Exports;
  const ptr = ex.edgec_alloc(bundle.length);
  new Uint8Array(ex.memory.buffer, ptr, bundle.length).set(bundle);
  if (ex.edgec_load(ptr, bundle.length) !== 0) throw new Error(`${file}: bundle refused`);
  if (ex.edgec_input_size(0) !== x.byteLength) throw new Error(`${file}: input is not ${x.length} float32`);
  new Float32Array(ex.memory.buffer, ex.edgec_input_ptr(0), x.length).set(x);
  if (ex.edgec_run() !== 0) throw new Error(`${file}: run failed`);
  return ex;
}
const output = (ex: Exports) => Buffer.from(ex.memory.buffer, ex.edgec_output_ptr(0), ex.edgec_output_size(0));

/** The group a step's time is summed under: kernel, and for convs the shape class that sets their speed. */
function group(r: StepRow): string {
  const [inS, outS] = r.shapes.split(' -> ');
  const ci = Number(inS!.split(' ')[0]!.split('x').at(-1));
  const [, , w, co] = outS!.split('x').map(Number);
  if (r.kernel.startsWith('DepthwiseConv2D')) return `${r.kernel} ${r.params.split(' ').slice(0, 2).join(' ')}`;
  if (r.kernel.startsWith('Conv2D') && /k1x1/.test(r.params))
    return `${r.kernel} 1x1 ${co! > ci ? 'expand' : 'project'} ${w}²`;
  if (r.kernel.startsWith('Conv2D')) return `${r.kernel} ${r.params.split(' ')[0]} (stem)`;
  return r.kernel;
}

const name = values.model;
const path = join(values.dir, `${name}.onnx`);
const x = Float32Array.from(readNpy(readFileSync(join(values.dir, `${name}.input.npy`))).data as ArrayLike<number>);
const { bundle } = compileGraph(parseOnnx(readFileSync(path), path), { modelName: name });
const rows = summarizeBundle(bundle).rows;
const builds: [string, Exports][] = [];
if (values.before) builds.push(['before', instance(join(values.before, 'edgec-simd.wasm'), bundle, x)]);
builds.push(['after', instance(wasmPath('simd'), bundle, x)]);
if (builds.length > 1 && !output(builds[0]![1]).equals(output(builds[1]![1])))
  throw new Error(`${name}: before and after give different output bytes`);

// warm up ≥ 1 s per build, so V8 has tiered every kernel up
for (const [, ex] of builds) for (const end = performance.now() + 1000; performance.now() < end;) ex.edgec_run();
// reps per step: enough for ~0.5 ms per timed block
const reps = rows.map((r) => {
  const ex = builds.at(-1)![1];
  const s = performance.now();
  for (let j = 0; j < 3; j++) ex.edgec_run_step(r.index);
  return Math.max(2, Math.round(0.5 / Math.max((performance.now() - s) / 3, 1e-4)));
});
const load0 = loadavg()[0]!;
const times: number[][][] = []; // [round][build][step] µs
for (let round = 0; round < Number(values.rounds); round++) {
  const t = builds.map(() => rows.map(() => 0));
  for (const r of rows)
    builds.forEach(([, ex], b) => {
      ex.edgec_run_step(r.index); // untimed: this build's caches after the other's
      const s = performance.now();
      for (let j = 0; j < reps[r.index]!; j++) ex.edgec_run_step(r.index);
      t[b]![r.index] = ((performance.now() - s) * 1000) / reps[r.index]!;
    });
  times.push(t);
}
function stat(ids: number[]): { us: number[]; ratio: string } {
  const us = builds.map((_, b) => ids.reduce((a, i) => a + Math.min(...times.map((t) => t[b]![i]!)), 0));
  return { us, ratio: builds.length > 1 ? ` | ${(us[1]! / us[0]!).toFixed(3)}` : '' };
}
const heads = builds.map(([n]) => n);
const gflops = (macs: bigint, us: number) => (macs > 0n ? ((2 * Number(macs)) / us / 1000).toFixed(1) : '');
const ab = heads.length > 1 ? ' | after/before' : '';
console.log(`${name} float32, simd, 1 thread; load average ${load0.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`);
console.log(`step kernel shapes | ${heads.map((h) => `${h} µs`).join(' | ')} | GFLOP/s${ab}`);
for (const r of rows) {
  const { us, ratio } = stat([r.index]);
  console.log(
    `${r.index} ${r.kernel} ${r.shapes} ${r.params} | ${us.map((v) => v.toFixed(1)).join(' | ')} | ` +
      `${gflops(r.macs, us.at(-1)!)}${ratio}`,
  );
}
const groups = new Map<string, { macs: bigint; ids: number[] }>();
for (const r of rows) {
  const g = groups.get(group(r)) ?? { macs: 0n, ids: [] };
  g.macs += r.macs;
  g.ids.push(r.index);
  groups.set(group(r), g);
}
const total = stat(rows.map((r) => r.index));
console.log(`\ngroup | steps | MMAC | ${heads.map((h) => `${h} µs`).join(' | ')} | share | GFLOP/s${ab}`);
const stats = [...groups].map(([g, v]) => ({ g, v, ...stat(v.ids) }));
for (const { g, v, us, ratio } of stats.sort((a, b) => b.us.at(-1)! - a.us.at(-1)!)) {
  const share = ((100 * us.at(-1)!) / total.us.at(-1)!).toFixed(1);
  console.log(
    `${g} | ${v.ids.length} | ${(Number(v.macs) / 1e6).toFixed(1)} | ${us.map((u) => u.toFixed(0)).join(' | ')} | ` +
      `${share} % | ${gflops(v.macs, us.at(-1)!)}${ratio}`,
  );
}
console.log(`all steps | ${total.us.map((t) => (t / 1000).toFixed(2)).join(' | ')} ms${total.ratio}`);
// whole runs, interleaved run by run (a whole run also pays each step's inputs coming from farther away): median and
// best ms per build, and with --before the median of the per-run ratios
const whole = builds.map(() => [] as number[]);
for (let r = 0; r < 10 * Number(values.rounds); r++)
  builds.forEach(([, ex], b) => {
    const s = performance.now();
    ex.edgec_run();
    whole[b]!.push(performance.now() - s);
  });
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const wholeRatio =
  builds.length > 1 ? `; after/before ${med(whole[1]!.map((t, i) => t / whole[0]![i]!)).toFixed(3)}` : '';
console.log(
  `whole run median (best) | ${whole.map((w) => `${med(w).toFixed(2)} (${Math.min(...w).toFixed(2)})`).join(' | ')} ms` +
    `${wholeRatio}; load average ${loadavg()[0]!.toFixed(2)}`,
);
