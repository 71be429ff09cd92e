// The relaxed build's depthwise 3×3 (assembly/kernels/conv/qs8-dwconv2d-3x3-wasmrelaxed.ts) in headless Chromium, the
// engine here whose relaxed dot is exact (relaxedDotMode 'usdot' on this CPU; Node 20's fails the probe, so Node never
// runs it): depthwise convs around its tiles — channels around the 8-channel group and the 16-channel window block
// (multiples of 8 take it, the others the simd kernel), widths around the 4-column block, 1–5 rows, strides 1 and 2
// across (3: declined) and 1–3 down, same / valid / asymmetric padding, batch 2 (the window ring per image), every zero
// point of the grid, clamped and full-range outputs, edgec's fixed-point and TFLite's fp32 requantisation, random and
// extreme values (x −128 / 127, w −128 / −127 / 127: u = x ^ 0x80 = 0 and 255, the (zp_in + 128)·Σw fold at its
// largest) — on the relaxed build in its probed mode and forced to 'split', byte for byte against the TS integer
// reference and Node's simd and scalar builds. Pages load dist/browser/edgec.js (`npm run build` first).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { compileGraph } from '../../compiler/compile.ts';
import { evaluate } from '../../compiler/ir/reference.ts';
import { load } from '../../runtime/node.ts';
import { CaseGraph, ZPS, pick, q } from '../kernels/grid/case.ts';
import type { Attrs } from '../../compiler/ir/graph.ts';
import { skipSuite } from '../skip-suite.ts';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('../..', import.meta.url));
const bytesOf = (a: ArrayBufferView) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

interface Case {
  label: string;
  bundle: number[];
  input: number[];
  want: number[];
}

/** A depthwise conv x [n, h, w, c] int8, weights [c, 3, 3, 1]; `ext` sets x and w to their extremes. */
function dwCase(
  i: number,
  n: number,
  h: number,
  w: number,
  c: number,
  strides: number[],
  padding: Attrs['padding'],
  ext: boolean,
): Case {
  // a padding that leaves fewer than 3 rows or columns becomes 'same'
  const [pt, pl, pb, pr] =
    padding === 'valid' ? [0, 0, 0, 0] : padding === 'same' ? [1, 1, 1, 1] : (padding as number[]);
  if (h + pt! + pb! < 3 || w + pl! + pr! < 3) padding = 'same';
  const g = new CaseGraph(20261204 + i);
  const acts: Attrs[] = [{}, { activation: 'relu' }, { activation: 'clip', clip: [-0.5, 0.25] }];
  // even cases: one weight scale, so every channel shares one shift (the kernel's two-pixel fast loop); odd: spread
  const scales = Array.from({ length: c }, (_, k) => 0.002 * (1 + ((i % 2 ? (k + i) * 7 : i) % 9)));
  const x = g.i8('x', [n, h, w, c], q(0.03 * 2 ** ((i % 4) - 1), pick(ZPS, i)));
  const wt = g.constI8('w', [c, 3, 3, 1], scales);
  const y = g.node(
    'Conv2D',
    [x, wt, g.constI32('b', c, 20000)],
    { strides, padding, groups: c, ...acts[i % 3] },
    q(0.05 * 2 ** (((i * 5) % 9) - 4), pick(ZPS, i + 2)),
  );
  const r = g.done(y);
  if (i % 4 === 3) r.graph.int8Arithmetic = 'tflite';
  const xs = r.inputs.x as Int8Array;
  if (ext) {
    let s = i;
    const next = () => (s = (s * 1103515245 + 12345) >>> 0) >>> 16;
    xs.forEach((_, k) => (xs[k] = next() & 1 ? 127 : -128));
    const wd = r.graph.tensors.get(wt)!.data as Int8Array;
    wd.forEach((_, k) => (wd[k] = [-128, -127, 127][next() % 3]!));
  }
  const want = evaluate(r.graph, { x: xs })[y]!;
  return {
    label:
      `dw ${n}x${h}x${w}x${c} s${strides.join('x')} pad ${JSON.stringify(padding)}${ext ? ' extremes' : ''}` +
      `${r.graph.int8Arithmetic === 'tflite' ? ' fp32' : ''} #${i}`,
    bundle: Array.from(compileGraph(r.graph, { skipPasses: true }).bundle),
    input: Array.from(xs),
    want: bytesOf(Int8Array.from(want as ArrayLike<number>)),
  };
}

