// The relaxed build's one-dot int8 GEMM tile (assembly/kernels/gemm/qs8-gemm-4x8c4-wasmrelaxed.ts) in headless
// Chromium, the engine here with relaxed SIMD: how runtime/index.ts relaxedDotMode classifies the engine's dot, then
// Dense_QS8 at the extremes (−128 and 127 activations, −128/−127/127 weights: u = x ^ 0x80 = 255 and 0, the 128·Σw
// correction at its largest), K around the 4-k quad and the 16-k transpose, M around the 4-row group, N in whole and
// partial 8-column blocks, on the relaxed build in its mode, forced to the split tile (relaxedDot 'split') and on its
// reference twins, byte for byte against the TS integer reference; Dense_QS8_FP32 at the fp32 requantisation's edges
// the same way; and int8 MobileNetV2 (when the bench models are here) relaxed = relaxed split = Node simd. Pages load dist/browser/edgec.js (`npm run build` first).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { compileGraph } from '../../compiler/compile.ts';
import { evaluate } from '../../compiler/ir/reference.ts';
import { parseOnnx } from '../../compiler/frontend/onnx/index.ts';
import { compileQuantized } from '../../compiler/quantize/index.ts';
import { load } from '../../runtime/node.ts';
import { ZPS, pick, q, qs8Tools, fp32EdgeBiases } from '../assembly/qs8-harness.ts';
import { skipSuite } from '../skip-suite.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('../..', import.meta.url));
const MOBILENET = '/work/shared/models/bench/mobilenet_v2_qdq_u8s8.onnx';
const bytesOf = (a: ArrayBufferView) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

/** Runs each case's bundle on the relaxed build in the page: [mode, split, reference] output bytes per case. */
async function runRelaxed(page: Page, cases: { bundle: number[]; input: number[] }[]): Promise<number[][][]> {
  return page.evaluate(async (cs) => {
    const api = await import('http://relaxed.test/edgec/edgec.js' as string);
    const out = [];
    for (const c of cs) {
      const bundle = Uint8Array.from(c.bundle);
      const runs = [];
      for (const opts of [{}, { relaxedDot: 'split' }, { reference: true }]) {
        const m = await api.load(bundle, { build: 'relaxed', ...opts });
        const inp = m.info.inputs[0];
        const feeds = { [inp.name]: new Int8Array(Int8Array.from(c.input).buffer) };
        const y = Object.values(m.run(feeds))[0] as Int8Array;
        runs.push(Array.from(new Uint8Array(y.buffer, y.byteOffset, y.byteLength)));
      }
      out.push(runs);
    }
    return out;
  }, cases);
}

/** Every case's bytes in the relaxed build's three modes (probed, split, reference) = the TS reference's `want`. */
async function expectRelaxed(
  page: Page,
  cases: { bundle: number[]; input: number[]; want: number[]; label: string }[],
): Promise<void> {
  const got = await runRelaxed(page, cases);
  cases.forEach((c, j) => {
    const [mode, split, ref] = got[j]!;
    assert.equal(ref, c.want, `${c.label}: relaxed reference ≠ TS reference`);
    assert.equal(split, c.want, `${c.label}: relaxed split ≠ TS reference`);
    assert.equal(mode, c.want, `${c.label}: relaxed (probed mode) ≠ TS reference`);
  });
}

