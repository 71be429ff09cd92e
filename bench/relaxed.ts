// The relaxed-SIMD build against the plain SIMD one in headless Chromium (Debian's /usr/bin/chromium, where relaxed
// SIMD is on; Node 20's engine fails the probe, runtime/index.ts relaxedSupported): each model's int8 bundle (the u8s8
// QDQ model's own scales, as bench/run.ts) runs on both builds through the browser entry (dist/browser/edgec.js;
// `npm run build` first), the builds interleaved round by round; a third column runs the relaxed build forced to its
// split int8 GEMM tile (relaxedDot 'split': what engines without an exact full-range dot run), and 'dot' is
// relaxedDotMode's class of this engine. Two measures per configuration: the median wall time of one
// run, and the renderer process's CPU time per run from /proc (Linux; 10 ms ticks over a batch of runs), which the
// shared machine's load distorts less. Prints a table, or with --json one JSON document.
// npm run bench -- <bench models dir> --relaxed [--only mobilenet_v2] [--runs N] [--json]
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileQuantized } from '../compiler/quantize/index.ts';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('..', import.meta.url));
const BUILDS = ['simd', 'relaxed'] as const;
/** The configurations timed: label, then load options. */
const CONFIGS = [
  ['simd', { build: 'simd' }],
  ['relaxed', { build: 'relaxed' }],
  ['split', { build: 'relaxed', relaxedDot: 'split' }],
] as const;

