// Threaded inference against one thread (docs/threads.md): int8 MobileNetV2 (the u8s8 QDQ model's own scales, as
// bench/run.ts) and float MobileNetV2 on 1, 2 and 3 threads in Node, every output checked byte-identical to one thread, the thread counts
// interleaved round by round (a shared, noisy machine: each round times every count back to back) and reported as the
// median of the per-round ratios to one thread. Prints a table, or with --json one JSON document. With --base <dir>
// (a copy of an older build/: edgec-simd.wasm and edgec-threads.wasm) every count also runs on those builds, in the
// same rounds, each build's ratios to its own one thread and new/base per count (before → after in one run).
// node --import tsx bench/threads.ts <bench models dir> [--runs N] [--threads 2,3] [--base <dir>] [--json]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileGraph } from '../compiler/compile.ts';
import { compileQuantized } from '../compiler/quantize/index.ts';
import { load, type Model } from '../runtime/node.ts';
import { load as loadWasm } from '../runtime/index.ts';
import { startWorker } from '../runtime/node-worker.ts';
import type { FromThread, ThreadPort } from '../runtime/threads.ts';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const dir = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
if (!dir)
  throw new Error(
    'usage: node --import tsx bench/threads.ts <bench models dir> [--runs N] [--threads 2,3] [--base <dir>] [--json]',
  );
const runs = Number(opt('--runs') ?? 30);
const counts = [1, ...(opt('--threads') ?? '2,3').split(',').map(Number)];
const baseDir = opt('--base');
const baseWasm = (f: string) => new WebAssembly.Module(readFileSync(join(baseDir!, f)));
const base = baseDir ? { simd: baseWasm('edgec-simd.wasm'), threads: baseWasm('edgec-threads.wasm') } : undefined;
function spawn(): ThreadPort {
  const w = startWorker('thread-worker');
  return {
    post: (msg) => w.postMessage(msg),
    onMessage: (f) => w.on('message', (m: FromThread) => f(m)),
    onError: (f) => w.on('error', f),
    terminate: () => void w.terminate(),
  };
}
/** The same model on the base builds (the simd one for 1 thread, as load() picks in Node). */
const loadBase = (bundle: Uint8Array, n: number) =>
  n > 1
    ? loadWasm(bundle, { wasm: base!.threads, threads: { count: n, spawn } })
    : loadWasm(bundle, { wasm: base!.simd });
const qdq = join(dir, 'mobilenet_v2_qdq_u8s8.onnx');
if (!existsSync(qdq)) throw new Error(`bench/threads.ts: ${qdq} is missing`);
const q = await compileQuantized(parseOnnx(readFileSync(qdq), qdq), {}, { modelName: 'mobilenet_v2_int8' });
const fp = join(dir, 'mobilenet_v2.onnx');
const f = compileGraph(parseOnnx(readFileSync(fp), fp), { modelName: 'mobilenet_v2' });
const results = [await bench('mobilenet_v2 int8', q.bundle), await bench('mobilenet_v2 f32', f.bundle)];
if (args.includes('--json')) console.log(JSON.stringify(results, null, 2));

async function bench(model: string, bundle: Uint8Array) {
  const models: Model[] = [];
  for (const threads of counts) models.push(await load(bundle, { threads }));
  // the base builds' models follow the new ones: index counts.length + k runs counts[k] threads
  if (base) for (const threads of counts) models.push(await loadBase(bundle, threads));
  const inp = models[0]!.info.inputs[0]!;
  const x = new Float32Array(inp.shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i * 0.37));
  const feed = { [inp.name]: x };
  const bytes = (m: Model) => {
    const o = Object.values(m.run(feed))[0]!;
    return Buffer.from(o.buffer, o.byteOffset, o.byteLength);
  };
  const want = bytes(models[0]!);
  for (const [k, m] of models.entries()) {
    if (!bytes(m).equals(want))
      throw new Error(`bench/threads.ts: ${counts[k % counts.length]} threads gave other bytes than 1 thread`);
    for (let i = 0; i < 3; i++) m.run(feed);
  }
  const ms: number[][] = models.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (const [k, m] of models.entries()) {
      const t0 = performance.now();
      m.run(feed);
      ms[k]!.push(performance.now() - t0);
    }
  }
  for (const m of models) m.close();
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
  const n = counts.length;
  const row = (k: number, one: number) => ({
    threads: counts[k % n]!,
    actual: models[k]!.info.threads,
    medianMs: median(ms[k]!),
    minMs: Math.min(...ms[k]!),
    ratio: median(ms[k]!.map((t, r) => t / ms[one]![r]!)),
  });
  const rows = counts.map((_, k) => row(k, 0));
  const baseRows = base
    ? counts.map((_, k) => ({ ...row(n + k, n), newOverBase: median(ms[k]!.map((t, r) => t / ms[n + k]![r]!)) }))
    : [];
  const loadAvg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  if (!args.includes('--json')) {
    console.log(`${model}, ${runs} interleaved rounds, bytes identical to 1 thread, load average ${loadAvg}`);
    for (const [k, r] of rows.entries()) {
      const b = baseRows[k];
      console.log(
        `${String(r.threads).padStart(2)} thread(s) (ran ${r.actual}): ${r.medianMs.toFixed(2)} ms (min ${r.minMs.toFixed(2)}) ` +
          `×${r.ratio.toFixed(3)} of 1 thread` +
          (b
            ? `  | base ${b.medianMs.toFixed(2)} ms (min ${b.minMs.toFixed(2)}) ×${b.ratio.toFixed(3)}  new/base ×${b.newOverBase.toFixed(3)}`
            : ''),
      );
    }
  }
  return { model, runs, loadAvg, rows, baseRows };
}
