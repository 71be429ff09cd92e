// bench/gemm-ab.ts's one-node int8 GEMM shapes (the MobileNetV2 small-K 1×1 convs and K = 96 for reference) timed in
// headless Chromium instead of Node: two or more simd builds instantiated in one page, each shape's runs interleaved
// build by build per round, per build the minimum (or --median) over rounds, its ratio to the first build, and
// whether every build gave the same output bytes. Chromium's V8 (Turboshaft, wasm inlining) emits other code than
// Node 20's for the same wasm, and the int8 target is timed in Chromium.
//   node --import tsx bench/gemm-ab-chromium.ts --before DIR [extra.wasm …]   (DIR/edgec-simd.wasm, then build/…)
//   node --import tsx bench/gemm-ab-chromium.ts a.wasm b.wasm [c.wasm …]       [--rounds 25] [--median] [--shapes 0,1]
//     [--zp 3]   (the output zero point; --shapes: indices into the list below)
// Run by hand only; numbers never gate a test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { compileGraph } from '../compiler/compile.ts';
import { wasmPath } from '../runtime/node.ts';
import { denseGraph, randI8 } from './gemm.ts';

const { values, positionals } = parseArgs({
  options: {
    before: { type: 'string' },
    rounds: { type: 'string', default: '25' },
    median: { type: 'boolean', default: false },
    shapes: { type: 'string' },
    zp: { type: 'string', default: '3' },
  },
  allowPositionals: true,
});
const files = values.before ? [join(values.before, 'edgec-simd.wasm'), wasmPath('simd'), ...positionals] : positionals;
if (files.length < 2) throw new Error('bench/gemm-ab-chromium.ts: give --before DIR or at least two .wasm files');
/** [label, M, K, N] */
const ALL: [string, number, number, number][] = [
  ['expand 112² K16', 12544, 16, 96],
  ['expand 56² K24', 3136, 24, 144],
  ['expand 28² K32', 784, 32, 192],
  ['project 112² K32', 12544, 32, 16],
  ['stem GEMM K27', 12544, 27, 32],
  ['expand 14² K96', 196, 96, 576],
];
const SHAPES = values.shapes ? values.shapes.split(',').map((i) => ALL[Number(i)]!) : ALL;
const cases = SHAPES.map(([label, M, K, N]) => {
  const g = denseGraph(M, K, N);
  g.int8Arithmetic = 'onnxruntime';
  // the output zero point (bench/gemm.ts's 3 by default; an even one, e.g. −128 as after a ReLU6, takes EpiFp32L)
  g.tensors.get('y')!.quant!.zeroPoint = [Number(values.zp)];
  return {
    label,
    M,
    K,
    N,
    bundle: Array.from(compileGraph(g, { skipPasses: true }).bundle),
    x: Array.from(randI8(M * K, 3)),
  };
});

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
const page = await browser.newPage();
const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
await page.route('http://localhost:7/**', (route) => {
  const path = new URL(route.request().url()).pathname;
  const m = /^\/b(\d+)\.wasm$/.exec(path);
  if (m) return route.fulfill({ body: readFileSync(files[Number(m[1])]!), contentType: 'application/wasm', headers });
  return route.fulfill({ body: '<!doctype html><title>gemm-ab</title>', contentType: 'text/html', headers });
});
await page.goto('http://localhost:7/');
console.log(files.map((f, i) => `[${i}] ${f}`).join('\n'));
console.log(
  `load average ${loadavg()[0]!.toFixed(2)}; ${values.median ? 'median' : 'minimum'} of ${values.rounds} rounds; ` +
    'µs (GMAC/s) per build in Chromium, ratio to [0]; onnxruntime arithmetic',
);
for (const c of cases) {
  const r = await page.evaluate(
    async ([c, nb, rounds, median]) => {
      const exs: any[] = [];
      const outs: number[][] = [];
      for (let i = 0; i < nb; i++) {
        const mod = await WebAssembly.compile(await (await fetch(`/b${i}.wasm`)).arrayBuffer());
        const ex = (await WebAssembly.instantiate(mod, {})).exports as any;
        const p = ex.edgec_alloc(c.bundle.length);
        new Uint8Array(ex.memory.buffer, p, c.bundle.length).set(c.bundle);
        if (ex.edgec_load(p, c.bundle.length) !== 0) throw new Error('bundle refused');
        new Int8Array(ex.memory.buffer, ex.edgec_input_ptr(0), c.x.length).set(c.x);
        ex.edgec_run();
        outs.push(Array.from(new Uint8Array(ex.memory.buffer, ex.edgec_output_ptr(0), ex.edgec_output_size(0))));
        exs.push(ex);
      }
      const same = outs.every((o) => o.length === outs[0]!.length && o.every((v, i) => v === outs[0]![i]));
      for (const ex of exs) for (const end = performance.now() + 300; performance.now() < end;) ex.edgec_run();
      const reps = Math.max(1, Math.round(4e7 / (c.M * c.K * c.N)));
      const t = exs.map(() => [] as number[]);
      for (let r = 0; r < rounds; r++)
        exs.forEach((ex, b) => {
          const s = performance.now();
          for (let j = 0; j < reps; j++) ex.edgec_run();
          t[b]!.push(((performance.now() - s) * 1000) / reps);
        });
      return { same, us: t.map((x) => x.sort((p, q) => p - q)[median ? x.length >> 1 : 0]!) };
    },
    [c, files.length, Number(values.rounds), values.median] as const,
  );
  const macs = c.M * c.K * c.N;
  console.log(
    `${c.label.padEnd(18)} ${`${c.M}×${c.K}→${c.N}`.padEnd(14)}` +
      r.us.map((us) => `${us.toFixed(1)} (${(macs / us / 1e3).toFixed(1)})`.padEnd(16)).join('') +
      r.us
        .slice(1)
        .map((us) => (us / r.us[0]!).toFixed(3))
        .join(' ') +
      (r.same ? '  same bytes' : '  OUTPUTS DIFFER'),
  );
}
await browser.close();
console.log(`load average ${loadavg()[0]!.toFixed(2)}`);
