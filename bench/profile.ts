// Per-step profile of a bench model: compiles it as bench/run.ts does (int8: `<model>_qdq_u8s8.onnx`; --float:
// `<model>.onnx`), runs it once, then times each step alone through the wasm's step-run entry points (each step re-run
// on the arena as the full run left it), the builds interleaved step by step in one process.
// - default: the simd build on 1 thread (`edgec_run_step(i)`); `--before DIR` (an older edgec-simd.wasm) runs beside
//   it and must give the same output bytes. Prints per step µs, GMAC/s and after/before, then the time grouped by
//   kernel and shape (stem, expand / project 1×1, depthwise s1 / s2, Add, …): each step's minimum over rounds, summed;
//   with --before the ratio of those sums. Then whole runs, the builds interleaved run by run.
// - `--threads N`: the threads build on 1 and N threads (`edgec_run_steps(i, i + 1)`, `edgec_step_stat`;
//   docs/threads.md), with `--before DIR` also DIR's edgec-threads.wasm on N threads. Per step: whether it splits,
//   µs on 1 and N threads and their ratio, of a split step the chunks the main thread ran and its polls of the done
//   counter after its last chunk (its wait for a worker); then how much of one thread's time runs on one thread only,
//   what the split steps lose to the ideal 1/N, and whole runs.
// - `--disable K1,K2` (simd): the before side runs a bundle compiled with those KernelIds disabled (the lowering's next
//   rule takes their nodes, e.g. Quantize_QS8_RNE,Add_QS8_FP32 → Quantize_QS8, Add_QS8), on DIR's build or, without
//   --before, on this one: kernels whose bundles an older build cannot load, compared step by step; the outputs may
//   then differ (the count of differing bytes is printed). Each build times its own steps: a step of the after bundle
//   is compared with the before bundle's steps of the same node (a fused step with the one it replaces; steps only
//   the before bundle has are listed after), the groups sum each build's own steps.
// Each step's time is its minimum over rounds (on a loaded machine, the rounds where every thread had a core);
// `--median` takes the median instead.
//   node --import tsx bench/profile.ts [--dir /work/shared/models/bench] [--model mobilenet_v2] [--float]
//     [--before DIR] [--disable K1,K2] [--threads N] [--rounds 15] [--median] [--all]
// Run by hand only, like the rest of the bench.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { wasmModule } from '../runtime/node.ts';
import { readNpy } from '../compiler/io/npy.ts';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileGraph } from '../compiler/compile.ts';
import { summarizeBundle, type StepRow } from '../compiler/cli/inspect.ts';
import { startWorker } from '../runtime/node-worker.ts';
import { startThreads, type FromThread, type ThreadPort } from '../runtime/threads.ts';
import { compileInt8 } from './onnx-models.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/work/shared/models/bench' },
    model: { type: 'string', default: 'mobilenet_v2' },
    before: { type: 'string' },
    disable: { type: 'string' },
    rounds: { type: 'string', default: '15' },
    threads: { type: 'string' },
    float: { type: 'boolean', default: false },
    median: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
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
  edgec_run_step?(i: number): number;
  edgec_threads_setup?(n: number): number;
  edgec_run_steps?(from: number, to: number): number;
  edgec_step_stat?(i: number, what: number): number;
}

/** One build's instance with the bundle loaded and run once (so every step's inputs hold real values). */
interface Instance {
  label: string;
  ex: Exports;
  /** Runs step i alone (the simd build's edgec_run_step, the threads build's edgec_run_steps). */
  step(i: number): void;
  close(): void;
}

const T = values.threads ? Number(values.threads) : 0;
if (values.threads && !(Number.isInteger(T) && T >= 2)) throw new Error('bench/profile.ts: --threads wants N ≥ 2');

function spawn(): ThreadPort {
  const w = startWorker('thread-worker');
  return {
    post: (msg) => w.postMessage(msg),
    onMessage: (f) => w.on('message', (m: FromThread) => f(m)),
    onError: (f) => w.on('error', f),
    terminate: () => void w.terminate(),
  };
}

