// Threaded inference against one thread (docs/threads.md): int8 MobileNetV2 (the u8s8 QDQ model's own scales, as
// bench/run.ts) and float MobileNetV2 on 1, 2 and 3 threads in Node, every output checked byte-identical to one thread, the thread counts
// interleaved round by round (a shared, noisy machine: each round times every count back to back) and reported as the
// median of the per-round ratios to one thread. Prints a table, or with --json one JSON document.
// node --import tsx bench/threads.ts <bench models dir> [--runs N] [--threads 2,3] [--json]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileGraph } from '../compiler/compile.ts';
import { compileQuantized } from '../compiler/quantize/index.ts';
import { load, type Model } from '../runtime/node.ts';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const dir = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
if (!dir)
  throw new Error('usage: node --import tsx bench/threads.ts <bench models dir> [--runs N] [--threads 2,3] [--json]');
const runs = Number(opt('--runs') ?? 30);
const counts = [1, ...(opt('--threads') ?? '2,3').split(',').map(Number)];
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
      throw new Error(`bench/threads.ts: ${counts[k]} threads gave other bytes than 1 thread`);
    for (let i = 0; i < 3; i++) m.run(feed);
  }
  const ms: number[][] = counts.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (const [k, m] of models.entries()) {
      const t0 = performance.now();
      m.run(feed);
      ms[k]!.push(performance.now() - t0);
    }
  }
  for (const m of models) m.close();
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
  const rows = counts.map((threads, k) => ({
    threads,
    actual: models[k]!.info.threads,
    medianMs: median(ms[k]!),
    ratio: median(ms[k]!.map((t, r) => t / ms[0]![r]!)),
  }));
  if (!args.includes('--json')) {
    console.log(`${model}, ${runs} interleaved rounds, bytes identical to 1 thread`);
    for (const r of rows)
      console.log(
        `${String(r.threads).padStart(2)} thread(s) (ran ${r.actual}): ${r.medianMs.toFixed(2)} ms  ×${r.ratio.toFixed(3)} of 1 thread`,
      );
  }
  return { model, runs, rows };
}
