// Per-step profile of int8 MobileNetV2 in headless Chromium, the simd and relaxed builds (the engine here with an exact
// relaxed dot; Node 20's fails runtime/index.ts's probe, so bench/profile.ts cannot show the one-dot kernels' time):
// compiles `<model>_qdq_u8s8.onnx` as bench/run.ts does; in one page instantiates build/edgec-simd.wasm,
// build/edgec-relaxed.wasm in the engine's dot mode (relaxedDotMode) and, with `--before DIR`, DIR/edgec-relaxed.wasm
// in that mode too; with `--simd-before DIR`, DIR/edgec-simd.wasm (an A/B of a simd kernel in Chromium's V8, which
// runs the same wasm a few % apart from Node's); `--simd-only` leaves the relaxed builds out. Runs each once (all must
// give the same output bytes), then times every step alone through `edgec_run_step(i)`, the builds interleaved step by
// step, each step's minimum over rounds, the model input copied in again before every timed block (bench/profile.ts's
// `setInput`: later tensors reuse the input's bytes). Prints the time grouped as bench/profile.ts does (stem, expand /
// project 1×1, depthwise s1 / s2, …) per build and the ratios relaxed / simd, relaxed / before, simd / simd-before,
// then whole runs interleaved run by run (median ms, and min / p10 / p90; the ratios the median of per-run ratios).
// `--sequence` adds per group the steps timed inside whole runs (each step's median; what it costs after its
// predecessor rather than after itself). CHROME_FLAGS (environment, space-separated) goes to Chromium's command line,
// e.g. CHROME_FLAGS=--js-flags=--no-wasm-loop-unrolling. Load averages. `--disable K1,K2` (with --simd-before): that
// build runs a bundle compiled with those KernelIds disabled (bench/profile.ts's --disable; e.g. Add_QS8 keeps
// onnxruntime's Adds on Add_QS8_FP32), the steps matched by index; the outputs may then differ (the count is printed).
//   node --import tsx bench/relaxed-profile.ts [--dir /work/shared/models/bench] [--model mobilenet_v2] [--before DIR]
//     [--simd-before DIR] [--disable K1,K2] [--simd-only] [--rounds 10] [--split] [--sequence]   (--split adds the
//     relaxed build forced to its split tiles)
// Run by hand only, like the rest of the bench.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { readNpy } from '../compiler/io/npy.ts';
import { summarizeBundle, type StepRow } from '../compiler/cli/inspect.ts';
import { compileInt8 } from './onnx-models.ts';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/work/shared/models/bench' },
    model: { type: 'string', default: 'mobilenet_v2' },
    before: { type: 'string' },
    'simd-before': { type: 'string' },
    disable: { type: 'string' },
    'simd-only': { type: 'boolean' },
    rounds: { type: 'string', default: '10' },
    split: { type: 'boolean' },
    sequence: { type: 'boolean' },
  },
});

/** The group a step's time is summed under (bench/profile.ts's rule). */
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
const bundle = await compileInt8(dir, name, undefined as never, x);
const disabled = values.disable?.split(',');
if (disabled && !values['simd-before']) throw new Error('relaxed-profile: --disable needs --simd-before');
const bundleBefore = disabled ? await compileInt8(dir, name, undefined as never, x, disabled) : bundle;
const rows = summarizeBundle(bundle).rows;
if (disabled && summarizeBundle(bundleBefore).rows.length !== rows.length)
  throw new Error(`relaxed-profile: --disable ${values.disable} changes the step count`);