/** Build `module` on n threads (0: the simd build's own memory; ≥ 1: a shared memory, n − 1 workers). */
async function instance(label: string, module: WebAssembly.Module, n: number, bundle = after): Promise<Instance> {
  let ex: Exports;
  let close = () => {};
  if (n > 1) {
    const pool = await startThreads(module, { count: n, spawn });
    ex = pool.instance.exports as unknown as Exports;
    pool.enter(ex.edgec_threads_setup!(n));
    close = pool.close;
  } else if (n === 1) {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 16384, shared: true });
    ex = (await WebAssembly.instantiate(module, { env: { memory } })).exports as unknown as Exports;
  } else ex = (await WebAssembly.instantiate(module, {})).exports as unknown as Exports;
  const ptr = ex.edgec_alloc(bundle.length);
  new Uint8Array(ex.memory.buffer, ptr, bundle.length).set(bundle);
  if (ex.edgec_load(ptr, bundle.length) !== 0) throw new Error(`${label}: bundle refused`);
  if (ex.edgec_input_size(0) !== x.byteLength) throw new Error(`${label}: input is not ${x.length} float32`);
  new Float32Array(ex.memory.buffer, ex.edgec_input_ptr(0), x.length).set(x);
  if (ex.edgec_run() !== 0) throw new Error(`${label}: run failed`);
  const fail = (i: number) => new Error(`${label}: step ${i} failed`);
  if (n === 0) {
    if (!ex.edgec_run_step)
      throw new Error(`${label}: no edgec_run_step export (a build from before bench/profile.ts)`);
    const step = (i: number) => {
      if (ex.edgec_run_step!(i) !== 0) throw fail(i);
    };
    return { label, ex, step, close };
  }
  if (!ex.edgec_run_steps) throw new Error(`${label}: no edgec_run_steps export (not a threads build)`);
  const step = (i: number) => {
    if (ex.edgec_run_steps!(i, i + 1) !== 0) throw fail(i);
  };
  return { label, ex, step, close };
}

/** The model input copied in again: the planner lets later tensors reuse the input's bytes, so a step or whole run
 *  re-run without it would read leftovers (the float Quantize then divides int8 bytes read as floats, many subnormal:
 *  twice its real time). Called outside every timer. */
const setInput = (ex: Exports) => new Float32Array(ex.memory.buffer, ex.edgec_input_ptr(0), x.length).set(x);
const output = (ex: Exports) => Buffer.from(ex.memory.buffer, ex.edgec_output_ptr(0), ex.edgec_output_size(0));

/** The group a step's time is summed under: kernel, and for convs the shape class that sets their speed. */
function group(r: StepRow): string {
  const k = r.kernel;
  const [inS, outS] = r.shapes.split(' -> ');
  const ci = Number(inS!.split(' ')[0]!.split('x').at(-1));
  const [, , w, co] = outS!.split('x').map(Number);
  if (k.startsWith('DepthwiseConv2D'))
    return `${k} ${/k3x3/.test(r.params) ? '3x3' : r.params.split(' ')[0]} ${r.params.split(' ')[1]}`;
  if (k.startsWith('Conv2D') && /k1x1/.test(r.params)) return `${k} 1x1 ${co! > ci ? 'expand' : 'project'} ${w}²`;
  if (k.startsWith('Conv2D')) return `${k} ${r.params.split(' ')[0]} (stem)`;
  return k;
}

const dir = values.dir;
const name = values.model;
const x = Float32Array.from(readNpy(readFileSync(join(dir, `${name}.input.npy`))).data as ArrayLike<number>);
const fp = join(dir, `${name}.onnx`);
const compile = (disableKernels?: string[]) =>
  values.float
    ? compileGraph(parseOnnx(readFileSync(fp), fp), { modelName: name, disableKernels }).bundle
    : compileInt8(dir, name, undefined as never, x, disableKernels);
const after = await compile();
const disabled = values.disable?.split(',');
if (disabled && T) throw new Error('bench/profile.ts: --disable is for the simd profile (no --threads)');
const rows = summarizeBundle(after).rows;
const beforeBundle = disabled ? await compile(disabled) : after;
const wasmIn = (d: string, f: string) => new WebAssembly.Module(readFileSync(join(d, f)));
const builds: Instance[] = [];
if (T) {
  builds.push(await instance('1 thread', wasmModule('threads'), 1));
  builds.push(await instance(`${T} threads`, wasmModule('threads'), T));
  if (values.before) builds.push(await instance(`before ${T}`, wasmIn(values.before, 'edgec-threads.wasm'), T));
} else {
  const beforeWasm = values.before
    ? wasmIn(values.before, 'edgec-simd.wasm')
    : disabled
      ? wasmModule('simd')
      : undefined;
  if (beforeWasm) builds.push(await instance('before', beforeWasm, 0, beforeBundle));
  builds.push(await instance('after', wasmModule('simd'), 0));
}
/** Each build's steps: only the --disable before side's differ. */
const rowsOf = builds.map((b) => (b.label === 'before' && disabled ? summarizeBundle(beforeBundle).rows : rows));
for (const b of builds.slice(1)) {
  const [o, o0] = [output(b.ex), output(builds[0]!.ex)];
  if (o.equals(o0)) continue;
  if (!disabled) throw new Error(`${name}: ${b.label} and ${builds[0]!.label} give different output bytes`);
  console.log(`${b.label} and ${builds[0]!.label}: ${o.filter((v, i) => v !== o0[i]).length} output bytes differ`);
}

