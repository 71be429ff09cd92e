// The bench table measured in headless Chromium (Debian's /usr/bin/chromium via playwright-core, as the browser
// tests launch it): a localhost page served cross-origin isolated (COOP same-origin, COEP require-corp), so the
// threaded builds get SharedArrayBuffer. Runtimes per model (bench/browser-page.ts): edgec simd on 1 and 2
// threads, onnxruntime-web (wasm, 1 thread; float and QDQ u8s8) and tfjs-backend-wasm (1 thread) on the ONNX
// models, TFLite's wasm interpreter (XNNPACK; 1 and 2 threads) on the .tflite ones (edgec there as q8, compiled with
// --io int8 and fed TFLite's own Int8Array, 1 and 2 threads, and as i8, float32 I/O, 1 thread; all through
// Model.runInto into the runner's own output array, as TFLite's runner returns its tensor, plus q8 through run() and
// its fresh array); all interleaved sample by sample in the page after a warm-up until their times settle (samples of
// ≥ 0.5 ms of runs: the isolated page's clock moves in 5 µs steps). Node compiles every bundle; the page only loads
// and runs. Needs `npm run build` (dist/browser).
// npm run bench -- <bench models dir> --browser [--only mobilenet_v2,kws] [--runs N] [--json]
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { parseOnnx } from '../compiler/frontend/onnx/index.ts';
import { compileGraph } from '../compiler/compile.ts';
import type { Graph } from '../compiler/ir/graph.ts';
import { readNpy } from '../compiler/io/npy.ts';
import { compileInt8, maxAbs } from './onnx-models.ts';
import { tfliteCase, tflitePath } from './tflite.ts';
import { requantize, sameBytes } from './interleave.ts';
import { printTables, ratios, RUNTIMES, type ModelRecord } from './table.ts';
import type { ModelSpec, Outputs, Timed } from './browser-page.ts';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = (name: string, sub: string) => join(root, 'node_modules', name, sub);
/** URL prefix → folder served under it. */
const DIRS: Record<string, string> = {
  '/edgec/': join(root, 'dist/browser'),
  '/ort/': pkg('onnxruntime-web', 'dist'),
  '/tfjs/': pkg('@tensorflow/tfjs-backend-wasm', 'dist'),
  '/tflite/': pkg('@tensorflow/tfjs-tflite', 'wasm'),
};
const TYPES: Record<string, string> = { js: 'text/javascript', mjs: 'text/javascript', wasm: 'application/wasm' };
const RUNS: Record<string, number> = { mlp: 300, cnn_small: 100, mobilenet_v2: 12 };
const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

/** The IR graph as JSON plus one binary of its constants (the page rebuilds it for the tfjs peer). */
function graphFiles(g: Graph): [string, Uint8Array] {
  const parts: Uint8Array[] = [];
  let at = 0;
  const tensors = [...g.tensors.values()].map(({ data, ...t }) => {
    if (!data) return t;
    const b = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    parts.push(b);
    at += b.length;
    return { ...t, at: at - b.length, length: b.length };
  });
  const bin = new Uint8Array(at);
  at = 0;
  for (const p of parts) bin.set(p, (at += p.length) - p.length);
  return [
    JSON.stringify({ name: g.name, nodes: g.nodes, inputs: g.inputs, outputs: g.outputs, source: g.source, tensors }),
    bin,
  ];
}

const f32Bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export interface BrowserResult {
  /** HeadlessChrome/<version> */
  chromium: string;
  isolated: boolean;
  /** Per peer ('edgec', 'ort', 'tfjs', 'tflite'): 'ok' or why it did not load. */
  loaded: Record<string, string>;
  records: ModelRecord[];
}