// label, wasm file, dot mode ('probe' = relaxedDotMode's, 'split', or none for the simd build)
// (each A/B pair before then after, as bench/profile.ts orders them)
const builds: [string, string, string][] = [];
const sb = values['simd-before'];
if (sb) builds.push(['simd before', join(sb, 'edgec-simd.wasm'), '']);
builds.push(['simd', join(root, 'build/edgec-simd.wasm'), '']);
if (!values['simd-only']) {
  if (values.before) builds.push(['before', join(values.before, 'edgec-relaxed.wasm'), 'probe']);
  builds.push(['relaxed', join(root, 'build/edgec-relaxed.wasm'), 'probe']);
  if (values.split) builds.push(['split', join(root, 'build/edgec-relaxed.wasm'), 'split']);
}
for (const [, f] of builds) if (!existsSync(f)) throw new Error(`relaxed-profile: ${f} is missing`);

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    ...(process.env.CHROME_FLAGS ? process.env.CHROME_FLAGS.split(' ') : []),
  ],
});
const page = await browser.newPage();
const files: Record<string, [Buffer, string]> = {
  '/edgec.js': [readFileSync(join(root, 'dist/browser/edgec.js')), 'text/javascript'],
  '/model.edgec': [Buffer.from(bundle), 'application/octet-stream'],
  '/model-before.edgec': [Buffer.from(bundleBefore), 'application/octet-stream'],
};
builds.forEach(([, f], i) => (files[`/b${i}.wasm`] = [readFileSync(f), 'application/wasm']));
await page.route('http://localhost:7/**', (route) => {
  const path = new URL(route.request().url()).pathname;
  const hit = files[path];
  // cross-origin isolated, so the page clock moves in 5 µs steps, not 100
  const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
  if (path === '/')
    return route.fulfill({ body: '<!doctype html><title>profile</title>', contentType: 'text/html', headers });
  return hit ? route.fulfill({ body: hit[0], contentType: hit[1], headers }) : route.fulfill({ status: 404 });
});
await page.goto('http://localhost:7/');
const load0 = loadavg();
const setup = await page.evaluate(
  async ([modes, xs, labels]) => {
    if (!crossOriginIsolated) throw new Error('relaxed-profile: the page is not cross-origin isolated');
    const api = await import('http://localhost:7/edgec.js' as string);
    const dot = api.relaxedDotMode() as string;
    const after = new Uint8Array(await (await fetch('/model.edgec')).arrayBuffer());
    const before = new Uint8Array(await (await fetch('/model-before.edgec')).arrayBuffer());
    const exs: any[] = [];
    const outs: number[][] = [];
    for (let i = 0; i < modes.length; i++) {
      const bytes = labels[i] === 'simd before' ? before : after;
      const mod = await WebAssembly.compile(await (await fetch(`/b${i}.wasm`)).arrayBuffer());
      const ex = (await WebAssembly.instantiate(mod, {})).exports as any;
      const ptr = ex.edgec_alloc(bytes.length);
      new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
      if (ex.edgec_load(ptr, bytes.length) !== 0) throw new Error(`build ${i}: bundle refused`);
      if (modes[i]) ex.edgec_set_dot_mode(['split', 'usdot', 'sdot'].indexOf(modes[i] === 'probe' ? dot : modes[i]!));
      new Float32Array(ex.memory.buffer, ex.edgec_input_ptr(0), xs.length).set(xs);
      if (ex.edgec_run() !== 0) throw new Error(`build ${i}: run failed`);
      outs.push(Array.from(new Uint8Array(ex.memory.buffer, ex.edgec_output_ptr(0), ex.edgec_output_size(0))));
      exs.push(ex);
    }
    (globalThis as any).prof = exs;
    (globalThis as any).profInput = Float32Array.from(xs);
    const last = outs.at(-1)!;
    const differ = outs.map((o) => (o.length === last.length ? o.filter((v, i) => v !== last[i]).length : -1));
    return { dot, differ, ua: navigator.userAgent };
  },
  [builds.map(([, , m]) => m), Array.from(x), builds.map(([l]) => l)] as const,
);
// the builds on one bundle must agree; the --disable one is compared and its count printed
const differ = setup.differ.map((d, i) => (builds[i]![0] === 'simd before' && disabled ? 0 : d));
if (differ.some((d) => d !== 0)) throw new Error(`relaxed-profile: ${name}: the builds' output bytes differ`);
if (disabled) console.log(`simd before (--disable ${values.disable}): ${setup.differ[0]} output bytes differ`);
// times[build][step] µs: min over rounds
const times = await page.evaluate(
  ([nsteps, rounds]) => {
    const exs = (globalThis as any).prof as any[];
    const xs = (globalThis as any).profInput as Float32Array;
    // the input again (outside every timer): the planner lets later tensors reuse its bytes, and the Quantize step
    // re-run on leftovers divides int8 bytes read as floats (108 µs instead of ~50)
    // (written out each time: a named function in a page.evaluate body gets tsx's __name, which the page lacks)
    for (const ex of exs)
      for (const end = performance.now() + 1000; performance.now() < end;) {
        new Float32Array(ex.memory.buffer, ex.edgec_input_ptr(0), xs.length).set(xs);
        ex.edgec_run();
      }
    const reps: number[] = [];
    for (let i = 0; i < nsteps; i++) {
      new Float32Array(exs[0].memory.buffer, exs[0].edgec_input_ptr(0), xs.length).set(xs);
      const s = performance.now();
      for (let j = 0; j < 3; j++) exs[0].edgec_run_step(i);
      reps.push(Math.max(4, Math.round(2 / Math.max((performance.now() - s) / 3, 1e-3))));
    }
    const t = exs.map(() => new Array(nsteps).fill(Infinity));
    for (let r = 0; r < rounds; r++)
      for (let i = 0; i < nsteps; i++)
        exs.forEach((ex, b) => {
          new Float32Array(ex.memory.buffer, ex.edgec_input_ptr(0), xs.length).set(xs);
          ex.edgec_run_step(i); // untimed: this build's caches after the other's
          const s = performance.now();
          for (let j = 0; j < reps[i]!; j++) ex.edgec_run_step(i);
          t[b]![i] = Math.min(t[b]![i]!, ((performance.now() - s) * 1000) / reps[i]!);
        });
    return t;
  },
  [rows.length, Number(values.rounds)] as const,
);
const whole = await page.evaluate(
  (n) => {
    const exs = (globalThis as any).prof as any[];
    const xs = (globalThis as any).profInput as Float32Array;
    const w = exs.map(() => [] as number[]);
    for (let r = 0; r < n; r++)
      exs.forEach((ex, b) => {
        new Float32Array(ex.memory.buffer, ex.edgec_input_ptr(0), xs.length).set(xs);
        const s = performance.now();
        ex.edgec_run();
        w[b]!.push(performance.now() - s);
      });
    return w;
  },
  20 * Number(values.rounds),
);
// --sequence: every step timed inside whole runs (input copied in, steps 0..n-1 each between two clock reads; the
// page clock's 5 µs steps average out in the median over rounds) — what a step costs after its predecessor rather
// than after itself (weights and inputs from L2/L3 instead of L1)
const seq: number[][] = !values.sequence
  ? []
  : await page.evaluate(
      ([nsteps, n]) => {
        const exs = (globalThis as any).prof as any[];
        const xs = (globalThis as any).profInput as Float32Array;
        const t = exs.map(() => Array.from({ length: nsteps }, () => [] as number[]));
        for (let r = 0; r < n; r++)
          exs.forEach((ex, b) => {
            new Float32Array(ex.memory.buffer, ex.edgec_input_ptr(0), xs.length).set(xs);
            for (let i = 0; i < nsteps; i++) {
              const s = performance.now();
              ex.edgec_run_step(i);
              t[b]![i]!.push((performance.now() - s) * 1000);
            }
          });
        return t.map((b) => b.map((ts) => ts.sort((p, q) => p - q)[ts.length >> 1]!));
      },
      [rows.length, 20 * Number(values.rounds)] as const,
    );
