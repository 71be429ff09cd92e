// edgec int8 against TFLite's own interpreter in wasm (@tensorflow/tfjs-tflite: TFLite + XNNPACK, one thread,
// test/tflite-oracle.ts) on the same full-integer .tflite models and the same int8 input, in one process with
// the two runtimes interleaved run by run: median latency, ratio edgec / TFLite (< 1 = edgec faster) and the
// share of identical output bytes. Models: the MLPerf Tiny fixtures (test/fixtures/tflite) plus any .tflite
// given. Run by hand (`node --import tsx bench/tflite.ts [more.tflite …] [--runs N]`) or from `npm run bench`.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseTflite } from '../compiler/frontend/tflite/index.ts';
import { compileQuantized } from '../compiler/quantize/index.ts';
import { load } from '../runtime/node.ts';
import { tfliteRunner } from '../test/tflite-oracle.ts';

const FIXTURES = ['kws_ref_model.tflite', 'ad01_int8.tflite', 'pretrainedResnet_quant.tflite'].map((f) =>
  join(import.meta.dirname, '..', 'test', 'fixtures', 'tflite', f),
);

export async function tfliteBench(extra: string[] = [], runs = 200): Promise<void> {
  const rows: string[][] = [];
  for (const file of [...FIXTURES, ...extra]) {
    const bytes = new Uint8Array(readFileSync(file));
    const g = parseTflite(bytes, file);
    const { bundle } = await compileQuantized(g, {});
    const model = await load(bundle, { build: 'simd' });
    const oracle = await tfliteRunner(bytes);
    const iq = g.tensors.get(g.inputs[0]!)!.quant!,
      oq = g.tensors.get(g.outputs[0]!)!.quant!;
    const len = oracle.inputs[0]!.data().length;
    let s = 99;
    const q = Int8Array.from({ length: len }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24) - 128);
    const x = Float32Array.from(q, (v) => (v - iq.zeroPoint[0]!) * iq.scale[0]!);
    const feed = { [g.inputs[0]!]: x };
    const fns = [() => model.run(feed), () => oracle.run([q])];
    const times: number[][] = [[], []];
    for (let i = 0; i < 3; i++) for (const fn of fns) fn();
    for (let i = 0; i < runs; i++)
      fns.forEach((fn, j) => {
        fn(); // untimed: the other runtime just ran, warm this one's caches again
        const t0 = performance.now();
        fn();
        times[j]!.push(performance.now() - t0);
      });
    const [te, tt] = times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]!) as [number, number];
    const y = model.run(feed)[g.outputs[0]!] as Float32Array;
    const t = oracle.run([q])[0]!;
    let same = 0;
    y.forEach((v, i) => {
      const r = v / oq.scale[0]!;
      if ((r < 0 ? -Math.round(-r) : Math.round(r)) + oq.zeroPoint[0]! === t[i]) same++;
    });
    rows.push([basename(file), te.toFixed(3), tt.toFixed(3), (te / tt).toFixed(2), `${same}/${y.length}`]);
  }
  const head = ['model', 'edgec i8 ms', 'tflite-wasm ms', 'edgec/tflite', 'same bytes'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(
    'int8 .tflite: edgec (simd) vs TFLite wasm (XNNPACK), one thread, median latency, interleaved run by run',
  );
  console.log(fmt(head));
  for (const r of rows) console.log(fmt(r));
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const args = process.argv.slice(2);
  const ri = args.indexOf('--runs');
  const runs = ri >= 0 ? Number(args.splice(ri, 2)[1]) : 200;
  await tfliteBench(args, runs);
}
