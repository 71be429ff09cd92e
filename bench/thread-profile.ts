// Where threaded inference's time goes (docs/threads.md), step by step: int8 (or float) MobileNetV2 on the threads
// build with 1 and T threads, each step run alone from the host (edgec_run_steps) and timed, the instances interleaved
// round by round. Per step: kernel, MACs, whether it splits, median µs on 1 and T threads, their ratio, and of a split
// step the chunks the main thread ran and its polls of the done counter after its last chunk (its wait for a worker).
// The totals say how much of one thread's time runs on one thread only and what the split steps lose to the ideal 1/T.
// node --import tsx bench/thread-profile.ts <bench models dir> [--float] [--threads 2] [--runs 40] [--all] [--min]
//   [--variant <threads wasm>]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileGraph } from '../compiler/compile.ts';
import { compileQuantized } from '../compiler/quantize/index.ts';
import { KERNELS } from '../compiler/kernels/registry.ts';
import { readBundleInfo } from '../runtime/bundle-info.ts';
import { wasmModule } from '../runtime/node.ts';
import { startWorker } from '../runtime/node-worker.ts';
import { startThreads, type FromThread, type ThreadPort } from '../runtime/threads.ts';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const dir = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const usage =
  'usage: node --import tsx bench/thread-profile.ts <bench models dir> [--float] [--threads 2] [--runs 40] [--all] [--min] [--variant <threads wasm>]';
if (!dir) throw new Error(usage);
const runs = Number(opt('--runs') ?? 40);
const T = Number(opt('--threads') ?? 2);
const float = args.includes('--float');

let bundle: Uint8Array;
if (float) {
  const fp = join(dir, 'mobilenet_v2.onnx');
  bundle = compileGraph(parseOnnx(readFileSync(fp), fp), { modelName: 'mobilenet_v2' }).bundle;
} else {
  const qdq = join(dir, 'mobilenet_v2_qdq_u8s8.onnx');
  if (!existsSync(qdq)) throw new Error(`bench/thread-profile.ts: ${qdq} is missing`);
  bundle = (await compileQuantized(parseOnnx(readFileSync(qdq), qdq), {}, { modelName: 'mobilenet_v2_int8' })).bundle;
}

interface Ex {
  memory: WebAssembly.Memory;
  edgec_threads_setup(n: number): number;
  edgec_verify_checksum(on: number): void;
  edgec_alloc(n: number): number;
  edgec_load_variant(ptr: number, len: number, k: number): number;
  edgec_input_ptr(i: number): number;
  edgec_input_size(i: number): number;
  edgec_run(): number;
  edgec_run_steps(from: number, to: number): number;
  edgec_step_stat(i: number, what: number): number;
  edgec_threads_quit(): void;
}

function spawn(): ThreadPort {
  const w = startWorker('thread-worker');
  return {
    post: (msg) => w.postMessage(msg),
    onMessage: (f) => w.on('message', (m: FromThread) => f(m)),
    onError: (f) => w.on('error', f),
    terminate: () => void w.terminate(),
  };
}

/** The threads build with n threads (1: no workers, every step on the host's thread), the bundle loaded, input set. */
async function instance(n: number, module = wasmModule('threads')): Promise<{ ex: Ex; close(): void }> {
  let ex: Ex;
  let close = () => {};
  if (n > 1) {
    const pool = await startThreads(module, { count: n, spawn });
    ex = pool.instance.exports as unknown as Ex;
    pool.enter(ex.edgec_threads_setup(n));
    close = pool.close;
  } else {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 16384, shared: true });
    ex = (await WebAssembly.instantiate(module, { env: { memory } })).exports as unknown as Ex;
  }
  ex.edgec_verify_checksum(0);
  const ptr = ex.edgec_alloc(bundle.byteLength);
  new Uint8Array(ex.memory.buffer, ptr, bundle.byteLength).set(bundle);
  if (ex.edgec_load_variant(ptr, bundle.byteLength, 0) !== 0) throw new Error('bench/thread-profile.ts: load failed');
  const x = new Float32Array(ex.memory.buffer, ex.edgec_input_ptr(0), ex.edgec_input_size(0) / 4);
  x.set(x.map((_, i) => Math.sin(i * 0.37)));
  return { ex, close };
}