// warm up ≥ 1 s per build, so V8 has tiered every kernel up
for (const { ex } of builds) for (const end = performance.now() + 1000; performance.now() < end;) ex.edgec_run();
// reps per step: enough for ~0.5 ms per timed block
const repsOn = (b: Instance, rs: StepRow[]) =>
  rs.map((r) => {
    const s = performance.now();
    for (let j = 0; j < 3; j++) b.step(r.index);
    return Math.max(2, Math.round(0.5 / Math.max((performance.now() - s) / 3, 1e-4)));
  });
const repsAfter = repsOn(builds.at(-1)!, rows);
const reps = builds.map((b, k) => (rowsOf[k] === rows ? repsAfter : repsOn(b, rowsOf[k]!)));
// times[round][build][step] µs; threads mode: the N-thread build's main chunks and polls per round and step
const times: number[][][] = [];
const chunks: number[][] = rows.map(() => []);
const polls: number[][] = rows.map(() => []);
const load0 = loadavg()[0]!;
for (let round = 0; round < Number(values.rounds); round++) {
  const t = builds.map((_, k) => rowsOf[k]!.map(() => 0));
  for (let i = 0; i < Math.max(...rowsOf.map((rs) => rs.length)); i++)
    builds.forEach((b, k) => {
      if (i >= rowsOf[k]!.length) return;
      setInput(b.ex);
      b.step(i); // untimed: this build's caches after the other's
      const s = performance.now();
      for (let j = 0; j < reps[k]![i]!; j++) b.step(i);
      t[k]![i] = ((performance.now() - s) * 1000) / reps[k]![i]!;
      if (T && k === 1) {
        chunks[i]!.push(b.ex.edgec_step_stat!(i, 3));
        polls[i]!.push(b.ex.edgec_step_stat!(i, 4));
      }
    });
  times.push(t);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
/** Step i's time on build b over the rounds (minimum, or --median). */
const stepUs = (b: number, i: number) => {
  const v = times.map((t) => t[b]![i]!);
  return values.median ? median(v) : Math.min(...v);
};
/** Per build the summed step times of steps `ids` (of the after bundle; `idsOf(b)` a build's own where they differ),
 *  and A/B their ratio after/before. */
function stat(ids: number[], idsOf = (_b: number) => ids): { us: number[]; ratio: string } {
  const us = builds.map((_, b) => idsOf(b).reduce((a, i) => a + stepUs(b, i), 0));
  return { us, ratio: builds.length > 1 ? ` | ${(us[1]! / us[0]!).toFixed(3)}` : '' };
}
const gmacs = (macs: bigint, us: number) => (macs > 0n ? (Number(macs) / us / 1000).toFixed(1) : '');
const what = `${name} ${values.float ? 'float' : 'int8 (u8s8 QDQ)'}`;
const pick = values.median ? 'median' : 'minimum';

if (T) threadsReport();
else simdReport();
// whole runs, interleaved run by run (the steps above ran with warm caches; a whole run also pays each step's inputs
// coming from farther away): median ms per build, and the median of the per-run ratios to the first build
const whole = builds.map(() => [] as number[]);
for (let r = 0; r < 10 * Number(values.rounds); r++)
  builds.forEach(({ ex }, b) => {
    setInput(ex);
    const s = performance.now();
    ex.edgec_run();
    whole[b]!.push(performance.now() - s);
  });
const wholeRatio = builds
  .slice(1)
  .map(
    (b, k) => `; ${b.label}/${builds[0]!.label} ${median(whole[k + 1]!.map((t, i) => t / whole[0]![i]!)).toFixed(3)}`,
  )
  .join('');
console.log(
  `whole run | ${whole.map((w) => median(w).toFixed(2)).join(' | ')} ms${wholeRatio}` +
    `${builds.length > 1 ? ' (median of runs)' : ''}; load average ${loadavg()[0]!.toFixed(2)}`,
);
for (const b of builds) b.close();

function simdReport(): void {
  const heads = builds.map((b) => b.label);
  console.log(`${what}, simd, 1 thread; load average ${load0.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`);
  console.log(
    `step kernel shapes | ${heads.map((h) => `${h} µs`).join(' | ')} | GMAC/s${heads.length > 1 ? ' | after/before' : ''}`,
  );
  // a build's steps of after step r: its own where the step lists differ (same node), else step r
  const same = (b: number, r: StepRow) =>
    rowsOf[b] === rows ? [r.index] : rowsOf[b]!.filter((o) => o.node === r.node).map((o) => o.index);
  for (const r of rows) {
    const { us, ratio } = stat([r.index], (b) => same(b, r));
    console.log(
      `${r.index} ${r.kernel} ${r.shapes} | ${us.map((v) => v.toFixed(1)).join(' | ')} | ${gmacs(r.macs, us.at(-1)!)}${ratio}`,
    );
  }
  const nodes = new Set(rows.map((r) => r.node));
  rowsOf.forEach((rs, b) => {
    for (const r of rs)
      if (!nodes.has(r.node))
        console.log(`${builds[b]!.label} only: ${r.index} ${r.kernel} ${r.shapes} | ${stepUs(b, r.index).toFixed(1)}`);
  });
  // per group the after bundle's MACs and each build's own steps in it
  const groups = new Map<string, { macs: bigint; ids: number[][] }>();
  rowsOf.forEach((rs, b) => {
    for (const r of rs) {
      const g = groups.get(group(r)) ?? { macs: 0n, ids: builds.map(() => []) };
      if (rs === rows) g.macs += r.macs;
      g.ids[b]!.push(r.index);
      groups.set(group(r), g);
    }
  });
  const total = stat([], (b) => rowsOf[b]!.map((r) => r.index));
  console.log(
    `\ngroup | steps | MMAC | ${heads.map((h) => `${h} µs`).join(' | ')} | share | GMAC/s${heads.length > 1 ? ' | after/before' : ''}`,
  );
  const stats = [...groups].map(([g, v]) => ({ g, v, ...stat([], (b) => v.ids[b]!) }));
  for (const { g, v, us, ratio } of stats.sort((a, b) => b.us.at(-1)! - a.us.at(-1)!)) {
    const share = ((100 * us.at(-1)!) / total.us.at(-1)!).toFixed(1);
    console.log(
      `${g} | ${v.ids.at(-1)!.length} | ${(Number(v.macs) / 1e6).toFixed(1)} | ${us.map((u) => u.toFixed(0)).join(' | ')} | ` +
        `${share} % | ${gmacs(v.macs, us.at(-1)!)}${ratio}`,
    );
  }
  console.log(`all steps | ${total.us.map((t) => (t / 1000).toFixed(2)).join(' | ')} ms${total.ratio}`);
}

function threadsReport(): void {
  const splits = rows.map((r) => builds[1]!.ex.edgec_step_stat!(r.index, 2) === 1);
  console.log(
    `${what}, threads build, 1 vs ${T} threads, ${values.rounds} rounds (each step's ${pick}); ` +
      `load average ${load0.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`,
  );
  console.log(
    `step kernel shapes | split | ${builds.map((b) => `${b.label} µs`).join(' | ')} | ×1 thread | main chunks, polls`,
  );
  let serial = 0,
    splitLoss = 0;
  for (const r of rows) {
    const us = builds.map((_, b) => stepUs(b, r.index));
    const split = splits[r.index]!;
    if (split) splitLoss += us[1]! - us[0]! / T;
    else serial += us[0]!;
    if (!values.all && us[0]! < 20 && !split) continue;
    const ratios = us
      .slice(1)
      .map((u) => (u / us[0]!).toFixed(2))
      .join(' ');
    const main = split ? `${median(chunks[r.index]!)}, ${median(polls[r.index]!)}` : '';
    console.log(
      `${r.index} ${r.kernel} ${r.shapes} | ${split ? 'split' : ''} | ${us.map((u) => u.toFixed(1)).join(' | ')} | ` +
        `${ratios} | ${main}`,
    );
  }
  const total = stat(rows.map((r) => r.index));
  console.log(
    `all steps | ${total.us.map((t) => (t / 1000).toFixed(2)).join(' | ')} ms` +
      ` (×${total.us
        .slice(1)
        .map((u) => (u / total.us[0]!).toFixed(3))
        .join(' ×')} of 1 thread)`,
  );
  console.log(
    `steps on one thread only: ${(serial / 1000).toFixed(2)} ms (${((100 * serial) / total.us[0]!).toFixed(1)}% of 1 ` +
      `thread); split steps over the ideal 1/${T}: ${(splitLoss / 1000).toFixed(2)} ms`,
  );
}