/** utime + stime (ms) of the Chromium renderer processes below the browser started with `marker`. */
function rendererCpu(marker: string): () => number {
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const cmd = (d: string) => {
    try {
      return readFileSync(`/proc/${d}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  };
  const stat = (d: string) => readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const browser = procs.find((d) => cmd(d).includes(marker) && !cmd(d).includes('--type='));
  const below = (d: string) => {
    for (let p = Number(d); p > 1; p = Number(stat(String(p))[1])) if (String(p) === browser) return true;
    return false;
  };
  const renderers = procs.filter((d) => cmd(d).includes('--type=renderer') && below(d));
  return () =>
    renderers.reduce((s, d) => {
      const f = stat(d);
      return s + (Number(f[11]) + Number(f[12])) * 10;
    }, 0);
}

export async function relaxedBench(dir: string, models: string[], runs: number, json: boolean): Promise<void> {
  if (!existsSync(CHROMIUM))
    throw new Error(`edgec bench --relaxed: ${CHROMIUM} is missing (apt-get install chromium)`);
  const marker = `--edgec-bench=${process.pid}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', marker],
  });
  const page = await browser.newPage();
  const files: Record<string, [Buffer, string]> = {};
  for (const f of ['edgec.js', ...BUILDS.map((b) => `edgec-${b}.wasm`)])
    files[`/edgec/${f}`] = [
      readFileSync(join(root, 'dist/browser', f)),
      f.endsWith('.js') ? 'text/javascript' : 'application/wasm',
    ];
  await page.route('http://bench.test/**', (route) => {
    const path = new URL(route.request().url()).pathname;
    const hit = files[path];
    if (path === '/')
      return route.fulfill({ body: '<!doctype html><title>edgec bench</title>', contentType: 'text/html' });
    return hit ? route.fulfill({ body: hit[0], contentType: hit[1] }) : route.fulfill({ status: 404 });
  });
  await page.goto('http://bench.test/');
  const cpu = rendererCpu(marker);
  const ua = await page.evaluate(() => navigator.userAgent);
  const results: Record<string, unknown>[] = [];
  for (const m of models) {
    const qdq = join(dir, `${m}_qdq_u8s8.onnx`);
    if (!existsSync(qdq)) throw new Error(`edgec bench --relaxed: ${qdq} is missing`);
    const q = await compileQuantized(parseOnnx(readFileSync(qdq), qdq), {}, { modelName: `${m}_int8` });
    files['/model.edgec'] = [Buffer.from(q.bundle), 'application/octet-stream'];
    const picked = await page.evaluate(
      async (configs) => {
        const api = await import('http://bench.test/edgec/edgec.js' as string);
        const bytes = new Uint8Array(await (await fetch('/model.edgec')).arrayBuffer());
        const ms = [];
        for (const [, opts] of configs) ms.push(await api.load(bytes, opts));
        const inp = ms[0].info.inputs[0];
        const x = new Float32Array(inp.shape.reduce((a: number, b: number) => a * b, 1)).map((_, i) =>
          Math.sin(i * 0.37),
        );
        const outs = ms.map(
          (mm: any) => new Uint8Array((Object.values(mm.run({ [inp.name]: x }))[0] as Float32Array).buffer),
        );
        const same = outs.every((o: Uint8Array) => o.length === outs[0].length && o.every((v, i) => v === outs[0][i]));
        (globalThis as any).bench = { ms, x, inp };
        return { auto: api.pickBuild('auto'), dot: api.relaxedDotMode(), same };
      },
      CONFIGS as unknown as [string, Record<string, string>][],
    );
    if (!picked.same) throw new Error(`edgec bench --relaxed: ${m}: the builds' outputs differ`);
    const wall: number[][] = CONFIGS.map(() => []),
      cpuPerRun: number[][] = CONFIGS.map(() => []);
    const batch = 20;
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < CONFIGS.length; i++) {
        const c0 = cpu();
        const t = await page.evaluate(
          ([i, n]) => {
            const { ms, x, inp } = (globalThis as any).bench;
            const times = [];
            for (let k = 0; k < n; k++) {
              const s = performance.now();
              ms[i].run({ [inp.name]: x });
              times.push(performance.now() - s);
            }
            return times;
          },
          [i, batch] as const,
        );
        cpuPerRun[i]!.push((cpu() - c0) / batch);
        if (r > 0) wall[i]!.push(...t.slice(1));
      }
    }
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
    const w = wall.map(med),
      c = cpuPerRun.slice(0).map((a) => med(a.slice(1)));
    results.push({
      model: m,
      auto: picked.auto,
      dot: picked.dot,
      wallMs: Object.fromEntries(CONFIGS.map(([b], i) => [b, w[i]])),
      cpuMs: Object.fromEntries(CONFIGS.map(([b], i) => [b, c[i]])),
      relaxedOverSimd: { wall: w[1]! / w[0]!, cpu: c[1]! / c[0]! },
      splitOverSimd: { wall: w[2]! / w[0]!, cpu: c[2]! / c[0]! },
      bytesIdentical: picked.same,
    });
  }
  await browser.close();
  if (json) {
    process.stdout.write(
      JSON.stringify(
        { schema: 'edgec-bench-relaxed/1', date: new Date().toISOString(), chromium: ua, results },
        null,
        2,
      ) + '\n',
    );
    return;
  }
  console.log(
    `relaxed-SIMD vs SIMD build, int8, headless ${ua.match(/HeadlessChrome\/[\d.]+/)?.[0] ?? 'Chromium'}, 1 thread; target (mobilenet_v2) relaxed/simd ≤ 0.6`,
  );
  console.log(
    'model'.padEnd(14) +
      'auto'.padEnd(9) +
      'dot'.padEnd(7) +
      'simd ms'.padStart(9) +
      'relaxed ms'.padStart(12) +
      'ratio'.padStart(7) +
      'split ms'.padStart(10) +
      'ratio'.padStart(7) +
      'simd cpu'.padStart(10) +
      'relaxed cpu'.padStart(13) +
      'ratio'.padStart(7) +
      'split cpu'.padStart(11) +
      'ratio'.padStart(7),
  );
  for (const r of results as any[])
    console.log(
      String(r.model).padEnd(14) +
        String(r.auto).padEnd(9) +
        String(r.dot).padEnd(7) +
        r.wallMs.simd.toFixed(2).padStart(9) +
        r.wallMs.relaxed.toFixed(2).padStart(12) +
        r.relaxedOverSimd.wall.toFixed(2).padStart(7) +
        r.wallMs.split.toFixed(2).padStart(10) +
        r.splitOverSimd.wall.toFixed(2).padStart(7) +
        r.cpuMs.simd.toFixed(1).padStart(10) +
        r.cpuMs.relaxed.toFixed(1).padStart(13) +
        r.relaxedOverSimd.cpu.toFixed(2).padStart(7) +
        r.cpuMs.split.toFixed(1).padStart(11) +
        r.splitOverSimd.cpu.toFixed(2).padStart(7),
    );
}