const one = await instance(1);
const many = await instance(T);
// --variant <wasm>: another threads build (e.g. other split constants) on T threads in the same rounds, per step
const variantPath = opt('--variant');
const variant = variantPath ? await instance(T, new WebAssembly.Module(readFileSync(variantPath))) : undefined;
const steps = readBundleInfo(bundle).steps;
const name = new Map(KERNELS.map((k) => [k.id, k.name]));
const t1: number[][] = Array.from({ length: steps }, () => []);
const tn: number[][] = Array.from({ length: steps }, () => []);
const tv: number[][] = Array.from({ length: steps }, () => []);
const chunks: number[][] = Array.from({ length: steps }, () => []);
const polls: number[][] = Array.from({ length: steps }, () => []);
const whole: number[][] = [[], []];
for (let w = 0; w < 5; w++) (one.ex.edgec_run(), many.ex.edgec_run());
for (let r = 0; r < runs; r++) {
  for (const [k, { ex }] of [one, many, ...(variant ? [variant] : [])].entries()) {
    let t0 = performance.now();
    if (ex.edgec_run() !== 0) throw new Error('bench/thread-profile.ts: run failed');
    if (k < 2) whole[k]!.push(performance.now() - t0);
    for (let i = 0; i < steps; i++) {
      t0 = performance.now();
      if (ex.edgec_run_steps(i, i + 1) !== 0) throw new Error(`bench/thread-profile.ts: step ${i} failed`);
      [t1, tn, tv][k]![i]!.push((performance.now() - t0) * 1000);
      if (k === 1) (chunks[i]!.push(ex.edgec_step_stat(i, 3)), polls[i]!.push(ex.edgec_step_stat(i, 4)));
    }
  }
}
const splits = Array.from({ length: steps }, (_, i) => many.ex.edgec_step_stat(i, 2) === 1);
one.close();
many.close();
variant?.close();

// --min: each step's fastest round instead of its median (on a loaded machine, the rounds where both threads had a core)
const median = (v: number[]) => [...v].sort((a, b) => a - b)[args.includes('--min') ? 0 : v.length >> 1]!;
let sum1 = 0,
  sumN = 0,
  sumV = 0,
  serial1 = 0,
  splitLoss = 0;
const rows: string[] = [];
for (let i = 0; i < steps; i++) {
  const a = median(t1[i]!),
    b = median(tn[i]!);
  const split = splits[i]!;
  sum1 += a;
  sumN += b;
  const c = variant ? median(tv[i]!) : 0;
  sumV += c;
  if (!split) serial1 += a;
  else splitLoss += b - a / T;
  if (!args.includes('--all') && a < 20 && !split) continue;
  const extra =
    (variant ? `  variant ${c.toFixed(1).padStart(7)} µs ×${(c / a).toFixed(2)}` : '') +
    (split ? `  main ran ${median(chunks[i]!)} chunks, polled ${median(polls[i]!)}` : '');
  rows.push(
    `${String(i).padStart(3)} ${(name.get(one.ex.edgec_step_stat(i, 0)) ?? '?').padEnd(22)} ` +
      `${(one.ex.edgec_step_stat(i, 1) / 1e6).toFixed(2).padStart(6)} MMAC ${split ? 'split' : '     '} ` +
      `${a.toFixed(1).padStart(7)} µs ${b.toFixed(1).padStart(7)} µs ×${(b / a).toFixed(2)}${extra}`,
  );
}
console.log(`${float ? 'float' : 'int8'} MobileNetV2, ${steps} steps, 1 vs ${T} threads, ${runs} interleaved rounds`);
console.log(rows.join('\n'));
console.log(
  `whole run: ${median(whole[0]!).toFixed(2)} ms vs ${median(whole[1]!).toFixed(2)} ms ` +
    `(median round ratio ×${median(whole[1]!.map((t, r) => t / whole[0]![r]!)).toFixed(3)}); sum of step medians ${(sum1 / 1000).toFixed(2)} vs ` +
    `${(sumN / 1000).toFixed(2)} ms`,
);
if (variant)
  console.log(`variant: sum of step medians ${(sumV / 1000).toFixed(2)} ms (×${(sumV / sum1).toFixed(3)} of 1 thread)`);
console.log(
  `steps on one thread only: ${(serial1 / 1000).toFixed(2)} ms (${((100 * serial1) / sum1).toFixed(1)}% of 1 thread); ` +
    `split steps over the ideal 1/${T}: ${(splitLoss / 1000).toFixed(2)} ms`,
);