export async function browserBench(dir: string, models: string[], runsOpt?: number): Promise<BrowserResult> {
  if (!existsSync(CHROMIUM))
    throw new Error(`edgec bench --browser: ${CHROMIUM} is missing (apt-get install chromium)`);
  if (!existsSync(join(DIRS['/edgec/']!, 'edgec.js')))
    throw new Error('edgec bench --browser: run `npm run build` first');
  const pageJs = (
    await build({
      entryPoints: [join(root, 'bench/browser-page.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      external: ['/edgec/*', '/ort/*'], // loaded by the page from the server, as a user's page loads them
      logLevel: 'error',
    })
  ).outputFiles[0]!.contents;
  const files = new Map<string, Uint8Array>(); // /m/<name>: the current model's files
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const send = (body: Uint8Array | string, type: string) =>
      res.writeHead(200, { 'content-type': type, ...ISOLATION }).end(body);
    if (path === '/') return send('<!doctype html><title>edgec bench</title>', 'text/html');
    if (path === '/page.js') return send(pageJs, 'text/javascript');
    if (files.has(path)) return send(files.get(path)!, 'application/octet-stream');
    const prefix = Object.keys(DIRS).find((p) => path.startsWith(p));
    const rel = prefix && normalize(path.slice(prefix.length));
    if (!rel || rel.startsWith('..')) return res.writeHead(404, ISOLATION).end();
    try {
      send(await readFile(join(DIRS[prefix]!, rel)), TYPES[rel.split('.').pop()!] ?? 'application/octet-stream');
    } catch {
      res.writeHead(404, ISOLATION).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.addScriptTag({ url: '/page.js', type: 'module' });
    await page.waitForFunction(() => 'bench' in globalThis);
    const env = await page.evaluate(() => (globalThis as any).bench.init());
    if (!env.isolated) throw new Error('edgec bench --browser: the page is not cross-origin isolated');
    const records: ModelRecord[] = [];
    for (const m of models) {
      files.clear();
      const runs = runsOpt ?? RUNS[m] ?? 200;
      const tfl = tflitePath(m);
      let spec: ModelSpec;
      const extra: Pick<ModelRecord, 'maxAbs' | 'sameValues'> = {};
      let check: (o: Outputs) => void;
      if (tfl) {
        const c = await tfliteCase(tfl);
        for (const [k, v] of Object.entries({
          i8: c.bundle,
          q8: c.bundleQ8,
          tflite: c.tflite,
          q: new Uint8Array(c.q.buffer),
          x: f32Bytes(c.x),
        }))
          files.set(`/m/${k}`, v);
        spec = {
          kind: 'tflite',
          i8: '/m/i8',
          q8: '/m/q8',
          tflite: '/m/tflite',
          q: '/m/q',
          x: '/m/x',
          inName: c.inName,
          outName: c.outName,
        };
        check = (o) => {
          const q = (k: string) => requantize(o[k]!, c.outScale, c.outZeroPoint);
          extra.sameValues = {
            edgecQ8x2_vs_edgecQ8: sameBytes(o.edgecQ8x2!, o.edgecQ8!),
            edgecQ8run_vs_edgecQ8: sameBytes(o.edgecQ8run!, o.edgecQ8!),
          };
          if (o.tfliteI8) {
            extra.sameValues.edgecQ8_vs_tfliteI8 = sameBytes(o.edgecQ8!, o.tfliteI8);
            extra.sameValues.edgecI8_vs_tfliteI8 = sameBytes(q('edgecI8'), o.tfliteI8);
            extra.sameValues.tfliteI8x2_vs_tfliteI8 = sameBytes(o.tfliteI8x2!, o.tfliteI8);
          }
        };
      } else {
        const onnx = join(dir, `${m}.onnx`),
          qdq = join(dir, `${m}_qdq_u8s8.onnx`);
        const x = readNpy(readFileSync(join(dir, `${m}.input.npy`)));
        const xf = Float32Array.from(x.data as ArrayLike<number>);
        const ref = Float32Array.from(readNpy(readFileSync(join(dir, `${m}.output.npy`))).data as ArrayLike<number>);
        const { bundle, graph } = compileGraph(parseOnnx(readFileSync(onnx), onnx), { modelName: m });
        const [gJson, gBin] = graphFiles(graph);
        files.set('/m/f32', bundle);
        files.set('/m/i8', await compileInt8(dir, m, graph, xf));
        files.set('/m/onnx', readFileSync(onnx));
        if (existsSync(qdq)) files.set('/m/qdq', readFileSync(qdq));
        files.set('/m/graph', new TextEncoder().encode(gJson));
        files.set('/m/graph.bin', gBin);
        files.set('/m/x', f32Bytes(xf));
        spec = {
          kind: 'onnx',
          f32: '/m/f32',
          i8: '/m/i8',
          onnx: '/m/onnx',
          graph: '/m/graph',
          x: '/m/x',
          shape: x.shape,
        };
        if (existsSync(qdq)) spec.qdq = '/m/qdq';
        check = (o) => {
          extra.maxAbs = Object.fromEntries(
            ['edgecF32', 'ortF32', 'tfjsF32'].map((k) => [k, o[k] ? maxAbs(o[k], ref) : null]),
          );
          if (o.ortU8s8) extra.maxAbs.edgecI8_vs_ortU8s8 = maxAbs(o.edgecI8!, o.ortU8s8);
          extra.sameValues = { edgecI8x2_vs_edgecI8: sameBytes(o.edgecI8x2!, o.edgecI8!) };
        };
      }
      check(await page.evaluate((s) => (globalThis as any).bench.setup(s), spec));
      const { ms, warm }: Timed = await page.evaluate((n) => (globalThis as any).bench.time(n), runs);
      const peers = ['ortF32', 'ortU8s8', 'tfjsF32', 'tfliteI8', 'tfliteI8x2'];
      records.push({
        model: m,
        runs,
        ms,
        ratio: ratios(ms, [
          ['edgecI8x2', 'edgecI8'],
          ['edgecQ8x2', 'edgecQ8'],
          ['edgecQ8', 'tfliteI8'],
          ['edgecQ8run', 'tfliteI8'],
          ['edgecF32', 'ortF32'],
          ['edgecF32', 'tfjsF32'],
          ...peers.filter((p) => p !== 'ortF32').map((p): [string, string] => ['edgecI8', p]),
          ['edgecI8x2', 'tfliteI8x2'],
          ['edgecQ8x2', 'tfliteI8x2'],
        ]),
        ...extra,
        warmUp: warm.map((w) => ({
          keys: w.keys,
          ms: w.ms,
          phases: w.phases.length,
          settled: w.settled,
          first: w.phases[0]!,
          last: w.phases.at(-1)!,
        })),
      });
    }
    if (errors.length) throw new Error(`edgec bench --browser: page errors: ${errors.join('; ')}`);
    return {
      chromium: /HeadlessChrome\/[\d.]+/.exec(env.ua)?.[0] ?? env.ua,
      isolated: env.isolated,
      loaded: env.loaded,
      records,
    };
  } finally {
    await browser.close();
    await new Promise((r) => server.close(r));
  }
}

const fmtMs = (ms: number) => (ms < 0.1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`);

/** The result as text: the Chromium version, peers that did not load, and the two tables. */
export function printBrowser(r: BrowserResult): void {
  console.log(`${r.chromium}, cross-origin isolated, median per-run latency in the page over samples of ≥ 0.5 ms of`);
  console.log(
    'runs, the runtimes interleaved sample by sample (the 1-thread group, then the 2-thread one); ratios a / b',
  );
  console.log('(< 1 = a faster); 2T = 2 threads; q8 = edgec --io int8 fed the Int8Array TFLite gets, i8 = float32 I/O');
  for (const [k, v] of Object.entries(r.loaded)) if (v !== 'ok') console.log(`${k} did not load: ${v}`);
  printTables(r.records);
  // the warm-up per group of runtimes (bench/interleave.ts warmUp): how long until every runtime's time settled, and
  // each one's mean ms per run in the first and the last phase (Liftoff → TurboFan shows as first > last)
  for (const m of r.records)
    for (const w of m.warmUp ?? [])
      console.log(
        `warm-up ${m.model}: ${(w.ms / 1000).toFixed(1)} s, ${w.phases} phases${w.settled ? '' : ' (not settled)'}: ` +
          w.keys.map((k, i) => `${RUNTIMES[k] ?? k} ${fmtMs(w.first[i]!)} → ${fmtMs(w.last[i]!)}`).join(', '),
      );
}