if (!existsSync(CHROMIUM)) {
  skipSuite('browser/relaxed-dot', `${CHROMIUM}: apt-get install chromium`);
  test.run();
} else {
  let browser: Browser, page: Page;
  const files: Record<string, [Buffer, string]> = {};

  test.before(async () => {
    for (const f of ['edgec.js', 'edgec-relaxed.wasm'])
      files[`/edgec/${f}`] = [
        readFileSync(join(root, 'dist/browser', f)),
        f.endsWith('.js') ? 'text/javascript' : 'application/wasm',
      ];
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    page = await browser.newPage();
    await page.route('http://relaxed.test/**', (route) => {
      const path = new URL(route.request().url()).pathname;
      const hit = files[path];
      if (path === '/')
        return route.fulfill({ body: '<!doctype html><title>relaxed dot</title>', contentType: 'text/html' });
      return hit ? route.fulfill({ body: hit[0], contentType: hit[1] }) : route.fulfill({ status: 404 });
    });
    await page.goto('http://relaxed.test/');
  });
  test.after(async () => {
    await browser?.close();
  });

  test('Chromium: relaxedDotMode classifies the engine (usdot, sdot or split) and the relaxed build loads', async () => {
    const r = await page.evaluate(async () => {
      const api = await import('http://relaxed.test/edgec/edgec.js' as string);
      return { mode: api.relaxedDotMode(), relaxed: api.relaxedSupported() };
    });
    assert.ok(r.relaxed, 'Chromium here runs relaxed SIMD and passes relaxedSupported');
    assert.ok(['usdot', 'sdot', 'split'].includes(r.mode), String(r.mode));
    console.log(`relaxed-dot: Chromium's relaxed dot product classifies as '${r.mode}'`);
  });

  test('Dense_QS8 at the extremes, K around 4 and 16, M around 4: relaxed (its mode) = split = reference = TS', async () => {
    const { randInt, QGraph } = qs8Tools(20261204);
    const cases: { bundle: number[]; input: number[]; want: number[]; label: string }[] = [];
    let i = 0;
    for (const K of [1, 3, 4, 5, 15, 16, 17, 31, 33, 64, 129])
      for (const M of [1, 2, 3, 4, 5, 6, 7, 8, 9, 13])
        for (const N of [8, 17, 24]) {
          const pattern = i % 5;
          const ext = () => (randInt(0, 1) ? 127 : -128);
          // 0: x −128, w −128; 1: x 127, w −128; 2: x −128, w 127; 3: extremes at random; 4: random full range
          const xv = () => (pattern === 3 ? ext() : pattern === 4 ? randInt(-128, 127) : pattern === 1 ? 127 : -128);
          const wv = () =>
            pattern === 3
              ? pick([-128, -127, 127], randInt(0, 2))
              : pattern === 4
                ? randInt(-128, 127)
                : pattern === 2
                  ? 127
                  : -128;
          const qg = new QGraph();
          const x = qg.input('x', [M, K], q(0.01, pick(ZPS, i)));
          const w = qg.weights('w', [N, K], new Array(N).fill(0.01 / K));
          qg.g.tensors.get(w)!.data = Int8Array.from({ length: N * K }, wv);
          // every other case a ReLU: [q_min, q_max] narrower than int8 for most zero points (the epilogue's clamp)
          const act: Record<string, string> = i % 2 ? { activation: 'relu' } : {};
          const g = qg.node('Dense', [x, w, qg.bias('b', N, 1000)], act, q(0.02, pick(ZPS, i + 1)));
          const input = Int8Array.from({ length: M * K }, xv);
          const want = evaluate(g, { x: input }).y!;
          cases.push({
            bundle: Array.from(compileGraph(g, { skipPasses: true }).bundle),
            input: Array.from(input),
            want: bytesOf(Int8Array.from(want as ArrayLike<number>)),
            label: `dense M${M} K${K} N${N} pattern ${pattern}`,
          });
          i++;
        }
    await expectRelaxed(page, cases);
  });

  test('Dense_QS8_FP32 at the fp32 requantisation edges, M around 4: relaxed (its mode) = split = reference = TS', async () => {
    // acc = bias on rows at the input zero point: t = f32(acc)·sW at ties, around 2^22, huge (qs8-harness.ts); clamps
    // inside int8 at every zero point. M picks the tiles: 4×8c4 (+ 1×16c4 for M mod 4 = 1), split 2×8c4 (+ 1×16c2)
    const { randI8, QGraph } = qs8Tools(20261206);
    const cases: { bundle: number[]; input: number[]; want: number[]; label: string }[] = [];
    const ACTS: Attrs[] = [{}, { activation: 'relu' }, { activation: 'clip', clip: [-20, 10] }];
    let i = 0;
    for (const M of [1, 2, 3, 4, 5, 7, 9])
      for (const sW of [0.5, 2 ** -10, 0.75]) {
        const qg = new QGraph();
        qg.g.int8Arithmetic = 'tflite';
        const zpIn = pick(ZPS, i),
          N = 61 + (i % 9),
          K = 15 + (i % 4);
        const x = qg.input('x', [M, K], q(1, zpIn));
        const w = qg.weights('w', [N, K], new Array(N).fill(sW));
        qg.g.tensors.set('b', { name: 'b', dtype: 'int32', shape: [N], data: fp32EdgeBiases(N, sW, 8 * i) });
        const g = qg.node('Dense', [x, w, 'b'], pick(ACTS, i), q(1, pick(ZPS, i + 1)));
        const input = randI8(M * K);
        for (let m = 0; m < M; m += 2) input.fill(zpIn, m * K, (m + 1) * K);
        const want = evaluate(g, { x: input }).y!;
        cases.push({
          bundle: Array.from(compileGraph(g, { skipPasses: true }).bundle),
          input: Array.from(input),
          want: bytesOf(Int8Array.from(want as ArrayLike<number>)),
          label: `dense fp32 M${M} K${K} N${N} sW ${sW} zp ${zpIn}`,
        });
        i++;
      }
    await expectRelaxed(page, cases);
  });

  test('int8 MobileNetV2: Chromium relaxed (its mode) = relaxed split = Node simd, byte for byte', async () => {
    if (!existsSync(MOBILENET)) {
      console.log(`relaxed-dot: ${MOBILENET} missing, MobileNetV2 case skipped`);
      return;
    }
    const { bundle } = await compileQuantized(parseOnnx(readFileSync(MOBILENET), MOBILENET), {}, {});
    const m = await load(bundle, { build: 'simd' });
    const inp = m.info.inputs[0]!;
    const x = new Float32Array(inp.shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i * 0.37));
    const want = bytesOf(Object.values(m.run({ [inp.name]: x }))[0]!);
    const got = await page.evaluate(
      async ([b, xs]) => {
        const api = await import('http://relaxed.test/edgec/edgec.js' as string);
        const out = [];
        for (const opts of [{}, { relaxedDot: 'split' }]) {
          const mm = await api.load(Uint8Array.from(b), { build: 'relaxed', ...opts });
          const name = mm.info.inputs[0].name;
          const y = Object.values(mm.run({ [name]: Float32Array.from(xs) }))[0] as Float32Array;
          out.push(Array.from(new Uint8Array(y.buffer, y.byteOffset, y.byteLength)));
        }
        return out;
      },
      [Array.from(bundle), Array.from(x)] as const,
    );
    assert.equal(got[0], want, 'relaxed (probed mode) ≠ Node simd');
    assert.equal(got[1], want, 'relaxed split ≠ Node simd');
  });

  test.run();
}