function cases(): Case[] {
  const out: Case[] = [];
  let i = 0;
  const pads: Attrs['padding'][] = ['same', 'valid', [1, 1, 1, 1], [0, 2, 1, 0], [2, 0, 0, 1]];
  // channels around 8 and 16 (and 4, which the simd kernel takes); widths around the 4-column block
  for (const c of [4, 8, 12, 16, 24, 32, 40])
    for (const w of [1, 3, 4, 5, 8, 9, 13])
      for (const [sh, sw] of [
        [1, 1],
        [2, 2],
        [1, 2],
        [3, 1],
      ]) {
        const h = 1 + (i % 5);
        out.push(dwCase(i, 1, h, w, c, [sh!, sw!], pick(pads, i), i % 5 === 4));
        i++;
      }
  // batch 2, stride 3 across (declined), wide rows (more than one ring turn per image), 96 channels
  for (const [n, h, w, c, s] of [
    [2, 5, 7, 16, 1],
    [2, 6, 9, 24, 2],
    [1, 4, 7, 16, 3],
    [1, 9, 33, 8, 1],
    [1, 8, 30, 96, 2],
    [1, 7, 14, 96, 1],
  ])
    for (const ext of [false, true]) {
      out.push(dwCase(i, n!, h!, w!, c!, [s!, s!], pick(pads, i), ext));
      i++;
    }
  return out;
}

if (!existsSync(CHROMIUM)) {
  skipSuite('browser/relaxed-dwconv', `${CHROMIUM}: apt-get install chromium`);
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
        return route.fulfill({ body: '<!doctype html><title>relaxed dwconv</title>', contentType: 'text/html' });
      return hit ? route.fulfill({ body: hit[0], contentType: hit[1] }) : route.fulfill({ status: 404 });
    });
    await page.goto('http://relaxed.test/');
  });
  test.after(async () => {
    await browser?.close();
  });

  test('depthwise 3×3 grid: Chromium relaxed (its mode) = relaxed split = TS reference = Node simd = Node scalar', async () => {
    const cs = cases();
    const got = await page.evaluate(async (all) => {
      const api = await import('http://relaxed.test/edgec/edgec.js' as string);
      const out = [];
      for (const c of all) {
        const bundle = Uint8Array.from(c.bundle);
        const runs = [];
        for (const opts of [{}, { relaxedDot: 'split' }]) {
          const m = await api.load(bundle, { build: 'relaxed', ...opts });
          const inp = m.info.inputs[0];
          const y = Object.values(m.run({ [inp.name]: new Int8Array(Int8Array.from(c.input).buffer) }))[0] as Int8Array;
          runs.push(Array.from(new Uint8Array(y.buffer, y.byteOffset, y.byteLength)));
        }
        out.push(runs);
      }
      return { mode: api.relaxedDotMode() as string, out };
    }, cs);
    console.log(`relaxed-dwconv: ${cs.length} cases, Chromium's dot '${got.mode}'`);
    assert.ok(got.mode !== 'split', "Chromium here classifies as 'usdot' or 'sdot', so the relaxed kernel ran");
    for (let j = 0; j < cs.length; j++) {
      const c = cs[j]!;
      const [mode, split] = got.out[j]!;
      assert.equal(mode, c.want, `${c.label}: relaxed (${got.mode}) ≠ TS reference`);
      assert.equal(split, c.want, `${c.label}: relaxed split ≠ TS reference`);
      for (const build of ['simd', 'scalar'] as const) {
        const m = await load(Uint8Array.from(c.bundle), { build });
        const y = Object.values(m.run({ [m.info.inputs[0]!.name]: Int8Array.from(c.input) }))[0]!;
        assert.equal(bytesOf(y), c.want, `${c.label}: Node ${build} ≠ TS reference`);
      }
    }
  });

  test.run();
}