await browser.close();

const heads = builds.map(([n]) => n);
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
const ix = (h: string) => heads.indexOf(h);
// [label, after, before]: the ratio columns this run has
const pairs = (
  [
    ['relaxed / simd', ix('relaxed'), ix('simd')],
    ['relaxed / before', ix('relaxed'), ix('before')],
    ['simd / simd-before', ix('simd'), ix('simd before')],
  ] as [string, number, number][]
).filter(([, a, b]) => a >= 0 && b >= 0);
const ratios = (us: number[]) => pairs.map(([, a, b]) => ` | ${(us[a]! / us[b]!).toFixed(3)}`).join('');
// the share column: of the relaxed build, or (--simd-only) the simd build
const is = ix('relaxed') >= 0 ? ix('relaxed') : ix('simd');
console.log(
  `${name} int8 (u8s8 QDQ), headless ${setup.ua.match(/HeadlessChrome\/[\d.]+/)?.[0] ?? 'Chromium'}, dot '${setup.dot}', ` +
    `1 thread; load average ${load0.map((l) => l.toFixed(2)).join(' ')} → ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
const groups = new Map<string, { macs: bigint; ids: number[] }>();
for (const r of rows) {
  const g = groups.get(group(r)) ?? { macs: 0n, ids: [] };
  g.macs += r.macs;
  g.ids.push(r.index);
  groups.set(group(r), g);
}
const sum = (ids: number[]) => builds.map((_, b) => ids.reduce((a, i) => a + times[b]![i]!, 0));
const seqSum = (ids: number[]) =>
  seq.length ? ` | ${seq.map((b) => ids.reduce((a, i) => a + b[i]!, 0).toFixed(0)).join(' | ')}` : '';
const total = sum(rows.map((r) => r.index));
console.log(
  `group | steps | MMAC | ${heads.map((h) => `${h} µs`).join(' | ')} | ${heads[is]} share` +
    pairs.map(([l]) => ` | ${l}`).join('') +
    (seq.length ? heads.map((h) => ` | ${h} in sequence µs`).join('') : ''),
);
const stats = [...groups].map(([g, v]) => ({ g, v, us: sum(v.ids) }));
for (const { g, v, us } of stats.sort((a, b) => b.us[is]! - a.us[is]!))
  console.log(
    `${g} | ${v.ids.length} | ${(Number(v.macs) / 1e6).toFixed(1)} | ${us.map((u) => u.toFixed(0)).join(' | ')} | ` +
      `${((100 * us[is]!) / total[is]!).toFixed(1)} %${ratios(us)}${seqSum(v.ids)}`,
  );
console.log(
  `all steps | ${total.map((t) => (t / 1000).toFixed(2)).join(' | ')} ms |${ratios(total)}${seqSum(rows.map((r) => r.index))}`,
);
const wholeRatios = pairs
  .map(([, a, b]) => ` | ${median(whole[a]!.map((t, r) => t / whole[b]![r]!)).toFixed(3)}`)
  .join('');
console.log(`whole run (median) | ${whole.map((w) => median(w).toFixed(2)).join(' | ')} ms |${wholeRatios}`);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
console.log(
  `whole run (min / p10 / p90) | ${whole.map((w) => [0, 0.1, 0.9].map((p) => pct(w, p).toFixed(2)).join(' / ')).join(' | ')} ms`,
);
